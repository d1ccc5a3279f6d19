"""Join labels to predictions by prediction id, and cut the result into time windows.

Join rules (docs/monitoring.md):
- A prediction id that got several labels counts once, with the label received last
  (ties in time: the one later in the log).
- A label whose id matches no prediction is kept out of the metrics and counted as
  unmatched (it may belong to a prediction pruned from the log, or to another database).
- A prediction id logged twice (a copied log file, a database scored twice into) counts once.
- A window holds the predictions *made* in it: a label received a week later still counts
  for the window of its prediction.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tabml.errors import TabmlError


class WindowError(TabmlError, ValueError):
    """A window length or start time that cannot be read."""


@dataclass(frozen=True)
class JoinCounts:
    labels_received: int  # label lines read
    labelled_ids: int  # distinct prediction ids with a label
    matched: int  # of those, ids of a known prediction
    unmatched: int  # ids of no known prediction
    duplicate_predictions: int  # prediction rows dropped because their id was seen before
    before_since: int = 0  # labelled ids whose prediction was made before SINCE (not counted)


ID_WIDTH = 36


def id_keys(ids: pd.Series) -> np.ndarray:
    """Prediction ids as fixed-width bytes (numpy `S36`): sorted and matched without Python
    objects. Missing ids become 36 spaces (callers mask them with `ids.notna()`)."""
    array = pa.array(ids, type=pa.string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):  # pandas' own pyarrow-backed strings
        array = array.combine_chunks()
    view = _fixed_width_view(array)
    if view is not None:  # every id well-formed: a view of arrow's buffer, no copy
        return view
    padded = pc.utf8_rpad(pc.fill_null(array, ""), ID_WIDTH)
    array = pc.utf8_slice_codeunits(padded, 0, ID_WIDTH)
    view = _fixed_width_view(array)
    if view is not None:
        return view
    return np.array([v.encode()[:ID_WIDTH] for v in array.to_pylist()], dtype=f"S{ID_WIDTH}")


def _fixed_width_view(array: pa.StringArray) -> np.ndarray | None:
    """The array's bytes as `S36` when it has no nulls and every value is 36 bytes long."""
    if array.null_count or not len(array):
        return None
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    if not (np.diff(offsets) == ID_WIDTH).all():
        return None
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view(f"S{ID_WIDTH}")


@dataclass(frozen=True)
class PredictionIndex:
    """Prediction ids, sorted once: which rows repeat an id seen before, the distinct ids
    (fixed-width bytes, sorted) and the row of each (its first)."""

    duplicated: np.ndarray  # bool per row; a row without an id is never a duplicate
    keys: np.ndarray
    rows: np.ndarray


def index_predictions(ids: pd.Series) -> PredictionIndex:
    """Sort the prediction ids once (vectorised on fixed-width bytes, no Python objects)."""
    keys = id_keys(ids)
    has_id = ids.notna().to_numpy()
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    duplicated = np.zeros(len(order), dtype=bool)
    duplicated[order[~first]] = True
    duplicated &= has_id
    unique = first & has_id[order]
    return PredictionIndex(duplicated, sorted_keys[unique], order[unique])


def drop_duplicate_predictions(predictions: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows whose prediction id was not seen before (the join's rule), and how many went.

    What `make drift` applies to the request log, so it counts the rows `make monitor` does.
    """
    duplicated = index_predictions(predictions["prediction_id"]).duplicated
    if not duplicated.any():
        return predictions, 0
    return predictions[~duplicated].reset_index(drop=True), int(duplicated.sum())


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, JoinCounts]:
    """Predictions with a `label` column (missing where no label arrived), and the counts.

    Float labels (a regression model's) stay float64, NaN where missing; others become a
    categorical column.

    Adds the column to `predictions` itself (a million-row frame is not copied).

    Vectorised on fixed-width id bytes: sort the prediction ids once, find each labelled id
    in them with a binary search (a million of each in about a second).
    """
    index = index_predictions(predictions["prediction_id"])
    duplicated, known_keys, known_rows = index.duplicated, index.keys, index.rows

    label_keys = id_keys(labels["prediction_id"])
    received = labels["timestamp"].dt.tz_convert(None).to_numpy()  # datetime64, not objects
    newest_first = np.argsort(received, kind="stable")[::-1]
    # A stable sort by id keeps newest-first order within an id: its first row is the label
    # received last (cheaper than np.unique, which sorts again to find the first rows).
    by_id = np.argsort(label_keys[newest_first], kind="stable")
    label_rows = newest_first[by_id]
    sorted_labels = label_keys[label_rows]
    newest = np.ones(len(label_rows), dtype=bool)
    newest[1:] = sorted_labels[1:] != sorted_labels[:-1]
    labelled, label_rows = sorted_labels[newest], label_rows[newest]
    position = np.minimum(np.searchsorted(known_keys, labelled), max(len(known_keys) - 1, 0))
    matched = known_keys[position] == labelled if len(known_keys) else np.zeros(0, dtype=bool)

    joined = predictions  # a column more, in place: no copy of a million-row frame
    to_rows, from_labels = known_rows[position[matched]], label_rows[matched]
    if pd.api.types.is_float_dtype(labels["label"]):  # a regression model's numbers
        values = np.full(len(predictions), np.nan)
        values[to_rows] = labels["label"].to_numpy(dtype=np.float64)[from_labels]
        joined["label"] = values
    else:
        # Labels as category codes: a million Python strings would cost more than the join.
        codes, names = pd.factorize(labels["label"])
        label = np.full(len(predictions), -1, dtype=np.int64)
        label[to_rows] = codes[from_labels]
        categories = pd.Index(names, dtype=object)
        joined["label"] = pd.Categorical.from_codes(label, categories=categories)
    if duplicated.any():
        joined = joined[~duplicated].reset_index(drop=True)
    counts = JoinCounts(
        labels_received=len(labels),
        labelled_ids=len(labelled),
        matched=int(matched.sum()),
        unmatched=int((~matched).sum()),
        duplicate_predictions=int(duplicated.sum()),
    )
    return joined, counts


def window_starts(timestamps: pd.Series, window: pd.Timedelta) -> pd.Series:
    """The start of each timestamp's window: windows of `window` length from the unix epoch."""
    return timestamps.dt.floor(window)


def parse_window(text: str) -> pd.Timedelta:
    """`1d`, `6h`, `30min`, `1w` ... as a positive duration."""
    # pandas wants upper-case day and week units (`1D`); accept the usual `1d`, `1w` too.
    normalised = re.sub(r"(?<=\d)([dw])(?![a-z])", lambda m: m.group(1).upper(), text.strip())
    try:
        length = pd.Timedelta(normalised)
    except ValueError as err:
        raise WindowError(f"window {text!r} is not a duration such as 1d, 6h or 30min") from err
    if length <= pd.Timedelta(0):
        raise WindowError(f"window {text!r} must be longer than zero")
    return length


def parse_since(text: str, now: pd.Timestamp) -> pd.Timestamp:
    """A start time: ISO 8601 (`2025-06-01`, `2025-06-01T12:00Z`; UTC if no zone) or a
    duration back from now (`7d`, `12h`)."""
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return now - parse_window(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
