"""`make dashboard`: the model's life on one static, offline HTML page."""

from pathlib import Path
from typing import Annotated

import typer

from tabml.cli import command


@command()
def dashboard(
    out: Annotated[Path, typer.Option(help="folder of the site (index.html)")] = Path(
        "reports/site"
    ),
    experiments: Annotated[
        bool, typer.Option(help="include the experiments table (runs `dvc exp show`)")
    ] = True,
) -> None:
    """Write the dashboard (registry timeline, live and estimated metrics, drift, cards)."""
    from tabml.dashboard.build import build_site

    page = build_site(Path("."), out, experiments=experiments)
    typer.echo(f"dashboard: {page} (open it in a browser; it needs no server or network)")
