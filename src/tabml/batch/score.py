"""Batch scoring: a CSV or parquet file -> the `predictions` and `rejects` tables.

Uses what the online service uses and nothing from training: the ONNX model
(`models/model.onnx`), the domain rules and target saved with it in the exported bento
(`models/tabml_service.bento`, read by `tabml.scoring.packaged`), and the vectorised frame
checks of `tabml.scoring.checks`.
The file is read in chunks (bounded memory) and written in one transaction (all or nothing).
A row that breaks a rule, has a non-finite number or too few / too many fields (CSV) is a
reject with its reason; a file that changes while it is read writes nothing.
"""

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from tabml.batch import db as batch_db
from tabml.batch.explanations import create_explanations_table, explanation_rows
from tabml.batch.regression import create_regression_schema, is_regression, regression_outputs
from tabml.scoring.checks import frame_problems
from tabml.scoring.explain import Explainer
from tabml.scoring.packaged import PackagedModel, PackagedModelError
from tabml.scoring.prediction_ids import new_ids
from tabml.scoring.rules import date_columns
from tabml.scoring.transforms import add_date_parts
from tabml.tables import TableInput, open_input
from tabml.tools import run

CHUNK_ROWS = 100_000


def _json_value(value: object) -> object:
    # JSON has no infinity: keep it as the text pandas reads back (`inf`, `-inf`).
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _record_json(frame: pd.DataFrame, positions: np.ndarray) -> list[str]:
    rows = frame.iloc[positions].astype(object)
    rows = rows.where(rows.notna(), None).to_dict("records")
    return [
        json.dumps({k: _json_value(v) for k, v in r.items()}, default=str, allow_nan=False)
        for r in rows
    ]


def score_chunk(
    frame: pd.DataFrame,
    model: PackagedModel,
    batch_id: str,
    first_row: int,
    key: str | None,
    first_id: int,
    ragged: dict[int, tuple[str, str]] | None = None,
    explain: tuple[Explainer, int] | None = None,
) -> tuple[Iterator[tuple], list[tuple], Iterator[tuple]]:
    """Prediction rows, reject rows and explanation rows (tuples in column order) for one chunk.

    A prediction row's id is `first_id` + its row number in the file, and it gets a
    `prediction_id` (a new UUIDv7); without a `key` its tuple leaves the key column out.
    `ragged` maps chunk positions of CSV rows with the wrong number of fields to (reason,
    the row's text): the text is their record.
    Explanation rows only with `explain` (explainer, top).
    """
    problems = frame_problems(frame, model.rules)
    ragged = ragged or {}
    for i, (reason, _) in ragged.items():
        problems[i] = [reason]  # its cells are shifted or null: only the shape is the reason
    bad = np.zeros(len(frame), dtype=bool)
    bad[list(problems)] = True
    keys = frame[key].astype(object).where(frame[key].notna(), None) if key else None
    positions = sorted(problems)
    records = _record_json(frame, np.array(positions, dtype=int))
    rejects = [
        (batch_id, first_row + i, None if keys is None else _text(keys.iat[i]),
         "; ".join(problems[i]), json.dumps(ragged[i][1]) if i in ragged else record)
        for i, record in zip(positions, records)
    ]  # fmt: skip
    good = frame[~bad] if positions else frame
    good = add_date_parts(good, date_columns(model.rules))  # the numbers the model sees
    for name in model.classifier.numeric:  # a chunk with one bad value reads as text
        if not pd.api.types.is_numeric_dtype(good[name]):
            good = good.assign(**{name: pd.to_numeric(good[name])})
    if is_regression(model):  # prediction, interval_low, interval_high
        outputs = regression_outputs(model, good)
    else:
        labels, proba = model.classifier.predict(model.classifier.feeds_from_frame(good))
        outputs = [labels.tolist(), *proba.T.tolist()]
    ids = np.arange(first_id + first_row, first_id + first_row + len(frame))
    # Without a key column the rows leave `key` out (one parameter less to bind per row).
    good_keys = [] if keys is None else [[_text(k) for k in keys[~bad]]]
    # Prediction ids: one vectorised call per chunk, in row order (they sort by row too).
    columns = [ids[~bad].tolist(), *good_keys, *outputs, new_ids(len(good))]
    explained: Iterator[tuple] = iter(())
    if explain is not None:
        rows = np.flatnonzero(~bad) + first_row
        explained = explanation_rows(good, rows, explain[0], batch_id, explain[1])
    return zip(*columns), rejects, explained


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
    wait_seconds: float = batch_db.WAIT_SECONDS,
    explain_top: int | None = None,
) -> BatchResult:
    """Score `path` into the database at `url` in one transaction; rerunning is a no-op.

    Another batch writing to the same SQLite file is waited for, up to `wait_seconds`.
    `explain_top`: also write the `explanations` table (that many contributions per row).

    Raises:
        TableError: the file cannot be read, or changed while it was read.
        DatabaseBusyError: the database stayed locked, or another run took the same ids.
    """
    start = time.perf_counter()
    if explain_top and is_regression(model):
        raise PackagedModelError("explanations (EXPLAIN=1) are for classification models")
    explain = None
    if explain_top:
        explain = (Explainer(model.classifier, model.metadata["training_stats"]), explain_top)
    needed = [r.name for r in model.rules] + ([key] if key else [])
    categorical = [r.name for r in model.rules if r.kind != "numeric"]
    with open_input(path, needed, chunk_rows, categorical) as table:
        batch_id = hashlib.sha256(f"{table.sha256}\n{model.version}".encode()).hexdigest()[:16]
        engine = batch_db.connect(url, wait_seconds)
        try:
            with batch_db.writing(engine, wait_seconds) as conn:
                done, rejected = _write_batch(
                    conn, table, model, batch_id, key, progress, start, explain
                )
        finally:
            engine.dispose()
    skipped = done is None
    return BatchResult(batch_id, done or 0, rejected, skipped, time.perf_counter() - start)


