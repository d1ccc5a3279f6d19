"""Labelled production rows as training data: read the harvested file, hold out the newest.

`make harvest` writes the rows (prediction id, prediction time, inputs, true label) to a
DVC-tracked parquet file that the profile's `production:` entry names and pins. The ingest
stage appends the older rows to the original data; the newest ones (`comparison_split`) are
the comparison set that `make retrain` scores champion and challenger on, so no model it
compares has trained on them.
"""

import math
from pathlib import Path

import pandas as pd

from tabml.data.profile import DatasetProfile, ProductionSource
from tabml.errors import TabmlError
from tabml.tables import sha256_of

ID, TIME, VERSION = "prediction_id", "timestamp", "model_version"


class ProductionDataError(TabmlError, ValueError):
    """The harvested production file is missing, changed, or lacks columns."""


def in_time_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by prediction time, then id (a fixed order); one row per prediction id."""
    ordered = frame.sort_values([TIME, ID], kind="stable")
    return ordered.drop_duplicates(ID, keep="last").reset_index(drop=True)


def read_production(source: ProductionSource, profile: DatasetProfile) -> pd.DataFrame:
    """The harvested rows, checksum verified, in time order."""
    path = Path(source.path)
    if not path.is_file():
        raise ProductionDataError(
            f"{path} (the profile's `production.path`) does not exist: `dvc pull` or `dvc "
            "checkout` it, or `make harvest`"
        )
    actual = sha256_of(path)
    if actual != source.sha256.lower():
        raise ProductionDataError(
            f"{path} changed: its sha256 is {actual}, the profile pins {source.sha256} "
            "(`production.sha256`); `make harvest` writes both"
        )
    frame = pd.read_parquet(path)
    needed = [ID, TIME, profile.target, *profile.features.all]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ProductionDataError(f"{path}: missing columns {missing}")
    return in_time_order(frame)


def comparison_rows(total: int, share: float, min_rows: int) -> int:
    """How many of the newest rows are held out: `share` of them, at least `min_rows`."""
    return min(total, max(math.ceil(share * total), min_rows))


def comparison_split(
    frame: pd.DataFrame, share: float, min_rows: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(older rows to learn from, newest rows to compare on), split by prediction time."""
    ordered = in_time_order(frame)
    cut = len(ordered) - comparison_rows(len(ordered), share, min_rows)
    return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)


def with_production(
    original: pd.DataFrame, older: pd.DataFrame, profile: DatasetProfile
) -> pd.DataFrame:
    """The original rows, then the older production rows: the profile's columns only."""
    columns = [profile.target, *profile.features.all]
    if profile.key and profile.key in original.columns:
        columns.append(profile.key)
    missing = [c for c in columns if c not in original.columns]
    if missing:
        raise ProductionDataError(f"the original data has no columns {missing}")
    added = older.reindex(columns=columns)
    return pd.concat([original[columns], added], ignore_index=True)
