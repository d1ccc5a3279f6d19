"""Declared transformations: ISO date columns turned into the numbers the model sees.

A profile declares `features.dates: {Date Egg: [year, day_of_year]}`; training, serving and
batch scoring all derive those numbers here, so the ONNX model only ever sees numbers and the
three agree to the bit. Times with a UTC offset are converted to UTC; times without one are
read as they are.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

# YYYY-MM-DD, optionally followed by a time (T or space) and a UTC offset. Month and day are
# range-checked here; impossible days (2023-02-30) are caught when the value is parsed.
ISO_DATE_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
EPOCH = pd.Timestamp("1970-01-01")

# Each part: the number it gives for parsed timestamps (a pandas DatetimeIndex, NaT -> NaN).
PARTS: dict[str, Callable[[pd.DatetimeIndex], Any]] = {
    "year": lambda t: t.year,
    "month": lambda t: t.month,
    "day": lambda t: t.day,
    "day_of_year": lambda t: t.dayofyear,
    "day_of_week": lambda t: t.dayofweek,  # Monday = 0
    "hour": lambda t: t.hour,
    "days_since_epoch": lambda t: (t - EPOCH) / pd.Timedelta(days=1),
}


def part_column(column: str, part: str) -> str:
    """The model's name for one derived number, e.g. `Date Egg (year)`."""
    return f"{column} ({part})"


def derived_columns(dates: Mapping[str, Sequence[str]]) -> list[str]:
    """Names of every derived number, in declaration order."""
    return [part_column(column, part) for column, parts in dates.items() for part in parts]


def parse_iso(value: Any) -> datetime | None:
    """An ISO date or datetime string as a naive UTC datetime; None if it is not one."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:  # matches the pattern but names no real day (2023-02-30)
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _timestamps(values: Sequence[Any]) -> pd.DatetimeIndex:
    """Distinct values -> timestamps; anything that is not an ISO date becomes NaT."""
    out = []
    for value in values:
        if isinstance(value, pd.Timestamp | datetime):
            stamp = pd.Timestamp(value)
            out.append(stamp.tz_convert(None) if stamp.tzinfo else stamp)
        else:
            parsed = parse_iso(value)
            out.append(pd.NaT if parsed is None else pd.Timestamp(parsed))
    return pd.DatetimeIndex(out, dtype="datetime64[ns]")


def date_parts(column: pd.Series, parts: Sequence[str]) -> dict[str, np.ndarray]:
    """The declared numbers of one date column (float64; missing or invalid dates give NaN).

    Each distinct value is parsed once: a million batch rows hold a few thousand days.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, uniques = column.cat.codes.to_numpy(), list(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
        uniques = list(uniques)
    stamps = _timestamps(uniques)
    out = {}
    for part in parts:
        numbers = np.asarray(PARTS[part](stamps), dtype=np.float64)
        out[part] = np.append(numbers, np.nan)[codes]  # code -1 (missing) -> the NaN at the end
    return out


def add_date_parts(frame: pd.DataFrame, dates: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """`frame` plus one numeric column per declared date part (the raw columns stay)."""
    if not dates:
        return frame
    derived = {}
    for column, parts in dates.items():
        for part, numbers in date_parts(frame[column], parts).items():
            derived[part_column(column, part)] = numbers
    return frame.assign(**derived)


def add_date_parts_to_records(
    records: Sequence[Mapping[str, Any]], dates: Mapping[str, Sequence[str]]
) -> list[dict]:
    """Records plus their derived numbers (None for a missing date), computed as for a frame."""
    if not dates:
        return list(records)
    out = [dict(r) for r in records]
    for column, parts in dates.items():
        values = pd.Series([r[column] for r in records], dtype=object)
        for part, numbers in date_parts(values, parts).items():
            name = part_column(column, part)
            for record, number in zip(out, numbers.tolist(), strict=True):
                record[name] = None if np.isnan(number) else number
    return out
