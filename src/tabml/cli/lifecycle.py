"""Lifecycle commands: serve, bootstrap, accept-data, batch, drift, register, promote, rollback."""

import functools
import json
from pathlib import Path
from typing import Annotated

import typer

from tabml import paths
from tabml.batch.database_url import DB_ENV
from tabml.cli import command, fail
from tabml.errors import TabmlError, one_line

# `drift` exits with this when a feature's verdict is DRIFT (errors exit 1), so a scheduled
# job or CI step fails on drift without parsing the report.
DRIFT_EXIT = 3


@command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 3000,
    archive: Annotated[Path, typer.Option(help="exported bento")] = paths.BENTO_ARCHIVE,
    stale_ok: Annotated[bool, typer.Option(help="serve a model of another profile/run")] = False,
    shadow: Annotated[
        str | None, typer.Option(help="<version>[:share]: also scored, off the answer's path")
    ] = None,
    canary: Annotated[
        str | None, typer.Option(help="<version>:<share>: answers that share of records")
    ] = None,
) -> None:
    """Serve the packaged model (the exported bento) with `bentoml serve`."""
    from tabml.cli.stale_model import check_packaged_model
    from tabml.scoring.metadata import read_metadata
    from tabml.scoring.packaged import PackagedModelError, read_model
    from tabml.serving.launch import serve as launch

    if not archive.exists():
        raise PackagedModelError(f"{archive} does not exist: run `make repro` first")
    from tabml.registry import version_names

    info, _ = read_model(archive)
    tag = f"{info['name']}:{info['version']}"
    flag = "--stale-ok (make serve ALLOW_STALE=1)"
    warning = check_packaged_model(
        tag, read_metadata(info["metadata"], tag), stale_ok, "serve", flag
    )
    if warning:
        typer.echo(warning, err=True)
    from tabml.cli.challenger_specs import export

    for line in export(shadow, canary):  # docs/serving.md, "Shadow and canary"
        typer.echo(f"serve: {line}")
    launch(archive, host, port, version_names().get(tag))


@command()
def bootstrap(
    csv: Annotated[Path, typer.Argument(help="your CSV file, inside the repository")],
    name: Annotated[str, typer.Option(help="profile name (configs/<name>.yaml)")],
    target: Annotated[str, typer.Option(help="the column to predict")],
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="a column to make categorical whatever it holds (repeatable)"),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="overwrite an existing profile or schema that differs")
    ] = False,
) -> None:
    """Write a first dataset profile and pandera schema from your CSV, for you to review.

    An existing configs/<name>.yaml or .schema.yaml that differs is not overwritten (the error
    says what differs) unless --force.
    """
    from tabml.data.profile import load_profile
    from tabml.data.profile_draft import write_profile

    summary = write_profile(csv, name, target, categorical=categorical or (), force=force)
    for line in summary.lines():
        typer.echo(line)
    from tabml.model.families import AUTO, families_for
    from tabml.model.tasks import TASKS
    from tabml.params import Params

    task = load_profile(name).task
    typer.echo(f"wrote configs/{name}.yaml and configs/{name}.schema.yaml: review them")
    typer.echo(f"task: {task} (inferred from {target!r}; change `task:` in the profile if wrong)")
    # train.model names a family: the default one may have no estimator for this task.
    families = families_for(task)
    family = (
        ""
        if Params().train.model in (AUTO, *families)
        else f", `train.model: {TASKS[task].default_family}` (a {task} family: "
        f"{', '.join(families)})"
    )
    typer.echo(
        f"next: in params.yaml set `data.profile: {name}`{family} and `sources: [{csv}]` "
        "(so DVC notices when the file changes), then run `make repro`"
    )


@command("accept-data")
def accept_data(
    profile: Annotated[str | None, typer.Option(help="profile (default: params.yaml's)")] = None,
) -> None:
    """Accept changed source data: pin the source file's new sha256 in the dataset profile."""
    from tabml.data.accept import accept_data as accept
    from tabml.params import load_params

    accepted = accept(profile or load_params().data.profile)
    if not accepted.changed:
        typer.echo(f"{accepted.source} already matches {accepted.profile_file}: nothing to do")
        return
    typer.echo(
        f"accepted {accepted.source}: {accepted.profile_file} now pins sha256 "
        f"{accepted.current} (was {accepted.previous}); run `make repro` to retrain on it"
    )


