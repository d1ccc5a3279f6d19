"""Commands behind the Makefile: `python -m tabml.cli --help`."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tabml import experiments_cli, paths

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def main() -> None:
    """Batch scoring, drift, the model registry, experiments and review (README: "Production loop",
    "Experiments and review")."""


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
    from tabml.request_log import log_dir

    try:
        limits = load_params().drift
        training = json.loads(paths.TRAINING_PROFILE.read_text())
        frame = read_inputs(input)
        report = drift_report(frame, training, limits)
    except (DriftInputError, ParamsError, FileNotFoundError) as err:
        _fail(err)
    source = str(input) if input else f"{log_dir()}/"
    for line in write_report(report, source, out):
        typer.echo(line)
    drifted = ", ".join(report["drifted"]) or "none"
    typer.echo(f"drift: {report['rows']} rows from {source}; drifted: {drifted} -> {out}/")


@app.command()
def register(
    version: Annotated[str, typer.Argument(help="SemVer, e.g. v1.0.0")],
    message: Annotated[str | None, typer.Option(help="tag annotation")] = None,
) -> None:
    """Register HEAD's model as VERSION (gto register), if the metric gate passes."""
    from tabml.registry import RegistryError
    from tabml.registry import register as register_version

    try:
        tag = register_version(version, message)
    except RegistryError as err:
        _fail(err)
    typer.echo(f"registered {tag} at {_short_head()}")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="a registered version")],
    stage: Annotated[str, typer.Option(help="stage to assign")] = "prod",
) -> None:
    """Assign STAGE to a registered VERSION (gto assign), if its metrics pass the gate."""
    from tabml.registry import RegistryError
    from tabml.registry import promote as promote_version

    try:
        typer.echo(promote_version(version, stage))
    except RegistryError as err:
        _fail(err)


@app.command()
def rollback(
    version: Annotated[str, typer.Argument(help="a registered version")],
    force: Annotated[bool, typer.Option(help="overwrite uncommitted dvc.yaml/dvc.lock")] = False,
) -> None:
    """Check VERSION's outputs out of the DVC cache (HEAD stays; dvc.yaml/lock are VERSION's)."""
    from tabml.registry import RegistryError
    from tabml.registry import rollback as rollback_to

    try:
        changed = rollback_to(version, force)
    except RegistryError as err:
        _fail(err)
    for path in changed:
        typer.echo(f"  restored {path}")
    typer.echo(
        f"rolled back to {version}: workspace outputs are {version}'s; HEAD is unchanged, "
        "dvc.yaml/dvc.lock are modified. Undo: git checkout HEAD -- dvc.yaml dvc.lock && "
        "dvc checkout"
    )


@app.command()
def batch(
    input: Annotated[Path, typer.Argument(help="CSV or parquet file to score")],
    db: Annotated[str, typer.Option(help="SQLAlchemy URL")] = "sqlite:///predictions.db",
    chunk_rows: Annotated[int, typer.Option(help="rows per chunk (bounds memory)")] = 100_000,
) -> None:
    """Score a file with the packaged model into the `predictions` and `rejects` tables."""
    from sqlalchemy.exc import SQLAlchemyError

    from tabml.batch import BatchInputError, load_packaged, print_progress, score_file
    from tabml.batch_db import SchemaMismatchError
    from tabml.dataset import ProfileError, load_profile
    from tabml.params import ParamsError, load_params

    try:
        key = load_profile(load_params().data.profile).key
        model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
        result = score_file(input, db, model, key, chunk_rows, print_progress)
    except (BatchInputError, SchemaMismatchError, ParamsError, ProfileError) as err:
        _fail(err)
    except SQLAlchemyError as err:
        _fail(ValueError(f"database {db}: {str(err).splitlines()[0]}"))
    if result.skipped:
        typer.echo(
            f"batch {result.batch_id}: {input} was already scored by {model.version}; "
            "nothing written"
        )
        return
    typer.echo(
        f"batch {result.batch_id}: {result.rows - result.rejected:,} predictions, "
        f"{result.rejected:,} rejects from {input} ({model.version}) -> {db} "
        f"in {result.seconds:.1f} s"
    )


def _short_head() -> str:
    from tabml.registry import git

    return git("rev-parse", "--short", "HEAD").strip()


# Experiments and review: check-queue, sweep, best, report, gate (tabml.experiments_cli)
experiments_cli.register(app)

if __name__ == "__main__":
    sys.exit(app())
