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

from tabml.errors import TabmlError
from tabml.monitoring import id_keys


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


@dataclass(frozen=True)
class PredictionIndex:
    """Prediction ids, sorted once: which rows repeat an id seen before, the distinct ids
    (`id_keys` columns, in key order) and the row of each (its first)."""

    duplicated: np.ndarray  # bool per row; a row without an id is never a duplicate
    keys: tuple[np.ndarray, np.ndarray, np.ndarray]
    rows: np.ndarray


def index_predictions(predictions: pd.DataFrame) -> PredictionIndex:
    """Sort the prediction ids once (`id_keys`: numbers, no Python objects)."""
    keys = id_keys.keys_of(predictions)
    order = id_keys.sort_order(*keys)
    first, distinct = id_keys.distinct(keys, order)
    has_id = keys[2][order] != id_keys.MISSING
    duplicated = np.zeros(len(order), dtype=bool)
    duplicated[order[~first & has_id]] = True
    unique = first & has_id
    present = distinct[2] != id_keys.MISSING  # at most one distinct key is "missing"
    return PredictionIndex(duplicated, tuple(c[present] for c in distinct), order[unique])


def drop_duplicate_predictions(predictions: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows whose prediction id was not seen before (the join's rule), and how many went.

    What `make drift` applies to the request log, so it counts the rows `make monitor` does.
    """
    duplicated = index_predictions(predictions).duplicated
    if not duplicated.any():
        return predictions, 0
    return predictions[~duplicated].reset_index(drop=True), int(duplicated.sum())


def take_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """`frame[keep]` with a fresh index, built a column at a time and emptying `frame`
    (each old column freed as its new one is made): ten million rows are not held twice."""
    columns = {}
    for name in list(frame.columns):
        columns[name] = frame.pop(name).array[keep]
    return pd.DataFrame(columns, copy=False)


@dataclass(frozen=True)
class NewestLabels:
    """The label received last for each labelled prediction id: its key (`id_keys`
    columns, in key order) and its value (float, or a code into `names`)."""

    keys: tuple[np.ndarray, np.ndarray, np.ndarray]
    values: np.ndarray
    names: pd.Index | None  # the label texts of a classifier's codes; None: float labels
    received: int  # label rows read


def newest_labels(labels: pd.DataFrame) -> NewestLabels:
    """Each labelled id once, with the label received last (ties in time: later in the log).

    The labels frame is not needed afterwards (`make monitor` frees it before the join).
    """
    label_keys = id_keys.keys_of(labels)
    received = labels["timestamp"].dt.tz_convert(None).to_numpy()  # datetime64, not objects
    newest_first = np.argsort(received, kind="stable")[::-1]
    del received
    # A stable sort by id keeps newest-first order within an id: its first row is the label
    # received last (cheaper than np.unique, which sorts again to find the first rows).
    by_newest = tuple(column[newest_first] for column in label_keys)
    label_rows = newest_first[id_keys.sort_order(*by_newest)]
    del by_newest, newest_first
    newest, keys = id_keys.distinct(label_keys, label_rows)
    label_rows = label_rows[newest]
    if pd.api.types.is_float_dtype(labels["label"]):  # a regression model's numbers
        return NewestLabels(keys, labels["label"].to_numpy(np.float64)[label_rows], None,
                            len(labels))  # fmt: skip
    # Labels as category codes: a million Python strings would cost more than the join.
    codes, names = pd.factorize(labels["label"])
    return NewestLabels(keys, codes[label_rows], pd.Index(names, dtype=object), len(labels))


def join_labels(
    predictions: pd.DataFrame, labels: pd.DataFrame | NewestLabels
) -> tuple[pd.DataFrame, JoinCounts]:
    """Predictions with a `label` column (missing where no label arrived), and the counts.

    Float labels (a regression model's) stay float64, NaN where missing; others become a
    categorical column. `labels`: the labels frame, or its `newest_labels`.

    Adds the column to `predictions` itself (a million-row frame is not copied) and drops
    the `id_keys` columns from it (the ids are not needed once joined).

    Vectorised on ids as numbers (`id_keys`): sort the prediction ids once, the labels'
    ids once, and find each labelled id among the predictions' with a binary search.
    """
    newest = labels if isinstance(labels, NewestLabels) else newest_labels(labels)
    index = index_predictions(predictions)
    duplicated, known_rows = index.duplicated, index.rows
    position = id_keys.find(index.keys, newest.keys)
    del index
    matched = position >= 0
    to_rows, from_labels = known_rows[position[matched]], np.flatnonzero(matched)
    del known_rows, position

    joined = predictions  # a column more, in place: no copy of a million-row frame
    for name in (id_keys.HIGH, id_keys.LOW, id_keys.KIND):
        if name in joined.columns:
            del joined[name]
    if newest.names is None:
        values = np.full(len(predictions), np.nan)
        values[to_rows] = newest.values[from_labels]
        joined["label"] = values
    else:
        label = np.full(len(predictions), -1, dtype=np.int64)
        label[to_rows] = newest.values[from_labels]
        joined["label"] = pd.Categorical.from_codes(label, categories=newest.names)
        del label
    if duplicated.any():
        joined = take_rows(joined, ~duplicated)
    counts = JoinCounts(
        labels_received=newest.received,
        labelled_ids=len(matched),
        matched=int(matched.sum()),
        unmatched=int((~matched).sum()),
        duplicate_predictions=int(duplicated.sum()),
    )
    return joined, counts


UNKNOWN_VERSION = "(unknown)"  # the version of a prediction logged without one


def version_labels(versions: pd.Series) -> pd.Series:
    """The model version of each row, `UNKNOWN_VERSION` where missing (categoricals stay
    categorical, their categories in text order: groups come out in the same order)."""
    if isinstance(versions.dtype, pd.CategoricalDtype):
        names = sorted({*map(str, versions.cat.categories), UNKNOWN_VERSION})
        versions = versions.cat.rename_categories(str).cat.set_categories(names)
    return versions.fillna(UNKNOWN_VERSION)


def by_version(joined: pd.DataFrame):
    """(version, its rows) in version order; when one version made every prediction, its
    rows are `joined` itself (ten million rows are not copied for a group of all of them)."""
    groups = joined.groupby(version_labels(joined["model_version"]), sort=True, observed=True)
    for version, rows in groups.indices.items():
        yield str(version), joined if len(rows) == len(joined) else joined.take(rows)


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
