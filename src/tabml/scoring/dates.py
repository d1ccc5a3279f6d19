"""Date features: a text column in a declared format, turned into the numbers the model sees.

A profile declares each date column's `format` and parts, e.g. `Date Egg: {format: "%d.%m.%Y",
parts: [year, day_of_year]}`; the model then sees `Date Egg (year)` and `Date Egg
(day_of_year)`. Formats are Python's `strptime` codes, or `ISO8601`: any ISO 8601 date or date
and time, with or without a UTC offset (what a profile without a `format` means). Training,
the API and batch scoring parse with this one module, value by value, so they agree to the
bit. Times with a UTC offset are converted to UTC; times without one are read as they are. A
typed timestamp or date (a parquet column) needs no format.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from tabml.scoring.date_formats import ISO8601, ISO_DATE, describe_format
from tabml.scoring.values import InvalidValue, is_missing, shown, text_of

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


def _naive_utc(when: datetime) -> datetime:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def parse_iso(value: str) -> datetime | None:
    """An ISO date or datetime string as a naive UTC datetime; None if it is not one."""
    if not ISO_DATE.match(value):
        return None
    try:
        return _naive_utc(datetime.fromisoformat(value))
    except ValueError:  # matches the pattern but names no real day (2023-02-30)
        return None


@lru_cache(maxsize=65_536)  # a stream of requests repeats the same few thousand days
def parse_text(value: str, fmt: str) -> datetime | None:
    """A date string in format `fmt` as a naive UTC datetime; None if it is not one."""
    if fmt == ISO8601:
        return parse_iso(value)
    try:
        return _naive_utc(datetime.strptime(value, fmt))
    except ValueError:
        return None


def parse_date(value: Any, fmt: str) -> datetime | None:
    """A date feature's value as a naive UTC datetime (None when missing).

    Raises:
        InvalidValue: text that is not a date in `fmt`, or a value of another type.
    """
    if isinstance(value, bytes | bytearray):
        value = text_of(value)
    if isinstance(value, str):
        parsed = parse_text(value, fmt)
        if parsed is None:
            raise InvalidValue(f"{shown(value)} is not a date in the format {describe_format(fmt)}")
        return parsed
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else _naive_utc(value.to_pydatetime(warn=False))
    if isinstance(value, datetime):
        return _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if is_missing(value):
        return None
    raise InvalidValue(f"{shown(value)} is not a date in the format {describe_format(fmt)}")
