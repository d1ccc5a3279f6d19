"""Monitoring commands: feedback (import labels from a file) and monitor (live metrics)."""

from pathlib import Path
from typing import Annotated

import typer

from tabml import paths
from tabml.batch.database_url import DB_ENV
from tabml.cli import command, fail


@command()
def feedback(
    input: Annotated[Path, typer.Argument(help="CSV/parquet with prediction_id,label columns")],
    archive: Annotated[
        Path, typer.Option(help="exported bento (its classes, or a regression model)")
    ] = paths.BENTO_ARCHIVE,
    max_bytes: Annotated[
        int | None,
        typer.Option(min=1, help="the feedback log's limit (default $TABML_FEEDBACK_MAX_BYTES)"),
    ] = None,
) -> None:
    """Import true labels of earlier predictions (online or batch) into the feedback log.

    All or nothing: a file that would take the log past its limit is refused whole.
    """
    from tabml.monitoring.label_files import import_labels
    from tabml.monitoring.model_versions import packaged_model
    from tabml.serving.feedback import feedback_dir

    _, metadata = packaged_model(archive)
    count = import_labels(input, metadata.classes or [], max_bytes=max_bytes)
    typer.echo(f"feedback: {count:,} labels from {input} -> {feedback_dir()}/")


@command()
def monitor(
    since: Annotated[str | None, typer.Option(help="ISO time or a duration back (7d)")] = None,
    window: Annotated[
        str | None, typer.Option(help="window length (default monitor.window)")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="URL of batch predictions (or TABML_DB)", envvar=DB_ENV),
    ] = None,
    out: Annotated[Path, typer.Option(help="where the report files go")] = paths.MONITOR_DIR,
    archive: Annotated[Path, typer.Option(help="exported bento")] = paths.BENTO_ARCHIVE,
    exclude_source: Annotated[
        list[str] | None,
        typer.Option(help="leave out labels of a source (http also leaves out http:<name>)"),
    ] = None,
) -> None:
    """Live metrics per model version and window from labelled predictions; exit 3 on alert.

    Versions that no longer serve (replaced by a later one, not in prod) are reported but
    do not alert.
    """
    from tabml.model.gates import load_gates
    from tabml.monitoring.alerts import ALERT_EXIT_CODE
    from tabml.monitoring.monitor import MonitorInputs, run_monitor
    from tabml.monitoring.monitor_files import labels_line
    from tabml.params import load_params
    from tabml.serving.feedback import feedback_dir
    from tabml.serving.request_log import log_dir

    _arrow_memory_pool()
    names, in_stage = registry_view()
    inputs = MonitorInputs(log_dir(), feedback_dir(), archive, db,
                           exclude_sources=tuple(exclude_source or ()), names=names,
                           in_stage=in_stage)  # fmt: skip
    # The dataset's floors and ceilings (profile gates, params.yaml overriding per key), as
    # `make gate` applies them (a regression profile's come from `regression.gates`).
    result = run_monitor(inputs, load_params(), out, window, since, load_gates().gates)
    for line in result.lines:
        typer.echo(line)
    join = result.report["join"]
    before = f", {join['before_since']:,} before SINCE" if since else ""
    typer.echo(
        f"monitor: {result.report['predictions']:,} predictions, {join['matched']:,} labelled, "
        f"{join['unmatched']:,} unmatched labels{before}, {result.report['skipped_lines']:,} "
        f"bad lines skipped -> {out}/"
    )
    typer.echo("monitor: " + labels_line(result.report))
    _paired(inputs, out)
    if result.alert:
        raise fail("monitor: ALERT (exit code 3): see the lines above", ALERT_EXIT_CODE)


def _paired(inputs, out: Path) -> None:
    """Shadow and canary models vs the served one on the same labelled requests, when any
    scored (`make serve SHADOW=/CANARY=`) -> paired.json and a line per pair."""
    from tabml.monitoring import paired
    from tabml.monitoring.model_versions import packaged_model
    from tabml.scoring.task import task_for
    from tabml.serving.challengers import log_dir

    if not log_dir().is_dir():
        return
    champion, metadata = packaged_model(inputs.archive)
    found = paired.paired_report(
        inputs.requests, log_dir(), inputs.feedback, task_for(metadata), inputs.names, champion
    )
    written = paired.write(found, out)
    for line in paired.lines(found):
        typer.echo(f"monitor: {line}")
    typer.echo(f"monitor: paired comparison -> {written}")


def registry_view() -> tuple[dict[str, str], frozenset[str]]:
    """Model tag -> registry version, and the model tag of the version in prod (never
    retired); empty outside a registry."""
    from gto.exceptions import GTOException

    from tabml.registry import current_in_stage, registered_versions, version_names
    from tabml.tools import CommandError

    names = version_names()
    if not names:
        return {}, frozenset()
    try:
        prod = current_in_stage("prod")
    except (CommandError, GTOException, OSError):
        return names, frozenset()
    tags = {v.model_tag for v in registered_versions() if v.version == prod and v.model_tag}
    return names, frozenset(tags)


def _arrow_memory_pool() -> None:
    """jemalloc for pyarrow when it has it and no pool was chosen: parsing a large log with
    the default pool spends about twice the kernel time on page faults (docs/benchmarks.md).

    Freed memory goes back to the system soon (jemalloc's decay 1 s; glibc's malloc with a
    fixed 4 MiB mmap threshold): the log is parsed a group at a time and only a compact
    copy of each group is kept, so otherwise the parsers' freed buffers would stay mapped
    between the kept pieces (at ten million rows about 1 GiB more peak memory). Not at
    once: a decay of 0 and a 256 KiB threshold cost 6 s more kernel time at ten million
    rows (every group's buffers faulted in afresh) for 60 MiB less peak memory."""
    import contextlib
    import ctypes
    import os

    import pyarrow as pa

    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        with contextlib.suppress(NotImplementedError):  # a pyarrow build without jemalloc
            pa.set_memory_pool(pa.jemalloc_memory_pool())
            pa.jemalloc_set_decay_ms(1000)
    with contextlib.suppress(OSError, AttributeError):  # glibc only (musl, macOS: skipped)
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 4 * 2**20)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt: blocks this large get their own mapping
