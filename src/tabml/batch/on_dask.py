"""Batch scoring on Dask workers: one pure task per partition, results consumed in file order.

Each task reads, checks and scores one partition (`tabml.batch.score_partition`) on a worker
and returns its chunks (for PostgreSQL already as COPY text). A worker loads the packaged
model once (cached by file path; onnxruntime with one thread, as everywhere) and checks it is
the model the client scores with. The client keeps a window of tasks in flight and takes
their results in partition order, so the database sees the same rows in the same order as in
process, and memory stays bounded by the window, whatever the file's size.

A task is pure (its key names the batch and the partition): a worker killed mid-batch loses
only its running tasks, which the scheduler runs again elsewhere. A task that fails on
`distributed.scheduler.allowed-failures` workers fails the batch, and nothing is written.
"""

from collections import deque
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from tabml.batch.batch_ids import BatchIds
from tabml.batch.score_partition import ChunkScores, score_partition
from tabml.errors import TabmlError
from tabml.scoring.explain import Explainer
from tabml.scoring.model import PackagedModel, load_packaged
from tabml.scoring.packaged import PackagedModelError
from tabml.tables import Partition


class BatchWorkerError(TabmlError, RuntimeError):
    """The Dask workers could not score a partition (died too often, other model files)."""


@lru_cache(maxsize=4)
def worker_model(onnx_path: str, bento_path: str) -> PackagedModel:
    """The packaged model, loaded once per worker process (per pair of files)."""
    return load_packaged(Path(onnx_path), Path(bento_path))


@lru_cache(maxsize=4)
def worker_explainer(onnx_path: str, bento_path: str) -> Explainer:
    return Explainer(worker_model(onnx_path, bento_path))


def score_partition_task(
    part: Partition,
    parquet: bool,
    model_files: tuple[str, str, str],
    batch: BatchIds,
    key: str | None,
    chunk_rows: int,
    explain_top: int | None,
    staged: bool,
) -> list[ChunkScores]:
    """Run on a worker: the chunks of one partition (COPY text with `staged`)."""
    onnx_path, bento_path, version = model_files
    model = worker_model(onnx_path, bento_path)
    if model.version != version:
        raise PackagedModelError(
            f"a Dask worker reads {model.version} from {bento_path}, the client scores with "
            f"{version}: give the workers the client's models/ (same path)"
        )
    explain = (worker_explainer(onnx_path, bento_path), explain_top) if explain_top else None
    chunks = score_partition(part, parquet, model, batch, key, chunk_rows, explain)
    if not staged:
        return list(chunks)
    from tabml.batch.postgres_sink import stage_chunk

    return [stage_chunk(c) for c in chunks]


def scored_on_dask(
    client,
    partitions: list[Partition],
    workers: int,
    *args,
) -> Iterator[ChunkScores]:
    """The chunks of every partition, in file order, scored by `score_partition_task(part,
    *args)` on the cluster with at most 2 x workers + 1 partitions in flight."""
    from distributed import KilledWorker

    batch: BatchIds = args[2]
    window, todo, running = 2 * max(workers, 1) + 1, iter(partitions), deque()

    def submit(part: Partition) -> None:
        key = f"tabml-batch-{batch.batch_id}-{batch.started_ms}-{part.index}"
        running.append((part, client.submit(score_partition_task, part, *args, key=key)))

    for part in todo:
        submit(part)
        if len(running) >= window:
            break
    try:
        while running:
            part, future = running.popleft()
            try:
                chunks = future.result()
            except KilledWorker:
                raise BatchWorkerError(
                    f"{part.path}: Dask workers died scoring rows {part.first_row:,}.. "
                    f"(partition {part.index}) too often; nothing was written: rerun"
                ) from None
            future.release()
            next_part = next(todo, None)
            if next_part is not None:
                submit(next_part)
            yield from chunks
    finally:
        for _, future in running:
            future.cancel()