@command()
def drift(
    input: Annotated[Path | None, typer.Option(help="CSV/parquet of production inputs")] = None,
    out: Annotated[Path, typer.Option(help="where the report files go")] = paths.DRIFT_DIR,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift/--no-fail-on-drift",
            help=f"exit {DRIFT_EXIT} when a feature's verdict is DRIFT (the report is written)",
        ),
    ] = True,
) -> None:
    """Compare production inputs (a file, or the request log) with the training statistics.

    Exits 3 when a feature drifts (unless --no-fail-on-drift), 1 on an error, else 0.
    """
    from tabml.monitoring.drift import drift_report
    from tabml.monitoring.drift_files import read_inputs, write_report
    from tabml.params import load_params
    from tabml.scoring.metadata import read_training_stats
    from tabml.serving.request_log import log_dir

    limits = load_params().drift
    stats = paths.TRAINING_STATS
    training = read_training_stats(json.loads(stats.read_text()), str(stats))
    inputs = read_inputs(input)
    report = drift_report(inputs.frame, training, limits)
    source = str(input) if input else f"{log_dir()}/"
    for line in write_report(report, source, out):
        typer.echo(line)
    drifted = ", ".join(report["drifted"]) or "none"
    typer.echo(
        f"drift: {report['rows']} rows from {source}{inputs.note()}; drifted: {drifted} -> {out}/"
    )
    if report["drifted"] and fail_on_drift:
        typer.echo(
            f"drift: exit {DRIFT_EXIT} because {len(report['drifted'])} feature(s) drifted "
            "(--no-fail-on-drift, or make drift FAIL_ON_DRIFT=0, to exit 0)",
            err=True,
        )
        raise typer.Exit(DRIFT_EXIT)


@command()
def register(
    version: Annotated[str, typer.Argument(help="SemVer, e.g. v1.0.0")],
    message: Annotated[str | None, typer.Option(help="tag annotation")] = None,
) -> None:
    """Register HEAD's model as VERSION (gto register), if the metric gate passes."""
    from tabml.registry import register as register_version
    from tabml.registry.versions import packaged_tag
    from tabml.tools import git

    tag = register_version(version, message)
    model = packaged_tag()
    typer.echo(
        f"registered {tag} at {git(['rev-parse', '--short', 'HEAD']).strip()}"
        + (f" (model {model})" if model else "")
    )


@command()
def promote(
    version: Annotated[str, typer.Argument(help="a registered version")],
    stage: Annotated[str, typer.Option(help="stage to assign")] = "prod",
    paired: Annotated[
        str | None,
        typer.Option(help="require the paired interval vs the champion above zero: 1 or a metric"),
    ] = None,
) -> None:
    """Assign STAGE to a registered VERSION (gto assign), if its metrics pass the gate."""
    from tabml.registry import promote as promote_version

    if paired:  # shadow or canary results first (reports/monitor/paired.json)
        from tabml.registry.paired_gate import check_paired

        typer.echo(check_paired(version, None if paired in ("1", "yes", "true") else paired))
    typer.echo(promote_version(version, stage))


@command()
def rollback(
    version: Annotated[str, typer.Argument(help="a registered version")],
    force: Annotated[
        bool, typer.Option(help="overwrite uncommitted configuration (dvc.yaml, params, ...)")
    ] = False,
    stage: Annotated[str, typer.Option(help="the stage the version is assigned to")] = "prod",
) -> None:
    """Put VERSION's model and configuration in the workspace and in STAGE (HEAD stays)."""
    from tabml.registry import rollback as rollback_to
    from tabml.registry.rollback import CONFIGURATION

    done = rollback_to(version, force, stage)
    for path in done.outputs:
        typer.echo(f"  restored {path}")
    typer.echo(done.assignment)
    if done.head_version == version:
        typer.echo(
            f"rolled forward to {version}: the workspace is HEAD's again, {stage} = {version}"
        )
        return
    back = f"make rollback VERSION={done.head_version}" if done.head_version else (
        f"git checkout HEAD -- {' '.join(CONFIGURATION)} && dvc checkout")  # fmt: skip
    typer.echo(
        f"rolled back to {version}: the outputs and {', '.join(CONFIGURATION)} are "
        f"{version}'s (make serve and make batch use its model), {stage} = {version}; HEAD is "
        f"unchanged. Roll forward: {back}"
    )


