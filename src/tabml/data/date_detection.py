"""Which date format a text column is written in: bootstrap's guess, never a silent one.

Every present value must parse in a candidate format. The candidates are the common layouts
(`YYYY-MM-DD`, `YYYY/MM/DD`, `DD.MM.YYYY`, `MM/DD/YYYY`, and `DD/MM/YYYY`, which is how a
column that reads both ways is noticed), each with or without a time (`hh:mm`, `hh:mm:ss`,
fractions of a second; after a space or a `T`), a time with or without a UTC offset. One
fitting format is the answer; a column that reads as both `MM/DD/YYYY` and `DD/MM/YYYY` (no
day above 12 anywhere) is ambiguous and reported, not guessed; ISO 8601 values in mixed
shapes (some with a time, some without) are `ISO8601`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from tabml.scoring.date_formats import ISO8601, describe_format
from tabml.scoring.dates import parse_text

LAYOUTS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y")
TIMES = (" %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f")
CANDIDATES = tuple([*LAYOUTS, *(d + t + z for d in LAYOUTS for t in TIMES for z in ("", "%z"))])
SWAPPED = ("%m/%d/%Y", "%d/%m/%Y")  # the same text can read as both
MAX_VALUES = 10_000  # distinct values tried (a date column holds a few thousand days)


@dataclass(frozen=True)
class DateGuess:
    """A column's date format, or the formats it reads as equally well (`ambiguous`)."""

    format: str | None = None
    ambiguous: tuple[str, ...] = ()
    example: str | None = None

    @property
    def has_time(self) -> bool:
        return self.format is not None and ("%H" in self.format or self.format == ISO8601)

    def why_not(self) -> str:
        """Why bootstrap leaves an ambiguous column out."""
        shapes = " and as ".join(describe_format(f) for f in self.ambiguous)
        return (
            f"ambiguous date: every value reads as {shapes} (e.g. {self.example!r}); declare "
            "it under features.dates with the format it is in (docs/own-data.md, Dates)"
        )


def guess_format(values: Iterable[object]) -> DateGuess | None:
    """The date format of the present text values, or a DateGuess naming the formats they are
    ambiguous between, or None if they are not dates written one way."""
    texts = sorted({v for v in values if isinstance(v, str)})[:MAX_VALUES]
    if not texts:
        return None
    # all() stops at a value's first failure: a wrong candidate costs a value or two
    fitting = [f for f in CANDIDATES if all(parse_text(v, f) is not None for v in texts)]
    if len(fitting) == 1:
        return DateGuess(fitting[0])
    if fitting and all(f.startswith(SWAPPED) for f in fitting):
        return DateGuess(ambiguous=tuple(fitting), example=texts[0])
    if all(parse_text(v, ISO8601) is not None for v in texts):
        return DateGuess(ISO8601)
    return None
