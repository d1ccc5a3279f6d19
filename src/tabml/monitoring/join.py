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

from dataclasses import dataclass

import pandas as pd

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


def latest_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """One label per prediction id: the last received (stable sort keeps file order on ties)."""
    ordered = labels.sort_values("timestamp", kind="stable")
    return ordered.drop_duplicates("prediction_id", keep="last")[["prediction_id", "label"]]


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, JoinCounts]:
    """Predictions with a `label` column (missing where no label arrived), and the counts."""
    with_id = predictions["prediction_id"].notna()
    duplicated = with_id & predictions["prediction_id"].duplicated()
    predictions = predictions[~duplicated]
    latest = latest_labels(labels)
    known = latest["prediction_id"].isin(predictions["prediction_id"])
    joined = predictions.merge(latest[known], on="prediction_id", how="left", validate="m:1")
    counts = JoinCounts(
        labels_received=len(labels),
        labelled_ids=len(latest),
        matched=int(known.sum()),
        unmatched=int((~known).sum()),
        duplicate_predictions=int(duplicated.sum()),
    )
    return joined, counts


def window_starts(timestamps: pd.Series, window: pd.Timedelta) -> pd.Series:
    """The start of each timestamp's window: windows of `window` length from the unix epoch."""
    return timestamps.dt.floor(window)


def parse_window(text: str) -> pd.Timedelta:
    """`1d`, `6h`, `30min`, `1w` ... as a positive duration."""
    try:
        length = pd.Timedelta(text)
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