@command()
def batch(
    input: Annotated[Path, typer.Argument(help="CSV or parquet file to score")],
    db: Annotated[
        str,
        typer.Option(
            help="sqlite:///file.db or postgresql://user@host/db (or TABML_DB)",
            envvar=DB_ENV,
            show_envvar=False,
        ),
    ] = "sqlite:///predictions.db",
    chunk_rows: Annotated[
        int, typer.Option(help="rows per chunk (bounds memory)", min=1)
    ] = 100_000,
    wait: Annotated[
        float,
        typer.Option(help="seconds to wait for another batch writing to the database", min=0),
    ] = 600.0,
    stale_ok: Annotated[bool, typer.Option(help="use a model of another profile/run")] = False,
    explain: Annotated[
        bool, typer.Option(help="also write per-row feature contributions (`explanations`)")
    ] = False,
    explain_top: Annotated[int, typer.Option(min=1, help="contributions per row")] = 3,
    partition_bytes: Annotated[
        int, typer.Option(help="bytes of CSV per partition (a Dask task)", min=1)
    ] = 4 << 20,
    shadow: Annotated[
        str | None, typer.Option(help="<version>: also score every row with it, as its batch")
    ] = None,
) -> None:
    """Score a file with the packaged model into `predictions` and `rejects` (+ `explanations`).

    Runs in process, or on Dask when DASK_SCHEDULER_ADDRESS or TABML_DASK_WORKERS is set.
    """
    from tabml.batch.database_url import check_url
    from tabml.cli.stale_model import check_packaged_model
    from tabml.data.profile import load_profile
    from tabml.params import load_params
    from tabml.registry import named, registered_versions, version_names
    from tabml.scoring.model import load_packaged

    check_url(db)  # one line before any work, the password not in it
    key = load_profile(load_params().data.profile).key
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    flag = "--stale-ok (make batch ... ALLOW_STALE=1)"
    warning = check_packaged_model(model.version, model.metadata, stale_ok, "score with", flag)
    if warning:
        typer.echo(warning, err=True)
    # Rows name the commit of the model scored: its registered version's (HEAD after a
    # rollback is another version's), else HEAD.
    names = version_names()
    scored = [v.commit for v in registered_versions() if v.model_tag == model.version] \
        if names else []  # fmt: skip
    commit = scored[-1] if scored else None
    files = (paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    score = functools.partial(_score_batch, input, db, key, chunk_rows, wait, explain_top
                              if explain else None, partition_bytes)  # fmt: skip
    second = None
    if shadow:  # the same rows with a second model, as its own batch (docs/serving.md)
        from tabml.cli.challenger_specs import resolve, unpacked

        found = resolve(shadow, "SHADOW")  # before any row is written: a bad one fails first
        if found.share < 1.0:
            raise fail(f"SHADOW={shadow}: batch scoring scores every row; give no share")
        second = (found.name, unpacked(found.archive))
    score(model, files, commit, named(model.version, names))
    if second is not None:
        name, shadow_files = second
        shadow_model = load_packaged(*shadow_files)
        score(shadow_model, shadow_files, None, f"shadow {name} ({shadow_model.version})")


def _score_batch(input, db, key, chunk_rows, wait, top, partition_bytes, model, files, commit,
                 shown) -> None:  # fmt: skip
    """One model's batch of `input` into `db`, and its line."""
    from sqlalchemy.exc import SQLAlchemyError

    from tabml.batch.database_url import check_url, scrub
    from tabml.batch.score import print_progress, score_file
    from tabml.engine import configured, open_engine

    database = check_url(db)
    try:
        # In process (the default) says nothing: its output stays as it was before Dask.
        with open_engine(quiet=configured() == "in-process") as engine:
            result = score_file(input, db, model, key, chunk_rows, print_progress, wait, top,
                                engine, files, partition_bytes, commit)  # fmt: skip
    except SQLAlchemyError as err:  # a driver's message may quote the URL, or its password
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise fail(scrub(one_line(f"database {db}: {first}"), db)) from None
    except TabmlError as err:
        raise fail(scrub(one_line(err), db)) from None
    if result.skipped:
        typer.echo(
            f"batch {result.batch_id}: {input} was already scored by {shown}; nothing written"
        )
        return
    typer.echo(
        f"batch {result.batch_id}: {result.rows - result.rejected:,} predictions, "
        f"{result.rejected:,} rejects from {input} ({shown}) -> {database.shown} "
        f"in {result.seconds:.1f} s"
    )
