"""Batch scoring: a CSV or parquet file -> the `predictions` and `rejects` tables.

Uses what the online service uses and nothing from training: the packaged model
(`tabml.scoring.model.PackagedModel`: `models/model.onnx` and the metadata saved with it in
`models/tabml_service.bento`), whose one input path checks and normalises each chunk.

The file is planned into partitions (`tabml.tables`), which are read and scored
chunk by chunk (bounded memory) in this process or on Dask workers (`tabml.engine`), and
written in file order, in one transaction: SQLite (`sqlite_sink`) or PostgreSQL
(`postgres_sink`). The rows do not depend on the engine: partitions follow the file, and ids
follow the batch and the row.
"""

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tabml.batch import db as batch_db
from tabml.batch.batch_ids import BatchIds, batch_id_of
from tabml.batch.database_url import check_url
from tabml.batch.postgres_sink import AlreadyScored, PostgresSink, is_postgresql, stage_chunk
from tabml.batch.score_partition import ChunkScores, score_partition
from tabml.batch.scorer_process import can_fork, scored_in_child
from tabml.batch.sqlite_sink import SqliteSink, batch_values
from tabml.scoring.entity_tables import input_rules
from tabml.scoring.explain import Explainer
from tabml.scoring.model import PackagedModel
from tabml.scoring.packaged import PackagedModelError
from tabml.tables import PARTITION_BYTES, TablePlan, plan_table
from tabml.tools import run

CHUNK_ROWS = 100_000


def git_sha() -> str | None:
    """HEAD of the repository scoring the batch (None outside git)."""
    try:
        return run("git", ["rev-parse", "HEAD"], check=False).stdout.strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    rows: int
    rejected: int
    skipped: bool  # the same file was already scored by the same model
    seconds: float


def score_file(
    path: Path,
    url: str,
    model: PackagedModel,
    key: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int, int, float], None] | None = None,
    wait_seconds: float = batch_db.WAIT_SECONDS,
    explain_top: int | None = None,
    engine=None,
    model_files: tuple[Path, Path] | None = None,
    partition_bytes: int = PARTITION_BYTES,
    commit: str | None = None,
) -> BatchResult:
    """Score `path` into the database at `url` in one transaction; rerunning is a no-op.

    Another batch writing to the same SQLite file is waited for, up to `wait_seconds`.
    `explain_top`: also write the `explanations` table (that many contributions per row).
    `engine`: a `tabml.engine.Engine`; with a Dask client the partitions are scored on its
    workers, which load the model from `model_files` (ONNX, bento: paths they can read).
    `commit`: the commit of the model scored (a registered version's, after a rollback);
    HEAD when not given.

    Raises:
        DatabaseUrlError: `url` is not a SQLite file or a PostgreSQL database.
        TableError: the file cannot be read, or changed while it was read.
        DatabaseBusyError: the database stayed locked, or another run took the same ids.
    """
    start = time.perf_counter()
    check_url(url)  # before any work: another database, a typo, an in-memory SQLite
    # entity features are joined from their tables (score_partition), not read from the file
    needed = [r.name for r in input_rules(model.rules, model.metadata.entities)]
    needed += [key] if key and key not in needed else []
    plan = plan_table(path, needed, partition_bytes)
    batch = BatchIds.start(batch_id_of(plan.sha256, model.version))
    values = batch_values(batch, plan, model, commit or git_sha())
    sink_type = PostgresSink if is_postgresql(url) else SqliteSink
    done = rejected = 0
    try:
        with sink_type(url, model, key, wait_seconds) as sink:
            if not sink.begin(values, explain_top):
                raise AlreadyScored(batch.batch_id)
            distributed = engine is not None and engine.distributed
            if distributed:
                chunks = _on_dask(engine, plan, model, model_files, batch, key, chunk_rows,
                                  explain_top, sink.staged)  # fmt: skip
            else:
                chunks = _in_process(plan, model, batch, key, chunk_rows, explain_top, sink.staged)
            done, rejected = _write(chunks, sink, plan.rows, progress, start)
            plan.check_unchanged()
            sink.finish(done, rejected)
    except AlreadyScored:
        return BatchResult(batch.batch_id, 0, 0, True, time.perf_counter() - start)
    return BatchResult(batch.batch_id, done, rejected, False, time.perf_counter() - start)


def _in_process(plan: TablePlan, model, batch, key, chunk_rows, explain_top, staged):
    """The chunks in file order; from a forked child (`scorer_process`) when there are several,
    so the next one is scored while this process writes."""
    explain = None
    if explain_top:
        explain = (Explainer(model), explain_top)

    def chunks() -> Iterator[ChunkScores]:
        for part in plan.partitions:
            for scores in score_partition(part, plan.parquet, model, batch, key, chunk_rows,
                                          explain):  # fmt: skip
                yield stage_chunk(scores) if staged else scores

    if plan.rows > chunk_rows and can_fork():
        return scored_in_child(chunks)
    return chunks()


def _on_dask(engine, plan, model, model_files, batch, key, chunk_rows, explain_top, staged):
    from tabml.batch.on_dask import scored_on_dask

    if model_files is None:
        raise PackagedModelError("scoring on Dask needs the model's files (model_files=...)")
    files = (str(Path(model_files[0]).absolute()), str(Path(model_files[1]).absolute()))
    args = (plan.parquet, (*files, model.version), batch, key, chunk_rows, explain_top, staged)
    return scored_on_dask(engine.client, plan.partitions, engine.workers, *args)


def _write(
    chunks: Iterator[ChunkScores], sink, total: int, progress, start: float
) -> tuple[int, int]:
    """Write every chunk, in file order, as it comes; the rows read and rejected.

    In this thread, not a writer thread: sqlite3 takes the GIL back for every row it binds,
    so a writer thread and the scoring took turns and both ran slower (measured: see
    docs/production-loop.md). A forked child or Dask workers score the next chunks meanwhile.
    """
    done = rejected = 0
    for scores in chunks:
        sink.write(scores)
        done, rejected = done + scores.read, rejected + len(scores.rejects)
        if progress:
            progress(done, total, rejected, time.perf_counter() - start)
    return done, rejected


def print_progress(done: int, total: int, rejected: int, seconds: float) -> None:
    """One progress line per chunk on stderr: rows done/total, rows/s, rejects."""
    share = f" ({100 * done / total:.0f}%)" if total else ""
    print(
        f"batch: {done:,}/{total:,} rows{share}, {done / max(seconds, 1e-9):,.0f} rows/s, "
        f"{rejected:,} rejected",
        file=sys.stderr,
        flush=True,
    )
