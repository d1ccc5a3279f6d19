"""What monitoring reads: predictions (request log, batch database) and labels (feedback log).

Readers never fail on a bad line: a torn last line (a writer killed mid-write, a disk that
filled up), a line that is not a JSON object with the expected keys or without a readable
timestamp is skipped and counted in `skipped` (`log_lines` does the parsing).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tabml.batch.database_url import check_url, scrub
from tabml.errors import TabmlError
from tabml.monitoring.compact import compact_frame, concat_frames
from tabml.monitoring.log_lines import ANY, OBJECT, TEXT, read_frames
from tabml.scoring.task import Task

PREDICTION_COLUMNS = ["prediction_id", "timestamp", "model_version", "predicted", "source"]


class MonitorInputError(TabmlError):
    """A prediction source cannot be read (database errors, unreadable directory)."""


@dataclass
class Read:
    """A source read into a frame, with how many lines were read and how many skipped."""

    frame: pd.DataFrame
    lines: int = 0
    skipped: int = 0


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 texts as UTC times, NaT where not one. Arrow's parser first (a tenth of
    pandas' time on what the service writes); any text it refuses (a time without a zone,
    a date alone, nanoseconds, not a time) sends the whole group through pandas."""
    try:
        array = pa.array(values, from_pandas=True)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            parsed = pc.cast(array, pa.timestamp("us", tz="UTC")).to_pandas()
            return pd.Series(parsed.array, index=values.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        pass
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


def _prediction_rows(raw: pd.DataFrame, task: Task | None) -> tuple[pd.DataFrame, int]:
    """A group of request log lines as prediction rows, and how many had no readable time."""
    frame = pd.DataFrame(
        {
            "prediction_id": _column(raw, "prediction_id"),
            "timestamp": _timestamps(_column(raw, "timestamp")),
            "model_version": _column(raw, "model_version"),
            "predicted": _column(raw, "predicted"),
            "source": "online",
        }
    )
    for name, key in (task.logged_columns() if task else {}).items():
        frame[name] = pd.to_numeric(_column(raw, key), errors="coerce").astype(np.float64)
    inputs = [c for c in raw.columns if c.startswith("inputs.")]
    features = raw[inputs].rename(columns=lambda c: c.removeprefix("inputs."))
    frame = pd.concat([frame, features.drop(columns=frame.columns, errors="ignore")], axis=1)
    bad = frame["timestamp"].isna().to_numpy()  # no time (or not one): not a prediction
    if bad.any():  # else no copy of the frame
        frame = frame[~bad].reset_index(drop=True)
    return frame, int(bad.sum())


def _label_rows(raw: pd.DataFrame, numeric: bool) -> tuple[pd.DataFrame, int]:
    """A group of feedback log lines as label rows, and how many were not usable labels."""
    label = _column(raw, "label")
    if numeric:
        label = pd.to_numeric(label, errors="coerce").astype(np.float64)
        label = label.where(np.isfinite(label.to_numpy()))
    frame = pd.DataFrame(
        {
            "prediction_id": _column(raw, "prediction_id"),
            "label": label,
            "timestamp": _timestamps(_column(raw, "timestamp")),
            "source": _column(raw, "source").fillna(UNKNOWN_SOURCE).astype("category"),
        }
    )
    bad = frame["timestamp"].isna() | frame["prediction_id"].isna() | frame["label"].isna()
    if bad.any():
        frame = frame[~bad].reset_index(drop=True)
    return frame, int(bad.sum())


def _read(directory: Path, keys: dict[str, str], rows_of, compact: bool) -> Read:
    """Every group of a log as rows (`rows_of`), compacted group by group if `compact`."""
    frames, lines, skipped = [], 0, 0
    for raw, bad_lines in read_frames(directory, keys):
        frame, bad_rows = rows_of(raw)
        lines, skipped = lines + len(raw) + bad_lines, skipped + bad_lines + bad_rows
        del raw
        frames.append(compact_frame(frame) if compact else frame)
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        empty = rows_of(pd.DataFrame())[0]
        return Read(compact_frame(empty) if compact else empty, lines, skipped)
    if compact:
        return Read(concat_frames(frames), lines, skipped)
    return Read(frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True),
                lines, skipped)  # fmt: skip


