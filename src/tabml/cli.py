"""Production-loop commands behind the Makefile: `python -m tabml.cli --help`."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tabml import paths

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def main() -> None:
    """Drift reports and the model registry (see the README's "Production loop")."""


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(1)


@app.command()
def drift(
    input: Annotated[Path | None, typer.Option(help="CSV/parquet of production inputs")] = None,
    out: Annotated[Path, typer.Option(help="where the report files go")] = paths.DRIFT_DIR,
) -> None:
    """Compare production inputs (a file, or the request log) with the training profile."""
    from tabml.drift import DriftInputError, drift_report
    from tabml.drift_report import read_inputs, write_report
    from tabml.params import ParamsError, load_params

    try:
        limits = load_params().drift
        training = json.loads(paths.TRAINING_PROFILE.read_text())
        frame = read_inputs(input)
        report = drift_report(frame, training, limits)
    except (DriftInputError, ParamsError, FileNotFoundError) as err:
        _fail(err)
    source = str(input) if input else f"{paths.REQUEST_LOG_DIR}/"
    for line in write_report(report, source, out):
        typer.echo(line)
    drifted = ", ".join(report["drifted"]) or "none"
    typer.echo(f"drift: {report['rows']} rows from {source}; drifted: {drifted} -> {out}/")


if __name__ == "__main__":
    sys.exit(app())
