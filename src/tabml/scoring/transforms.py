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
EPOCH = datetime(1970, 1, 1)


def _days_since_epoch(when: datetime) -> float:
    delta = when - EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) / 86_400e6


# One scalar function per part, used for records and for a frame's distinct values alike, so
# the API and batch scoring give the same numbers by construction (not just by testing).
PARTS: dict[str, Callable[[datetime], float]] = {
    "year": lambda t: t.year,
    "month": lambda t: t.month,
    "day": lambda t: t.day,
    "day_of_year": lambda t: t.timetuple().tm_yday,
    "day_of_week": lambda t: t.weekday(),  # Monday = 0
    "hour": lambda t: t.hour,
    "days_since_epoch": _days_since_epoch,
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
    return _naive_utc(parsed)


def _naive_utc(when: datetime) -> datetime:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def as_datetime(value: Any) -> datetime | None:
    """An ISO string or a datetime (e.g. from parquet) as a naive UTC datetime, else None."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else _naive_utc(value.to_pydatetime(warn=False))
    if isinstance(value, datetime):
        return _naive_utc(value)
    return parse_iso(value)


def date_parts(column: pd.Series, parts: Sequence[str]) -> dict[str, np.ndarray]:
    """The declared numbers of one date column (float64; missing or invalid dates give NaN).

    Each distinct value is parsed once: a million batch rows hold a few thousand days.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, uniques = column.cat.codes.to_numpy(), list(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
    parsed = [as_datetime(u) for u in uniques]
    out = {}
    for part in parts:
        number = PARTS[part]
        numbers = [np.nan if when is None else number(when) for when in parsed]
        # code -1 (missing) picks the NaN appended at the end
        out[part] = np.array([*numbers, np.nan], dtype=np.float64)[codes]
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
    """Records plus their derived numbers (None for a missing date), as floats."""
    if not dates:
        return list(records)
    out = [dict(r) for r in records]
    for column, parts in dates.items():
        numbers = [(part_column(column, part), PARTS[part]) for part in parts]
        for record in out:
            when = as_datetime(record[column])
            for name, number in numbers:
                record[name] = None if when is None else float(number(when))
    return out