def read_request_log(directory: Path, task: Task | None = None, compact: bool = False) -> Read:
    """One row per logged prediction: id, time, version, label (or value), the task's
    `logged_columns` (probabilities, or the interval's ends; none without a task), inputs.

    Lines from before prediction ids have no id, label or probabilities (NaN): they still
    count as predictions and feed drift, but cannot be joined with labels.

    `compact`: ids as `id_keys` columns instead of `prediction_id`, texts as categoricals
    (`compact`: what `make monitor` reads ten million rows with).
    """
    keys = {"timestamp": TEXT, "inputs": OBJECT}
    return _read(directory, keys, lambda raw: _prediction_rows(raw, task), compact)


def read_feedback_log(directory: Path, numeric: bool = False, compact: bool = False) -> Read:
    """One row per received label: prediction_id, label, timestamp (file order kept).

    `numeric` (a regression model): labels as float64; a label that is not a finite number
    (another model's class, say) is skipped and counted. `compact`: as `read_request_log`.
    """
    keys = {"timestamp": TEXT, "prediction_id": TEXT, "label": ANY}
    return _read(directory, keys, lambda raw: _label_rows(raw, numeric), compact)


UNKNOWN_SOURCE = "(none)"  # a label line without `source`


def labels_by_source(labels: pd.DataFrame) -> dict[str, int]:
    """How many labels each source sent (`http`, `http:<name>`, `file:<name>`)."""
    counts = labels["source"].value_counts(sort=False) if len(labels) else pd.Series()
    return {str(k): int(v) for k, v in sorted(counts.items()) if v}


def excluded(sources: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Which labels come from one of `names`: a source itself or one under it (`http`
    also names `http:annotator-7`)."""
    if not names or not len(sources):
        return np.zeros(len(sources), dtype=bool)
    categories = pd.Categorical(sources)  # each distinct source once, not a million times
    under = tuple(f"{name}:" for name in names)
    hit = [str(c) in names or str(c).startswith(under) for c in categories.categories]
    return np.array([*hit, False])[categories.codes]  # code -1 (missing) picks False


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and not Path(parsed.database).exists()


def read_batch_predictions(url: str | None, task: Task) -> tuple[Read, str | None]:
    """Batch predictions from the `predictions` view at `url`; (empty, why) if there are none.

    The view has the task's batch columns (`Task.batch_columns`: a classifier's `label` and
    `proba_<class>`, a regression model's `prediction`, `interval_low` and `interval_high`):
    the first is read as `predicted`, the others under their own names. The reason and every
    error name the database without its password.
    """
    empty = Read(pd.DataFrame(columns=PREDICTION_COLUMNS))
    if not url:
        return empty, "no database given"
    shown = check_url(url).shown  # the password is in no message or report
    if _sqlite_file_missing(url):
        return empty, f"{shown}: no such database file"
    predicted, *others = [name for name, _ in task.batch_columns()]
    extra = ", ".join(others)
    query = (
        f"SELECT prediction_id, scored_at AS timestamp, model_version, {predicted} AS predicted, "
        f"{extra} FROM predictions"
    )
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            if "predictions" not in inspect(conn).get_view_names():
                return empty, f"{shown}: no predictions view"
            columns = {c["name"] for c in inspect(conn).get_columns("predictions")}
            if "prediction_id" not in columns:
                return empty, f"{shown}: written before prediction ids (no prediction_id column)"
            frame = pd.read_sql_query(text(query), conn)
    except SQLAlchemyError as err:
        first = str(err).splitlines()[0]
        raise MonitorInputError(scrub(f"database {url}: {first}", url)) from None
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["source"] = "batch"
    return Read(frame, len(frame)), None
