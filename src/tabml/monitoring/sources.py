"""What monitoring reads: predictions (request log, batch database) and labels (feedback log).

Readers never fail on a bad line: a torn last line (a writer killed mid-write, a disk that
filled up) or any line that is not a JSON object with the expected keys is skipped and
counted in `skipped`. All files are parsed in one pyarrow call (a million lines in a few
seconds); only files with a bad line are cleaned line by line first (with orjson, in the
lock as a BentoML dependency).
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pj
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tabml.batch.db import proba_column
from tabml.errors import TabmlError

GROUP_BYTES = 32 * 1024 * 1024  # log bytes parsed per pyarrow call
PREDICTION_COLUMNS = ["prediction_id", "timestamp", "model_version", "predicted", "source"]


class MonitorInputError(TabmlError):
    """A prediction source cannot be read (database errors, unreadable directory)."""


@dataclass
class Read:
    """A source read into a frame, with how many lines were read and how many skipped."""

    frame: pd.DataFrame
    lines: int = 0
    skipped: int = 0


def _parse(blobs: list[bytes]) -> pd.DataFrame:
    """One pyarrow call over JSON-lines bytes (C++, both cores); nested objects flattened."""
    data = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    if not data or data.isspace():  # isspace stops at the first other byte: no copy, no scan
        return pd.DataFrame()
    options = pj.ReadOptions(block_size=1 << 24)
    return pj.read_json(io.BytesIO(data), read_options=options).flatten().to_pandas()


def _good_lines(blob: bytes, keys: tuple[str, ...]) -> tuple[bytes, int]:
    """The lines of `blob` that are JSON objects with `keys`, and how many others there were."""
    good, bad = [], 0
    for line in blob.splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and all(key in record for key in keys):
            good.append(line)
        else:
            bad += 1
    return b"\n".join(good), bad


def _parse_tolerant(blobs: list[bytes], keys: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """`_parse`, or (when pyarrow refuses a line) the same after cleaning the bad files."""
    try:
        return _parse(blobs), 0
    except pa.ArrowInvalid:
        pass
    cleaned, skipped = [], 0
    for blob in blobs:
        try:
            _parse([blob])
            cleaned.append(blob)
        except pa.ArrowInvalid:
            good, bad = _good_lines(blob, keys)
            cleaned.append(good)
            skipped += bad
    try:
        return _parse(cleaned), skipped
    except pa.ArrowInvalid:
        # A value's type differs between lines (e.g. a number logged as text somewhere):
        # slower, but every line still counts.
        records = [orjson.loads(line) for blob in cleaned for line in blob.splitlines() if line]
        return pd.json_normalize(records), skipped


def _file_groups(directory: Path) -> Iterator[list[bytes]]:
    """The log files' bytes, in name (time) order, in groups of about `GROUP_BYTES`.

    Each file's bytes end with a newline (a torn last line gets one, so it cannot run into
    the next file's first line).
    """
    group, size = [], 0
    for file in sorted(Path(directory).glob("*.jsonl")):
        try:
            blob = file.read_bytes()
        except OSError:
            continue  # pruned by the writer between listing and reading
        group.append(blob if blob.endswith(b"\n") or not blob else blob + b"\n")
        size += len(blob)
        if size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _read_lines(directory: Path, keys: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """Every JSON line of `directory/*.jsonl` as a flat frame (`inputs.x` columns); skipped.

    Fast path: one pyarrow parse per group of files (bounded memory: never the whole log's
    bytes at once). If a line is not a JSON object (a torn last line, a stray write), the
    files pyarrow refuses are cleaned line by line first.
    """
    frames, skipped = [], 0
    for group in _file_groups(directory):
        frame, bad = _parse_tolerant(group, keys)
        frames.append(frame)
        skipped += bad
    if not frames:
        return pd.DataFrame(), 0
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), skipped


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _timestamps(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


def read_request_log(directory: Path, classes: list[str]) -> Read:
    """One row per logged prediction: id, time, version, label, `proba_<class>`, inputs.

    Lines from before prediction ids have no id, label or probabilities (NaN): they still
    count as predictions and feed drift, but cannot be joined with labels.
    """
    raw, skipped = _read_lines(directory, ("timestamp", "inputs"))
    frame = pd.DataFrame(
        {
            "prediction_id": _column(raw, "prediction_id"),
            "timestamp": _timestamps(_column(raw, "timestamp")),
            "model_version": _column(raw, "model_version"),
            "predicted": _column(raw, "predicted"),
            "source": "online",
        }
    )
    for name in classes:
        frame[proba_column(name)] = pd.to_numeric(
            _column(raw, f"probabilities.{name}"), errors="coerce"
        ).astype(np.float64)
    inputs = [c for c in raw.columns if c.startswith("inputs.")]
    features = raw[inputs].rename(columns=lambda c: c.removeprefix("inputs."))
    frame = pd.concat([frame, features.drop(columns=frame.columns, errors="ignore")], axis=1)
    bad = frame["timestamp"].isna().to_numpy()  # no time (or not one): not a prediction
    if bad.any():  # else no copy of a million-row frame
        frame = frame[~bad].reset_index(drop=True)
    return Read(frame, len(raw) + skipped, skipped + int(bad.sum()))


def read_feedback_log(directory: Path) -> Read:
    """One row per received label: prediction_id, label, timestamp (file order kept)."""
    raw, skipped = _read_lines(directory, ("timestamp", "prediction_id", "label"))
    frame = pd.DataFrame(
        {
            "prediction_id": _column(raw, "prediction_id"),
            "label": _column(raw, "label"),
            "timestamp": _timestamps(_column(raw, "timestamp")),
        }
    )
    bad = frame["timestamp"].isna() | frame["prediction_id"].isna() | frame["label"].isna()
    if bad.any():
        frame = frame[~bad].reset_index(drop=True)
    return Read(frame, len(raw) + skipped, skipped + int(bad.sum()))


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and (not Path(database).exists())
    )


def read_batch_predictions(url: str | None, classes: list[str]) -> tuple[Read, str | None]:
    """Batch predictions from the `predictions` view at `url`; (empty, why) if there are none."""
    empty = Read(pd.DataFrame(columns=PREDICTION_COLUMNS))
    if not url:
        return empty, "no database given"
    if _sqlite_file_missing(url):
        return empty, f"{url}: no such database file"
    probas = ", ".join(proba_column(c) for c in classes)
    query = (
        "SELECT prediction_id, scored_at AS timestamp, model_version, label AS predicted, "
        f"{probas} FROM predictions"
    )
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            if "predictions" not in inspect(conn).get_view_names():
                return empty, f"{url}: no predictions view"
            columns = {c["name"] for c in inspect(conn).get_columns("predictions")}
            if "prediction_id" not in columns:
                return empty, f"{url}: written before prediction ids (no prediction_id column)"
            frame = pd.read_sql_query(text(query), conn)
    except SQLAlchemyError as err:
        raise MonitorInputError(f"database {url}: {str(err).splitlines()[0]}") from err
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["source"] = "batch"
    return Read(frame, len(frame)), None
