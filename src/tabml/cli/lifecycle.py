"""Lifecycle commands: serve, bootstrap, batch, drift, register, promote, rollback."""

import json
from pathlib import Path
from typing import Annotated

import typer

from tabml import paths
from tabml.cli import command, fail
from tabml.errors import one_line


@command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 3000,
    archive: Annotated[Path, typer.Option(help="exported bento")] = paths.BENTO_ARCHIVE,
) -> None:
    """Serve the packaged model (the exported bento) with `bentoml serve`."""
    from tabml.serving.launch import serve as launch

    launch(archive, host, port)


@command()
def bootstrap(
    csv: Annotated[Path, typer.Argument(help="your CSV file, inside the repository")],
    name: Annotated[str, typer.Option(help="profile name (configs/<name>.yaml)")],
    target: Annotated[str, typer.Option(help="the column to predict")],
) -> None:
    """Write a first dataset profile and pandera schema from your CSV, for you to review."""
    from tabml.data.bootstrap import write_profile

    write_profile(csv, name, target)
    typer.echo(f"wrote configs/{name}.yaml and configs/{name}.schema.yaml: review them")


@command()
def drift(
    input: Annotated[Path | None, typer.Option(help="CSV/parquet of production inputs")] = None,
    out: Annotated[Path, typer.Option(help="where the report files go")] = paths.DRIFT_DIR,
) -> None:
    """Compare production inputs (a file, or the request log) with the training statistics."""
    from tabml.monitoring.drift import drift_report
    from tabml.monitoring.drift_files import read_inputs, write_report
    from tabml.params import load_params
    from tabml.serving.request_log import log_dir

    limits = load_params().drift
    training = json.loads(paths.TRAINING_STATS.read_text())
    frame = read_inputs(input)
    report = drift_report(frame, training, limits)
    source = str(input) if input else f"{log_dir()}/"
    for line in write_report(report, source, out):
        typer.echo(line)
    drifted = ", ".join(report["drifted"]) or "none"
    typer.echo(f"drift: {report['rows']} rows from {source}; drifted: {drifted} -> {out}/")


@command()
def register(
    version: Annotated[str, typer.Argument(help="SemVer, e.g. v1.0.0")],
    message: Annotated[str | None, typer.Option(help="tag annotation")] = None,
) -> None:
    """Register HEAD's model as VERSION (gto register), if the metric gate passes."""
    from tabml.registry import register as register_version
    from tabml.tools import git

    tag = register_version(version, message)
    typer.echo(f"registered {tag} at {git(['rev-parse', '--short', 'HEAD']).strip()}")


@command()
def promote(
    version: Annotated[str, typer.Argument(help="a registered version")],
    stage: Annotated[str, typer.Option(help="stage to assign")] = "prod",
) -> None:
    """Assign STAGE to a registered VERSION (gto assign), if its metrics pass the gate."""
    from tabml.registry import promote as promote_version

    typer.echo(promote_version(version, stage))


@command()
def rollback(
    version: Annotated[str, typer.Argument(help="a registered version")],
    force: Annotated[bool, typer.Option(help="overwrite uncommitted dvc.yaml/dvc.lock")] = False,
) -> None:
    """Check VERSION's outputs out of the DVC cache (HEAD stays; dvc.yaml/lock are VERSION's)."""
    from tabml.registry import rollback as rollback_to

    for path in rollback_to(version, force):
        typer.echo(f"  restored {path}")
    typer.echo(
        f"rolled back to {version}: workspace outputs are {version}'s; HEAD is unchanged, "
        "dvc.yaml/dvc.lock are modified. Undo: git checkout HEAD -- dvc.yaml dvc.lock && "
        "dvc checkout"
    )


@command()
def batch(
    input: Annotated[Path, typer.Argument(help="CSV or parquet file to score")],
    db: Annotated[str, typer.Option(help="SQLAlchemy URL")] = "sqlite:///predictions.db",
    chunk_rows: Annotated[
        int, typer.Option(help="rows per chunk (bounds memory)", min=1)
    ] = 100_000,
    wait: Annotated[
        float,
        typer.Option(help="seconds to wait for another batch writing to the database", min=0),
    ] = 600.0,
) -> None:
    """Score a file with the packaged model into the `predictions` and `rejects` tables."""
    from sqlalchemy.exc import SQLAlchemyError

    from tabml.batch.score import print_progress, score_file
    from tabml.data.profile import load_profile
    from tabml.params import load_params
    from tabml.scoring.packaged import load_packaged

    key = load_profile(load_params().data.profile).key
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    try:
        result = score_file(input, db, model, key, chunk_rows, print_progress, wait)
    except SQLAlchemyError as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise fail(one_line(f"database {db}: {first}")) from None
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
