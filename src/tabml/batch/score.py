"""Batch scoring: a CSV or parquet file -> the `predictions` and `rejects` tables.

Uses what the online service uses and nothing from training: the ONNX model
(`models/model.onnx`), the domain rules and target saved with it in the exported bento
(`models/tabml_service.bento`, read by `tabml.scoring.packaged`), and the vectorised frame
checks of `tabml.scoring.checks`.
The file is read in chunks (bounded memory) and written in one transaction (all or nothing).
"""

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from tabml.batch import db as batch_db
from tabml.scoring.checks import frame_problems
from tabml.scoring.packaged import PackagedModel
from tabml.scoring.prediction_ids import new_ids
from tabml.tables import open_input
from tabml.tools import run

CHUNK_ROWS = 100_000


def _record_json(frame: pd.DataFrame, positions: np.ndarray) -> list[str]:
    rows = frame.iloc[positions].astype(object)
    rows = rows.where(rows.notna(), None).to_dict("records")
    return [json.dumps(r, default=str, allow_nan=False) for r in rows]


def score_chunk(
    frame: pd.DataFrame,
    model: PackagedModel,
    batch_id: str,
    first_row: int,
    key: str | None,
    first_id: int,
) -> tuple[Iterator[tuple], list[tuple]]:
    """Prediction rows and reject rows (tuples in table column order) for one chunk.

    A prediction row's id is `first_id` + its row number in the file, its `prediction_id` a
    new UUIDv7; without a `key` its tuple leaves the key column out.
    """
    problems = frame_problems(frame, model.rules)
    bad = np.zeros(len(frame), dtype=bool)
    bad[list(problems)] = True
    keys = frame[key].astype(object).where(frame[key].notna(), None) if key else None
    positions = sorted(problems)
    rejects = [
        (batch_id, first_row + i, None if keys is None else _text(keys.iat[i]),
         "; ".join(problems[i]), record)
        for i, record in zip(positions, _record_json(frame, np.array(positions, dtype=int)))
    ]  # fmt: skip
    good = frame[~bad] if positions else frame
    for name in model.classifier.numeric:  # a chunk with one bad value reads as text
        if not pd.api.types.is_numeric_dtype(good[name]):
            good = good.assign(**{name: pd.to_numeric(good[name])})
    labels, proba = model.classifier.predict(model.classifier.feeds_from_frame(good))
    ids = np.arange(first_id + first_row, first_id + first_row + len(frame))
    # Without a key column the rows leave `key` out (one parameter less to bind per row).
    good_keys = [] if keys is None else [[_text(k) for k in keys[~bad]]]
    # Prediction ids: one vectorised call per chunk, in row order (so they sort by row too).
    prediction_ids = new_ids(len(good))
    columns = [ids[~bad].tolist(), *good_keys, labels.tolist(), *proba.T.tolist(), prediction_ids]
    return zip(*columns), rejects


def _text(value: object) -> str | None:
    return None if value is None else str(value)


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
) -> BatchResult:
    """Score `path` into the database at `url` in one transaction; rerunning is a no-op."""
    start = time.perf_counter()
    needed = [r.name for r in model.rules] + ([key] if key else [])
    categorical = [r.name for r in model.rules if r.kind != "numeric"]
    chunks, total, input_sha = open_input(path, needed, chunk_rows, categorical)
    batch_id = hashlib.sha256(f"{input_sha}\n{model.version}".encode()).hexdigest()[:16]
    classes = model.classifier.classes
    engine = batch_db.connect(url)
    with engine.begin() as conn:
        batches, table, rejects_table = batch_db.create_schema(conn, classes)
    done = rejected = 0
    with engine.begin() as conn:
        if batch_db.batch_exists(conn, batches, batch_id):
            return BatchResult(batch_id, 0, 0, True, time.perf_counter() - start)
        first_id = batch_db.reserve_ids(
            conn,
            batches,
            {
                "batch_id": batch_id,
                "input": str(path),
                "input_sha256": input_sha,
                "model_version": model.version,
                "git_sha": git_sha(),
                "classes": json.dumps(classes),
                "scored_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        # One chunk at a time, written before the next is read. A writer thread gave no
        # overlap: sqlite3's executemany holds the GIL while it binds each row (measured in
        # docs/production-loop.md), and one chunk in flight keeps memory lower.
        for chunk in chunks:
            good, bad = score_chunk(chunk, model, batch_id, done, key, first_id)
            batch_db.insert_rows(conn, table, good, omit=() if key else ("key",))
            batch_db.insert_rows(conn, rejects_table, bad)
            done, rejected = done + len(chunk), rejected + len(bad)
            if progress:
                progress(done, total, rejected, time.perf_counter() - start)
        batch_db.finish_batch(conn, batches, batch_id, done, rejected)
    return BatchResult(batch_id, done, rejected, False, time.perf_counter() - start)


def print_progress(done: int, total: int, rejected: int, seconds: float) -> None:
    """One progress line per chunk on stderr: rows done/total, rows/s, rejects."""
    share = f" ({100 * done / total:.0f}%)" if total else ""
    print(
        f"batch: {done:,}/{total:,} rows{share}, {done / max(seconds, 1e-9):,.0f} rows/s, "
        f"{rejected:,} rejected",
        file=sys.stderr,
        flush=True,
    )
