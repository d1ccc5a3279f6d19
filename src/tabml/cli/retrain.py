"""Continuous-training commands: harvest (labelled production rows) and retrain."""

from pathlib import Path
from typing import Annotated

import typer

from tabml.cli import command, fail

ExcludeSource = Annotated[
    list[str] | None,
    typer.Option(help="leave out labels of a source (http also leaves out http:<name>)"),
]


@command()
def harvest(exclude_source: ExcludeSource = None) -> None:
    """Export the labelled production rows to data/production/labelled.parquet (dvc add)."""
    from tabml.params import load_params
    from tabml.retrain.harvest import harvest as run_harvest
    from tabml.serving.feedback import feedback_dir
    from tabml.serving.request_log import log_dir

    profile = load_params().data.profile
    done = run_harvest(log_dir(), feedback_dir(), profile, Path(), tuple(exclude_source or ()))
    for reject in done.rejects[:20]:
        typer.echo(f"  rejected {reject['prediction_id']}: {reject['reason']}")
    typer.echo(done.summary())
    typer.echo(
        "harvest: next, make retrain: it trains a challenger on them on its own branch and "
        "compares it with the prod champion (this harvest may stay uncommitted); or train on "
        f"them here: dvc repro, then git add {done.path}.dvc configs/ dvc.lock and commit"
    )


@command()
def retrain(
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-S", help="params.yaml override for the challenger (key=value)"),
    ] = None,
    version: Annotated[str | None, typer.Option(help="version to register")] = None,
    promote: Annotated[bool, typer.Option(help="register + promote a winner")] = True,
    out: Annotated[Path, typer.Option(help="where decision.json/.md go")] = Path("reports/retrain"),
    exclude_source: ExcludeSource = None,
    paired: Annotated[
        str | None,
        typer.Option(help="also require the paired gain interval above zero: 1 or a metric"),
    ] = None,
) -> None:
    """Train a challenger on production labels; promote it only if it wins (exit 3: kept)."""
    from tabml.retrain.loop import KEPT, run_retrain
    from tabml.serving.feedback import feedback_dir
    from tabml.serving.request_log import log_dir

    result = run_retrain(
        Path(), log_dir().resolve(), feedback_dir().resolve(), set_ or [], version, promote, out,
        tuple(exclude_source or ()), typer.echo, paired,
    )  # fmt: skip
    for line in result.lines:
        typer.echo(line)
    if result.code == KEPT:
        raise fail("retrain: KEPT the champion (exit code 3): see the reasons above", KEPT)
