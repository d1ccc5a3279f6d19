"""What monitoring reads: predictions (request log, batch database) and labels (feedback log).

Readers never fail on a bad line: a torn last line (a writer killed mid-write, a disk that
filled up) or any line that is not a JSON object with the expected keys is skipped and
counted in `skipped`. Lines are parsed with orjson (a few times faster than `json` on a
million lines; it is in the lock as a BentoML dependency).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tabml.batch.db import proba_column
from tabml.errors import TabmlError

PREDICTION_COLUMNS = ["prediction_id", "timestamp", "model_version", "predicted", "source"]


class MonitorInputError(TabmlError):
    """A prediction source cannot be read (database errors, unreadable directory)."""


@dataclass
class Read:
    """A source read into a frame, with how many lines were read and how many skipped."""

    frame: pd.DataFrame
    lines: int = 0
    skipped: int = 0


def _records(directory: Path, keys: tuple[str, ...]) -> tuple[list[dict], int, int]:
    """Every JSON-object line of `directory/*.jsonl` that has `keys`; lines, skipped."""
    records, lines, skipped = [], 0, 0
    for file in sorted(Path(directory).glob("*.jsonl")):
        try:
            data = file.read_bytes()
        except OSError:
            continue  # pruned by the writer between listing and reading
        for line in data.splitlines():
            if not line.strip():
                continue
            lines += 1
            try:
                record = orjson.loads(line)
                if all(key in record for key in keys):
                    records.append(record)
                    continue
            except (orjson.JSONDecodeError, TypeError):
                pass
            skipped += 1
    return records, lines, skipped


def _timestamps(values: list) -> pd.Series:
    return pd.to_datetime(
        pd.Series(values, dtype=object), utc=True, format="ISO8601", errors="coerce"
    )


def read_request_log(directory: Path, classes: list[str]) -> Read:
    """One row per logged prediction: id, time, version, label, `proba_<class>`, inputs.

    Lines from before prediction ids have no id, label or probabilities (NaN): they still
    count as predictions and feed drift, but cannot be joined with labels.
    """
    found, lines, skipped = _records(directory, ("timestamp", "inputs"))
    records = [r for r in found if isinstance(r["inputs"], dict)]
    skipped += len(found) - len(records)
    frame = pd.DataFrame(
        {
            "prediction_id": [r.get("prediction_id") for r in records],
            "timestamp": _timestamps([r["timestamp"] for r in records]),
            "model_version": [r.get("model_version") for r in records],
            "predicted": [r.get("predicted") for r in records],
            "source": "online",
        }
    )
    probabilities = np.full((len(records), len(classes)), np.nan)
    for i, record in enumerate(records):
        found = record.get("probabilities")
        if isinstance(found, dict):
            probabilities[i] = [found.get(c, np.nan) for c in classes]
    for j, name in enumerate(classes):
        frame[proba_column(name)] = probabilities[:, j]
    inputs = pd.DataFrame.from_records([r["inputs"] for r in records], index=frame.index)
    frame = pd.concat([frame, inputs.drop(columns=frame.columns, errors="ignore")], axis=1)
    bad_time = frame["timestamp"].isna()
    return Read(frame[~bad_time].reset_index(drop=True), lines, skipped + int(bad_time.sum()))


def read_feedback_log(directory: Path) -> Read:
    """One row per received label: prediction_id, label, timestamp (file order kept)."""
    records, lines, skipped = _records(directory, ("timestamp", "prediction_id", "label"))
    frame = pd.DataFrame(
        {
            "prediction_id": [r["prediction_id"] for r in records],
            "label": [r["label"] for r in records],
            "timestamp": _timestamps([r["timestamp"] for r in records]),
        }
    )
    bad = frame["timestamp"].isna()
    return Read(frame[~bad].reset_index(drop=True), lines, skipped + int(bad.sum()))


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
