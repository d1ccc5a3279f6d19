"""Batch scoring: a CSV or parquet file -> the `predictions` and `rejects` tables.

Uses what the online service uses and nothing from training: the ONNX model
(`models/model.onnx`), the domain rules and target saved with it in the exported bento
(`models/tabml_service.bento`), and the vectorised frame checks of `tabml.inputs`.
The file is read in chunks (bounded memory) and written in one transaction (all or nothing).
"""

import hashlib
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tabml import batch_db
from tabml.inputs import frame_problems, rules_from_json
from tabml.onnx_model import OnnxClassifier
from tabml.schema import DomainRule

CHUNK_ROWS = 100_000
PARQUET_SUFFIXES = (".parquet", ".pq")


class BatchInputError(ValueError):
    """The input file cannot be scored (unreadable, empty, missing columns, stale model)."""


@dataclass(frozen=True)
class PackagedModel:
    classifier: OnnxClassifier
    rules: list[DomainRule]
    target: str
    version: str  # the BentoML model tag, e.g. tabml_model:44799dbe883b456f (a content hash)


def load_packaged(onnx_path: Path, bento_path: Path) -> PackagedModel:
    """The ONNX model plus the rules and tag stored beside it in the exported bento."""
    try:
        with tarfile.open(bento_path) as archive:
            names = archive.getnames()
            model_dir = next(n.rsplit("/", 1)[0] for n in names if n.endswith("/model.yaml"))
            info = yaml.safe_load(archive.extractfile(f"{model_dir}/model.yaml"))
            packaged_onnx = archive.extractfile(f"{model_dir}/model.onnx").read()
        onnx_bytes = Path(onnx_path).read_bytes()
    except (OSError, StopIteration, KeyError, tarfile.TarError) as err:
        raise BatchInputError(
            f"no packaged model ({onnx_path}, {bento_path}): run `make repro`"
        ) from err
    if onnx_bytes != packaged_onnx:
        raise BatchInputError(f"{onnx_path} is not the model in {bento_path}: run `make repro`")
    meta = info["metadata"]
    return PackagedModel(
        OnnxClassifier(onnx_bytes),
        rules_from_json(meta["domain_rules"]),
        meta["target"],
        f"{info['name']}:{info['version']}",
    )


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 of the file's bytes and its number of newlines (for progress), in one pass."""
    digest, lines = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


def open_input(
    path: Path, needed: list[str], chunk_rows: int, categorical: list[str] = ()
) -> tuple[Iterator, int, str]:
    """Chunks of the file (CSV or parquet), its row count (CSV: from newlines, approximate)
    and the sha256 of its bytes.

    `categorical` columns are read as pandas categoricals: the checks and the model's feeds
    then see each distinct value once per chunk instead of once per row.

    Raises:
        BatchInputError: missing, empty, unreadable, or lacking a needed column.
    """
    if not path.is_file():
        raise BatchInputError(f"{path}: no such file")
    try:
        input_sha, lines = file_digest(path)
        if path.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            columns, total = parquet.schema_arrow.names, parquet.metadata.num_rows
            parquet = pq.ParquetFile(path, read_dictionary=[c for c in categorical if c in columns])
            chunks = (b.to_pandas() for b in parquet.iter_batches(batch_size=chunk_rows))
        else:
            columns = list(pd.read_csv(path, nrows=0).columns)
            total = max(lines - 1, 0)
            dtype = {c: "category" for c in categorical if c in columns}
            chunks = pd.read_csv(path, chunksize=chunk_rows, dtype=dtype)
    except pd.errors.EmptyDataError:
        raise BatchInputError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:
        raise BatchInputError(f"{path}: not a CSV file (not UTF-8 text)") from None
    except Exception as err:  # pandas and pyarrow raise many types for unreadable files
        kind = "parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
        raise BatchInputError(f"{path}: cannot read as {kind}: {_first_line(err)}") from None
    missing = [c for c in needed if c not in columns]
    if missing:
        raise BatchInputError(f"{path}: missing columns {missing} (found {columns[:20]})")
    if total == 0:
        raise BatchInputError(f"{path}: no data rows")
    return _guarded(chunks, path), total, input_sha


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _guarded(chunks: Iterator[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    """Errors in later chunks (a malformed line at row 500,000) also name the file."""
    try:
        yield from chunks
    except Exception as err:
        raise BatchInputError(f"{path}: cannot read: {_first_line(err)}") from None


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

    A prediction row's id is `first_id` + its row number in the file; without a `key` its
    tuple leaves the key column out.
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
    columns = [ids[~bad].tolist(), *good_keys, labels.tolist(), *proba.T.tolist()]
    return zip(*columns), rejects


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def git_sha() -> str | None:
    """HEAD of the repository scoring the batch (None outside git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() or None


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