def _write_batch(
    conn: Connection,
    table: TableInput,
    model: PackagedModel,
    batch_id: str,
    key: str | None,
    progress: Callable[[int, int, int, float], None] | None,
    start: float,
    explain: tuple[Explainer, int] | None,
) -> tuple[int | None, int]:
    """Rows and rejects written in `conn`'s transaction; (None, 0) if already scored."""
    classes = model.classifier.classes
    if is_regression(model):
        batches, rows_table, rejects_table = create_regression_schema(conn)
    else:
        batches, rows_table, rejects_table = batch_db.create_schema(conn, classes)
    explained_table = create_explanations_table(conn, explain[1]) if explain else None
    if batch_db.batch_exists(conn, batches, batch_id):
        return None, 0
    first_id = batch_db.reserve_ids(
        conn,
        batches,
        {
            "batch_id": batch_id,
            "input": str(table.path),
            "input_sha256": table.sha256,
            "model_version": model.version,
            "git_sha": git_sha(),
            "classes": json.dumps(classes),
            "scored_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    ragged_rows = np.array(sorted(table.ragged), dtype=np.int64)
    done = rejected = 0
    # One chunk at a time, written before the next is read. A writer thread gave no
    # overlap: sqlite3's executemany holds the GIL while it binds each row (measured in
    # docs/production-loop.md), and one chunk in flight keeps memory lower.
    for chunk in table.chunks:
        lo, hi = np.searchsorted(ragged_rows, [done, done + len(chunk)])
        ragged = {int(r) - done: table.ragged[int(r)] for r in ragged_rows[lo:hi]}
        good, bad, explained = score_chunk(
            chunk, model, batch_id, done, key, first_id, ragged, explain
        )
        batch_db.insert_rows(conn, rows_table, good, omit=() if key else ("key",))
        batch_db.insert_rows(conn, rejects_table, bad)
        if explained_table is not None:
            batch_db.insert_rows(conn, explained_table, explained)
        done, rejected = done + len(chunk), rejected + len(bad)
        if progress:
            progress(done, table.rows, rejected, time.perf_counter() - start)
    batch_db.finish_batch(conn, batches, batch_id, done, rejected)
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
