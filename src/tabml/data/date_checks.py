"""Raw date columns against their declared format: a report line per column, or one fatal line.

Each distinct value is parsed by the runtime's own parser (`tabml.scoring.dates`), the one
training, the API and batch scoring use, so validate passes exactly the dates they can read:
a day that does not exist or a value in another layout is a report line with its rows. A
column holding values of which none parses is declared in the wrong format: that is the
fatal line, with the format its values look like (`tabml.data.date_detection`) when there is
one.
"""

from collections.abc import Mapping

import pandas as pd

from tabml.data.date_detection import guess_format
from tabml.data.validation import MAX_EXAMPLES, Failure, jsonable
from tabml.scoring.date_formats import describe_format
from tabml.scoring.dates import parse_date
from tabml.scoring.values import InvalidValue


def _parses(value: object, fmt: str) -> bool:
    try:
        return parse_date(value, fmt) is not None
    except InvalidValue:
        return False


def date_failures(
    frame: pd.DataFrame, dates: Mapping[str, str]
) -> tuple[list[Failure], str | None]:
    """Per date column (column -> declared format), the values that are no date in it; and
    the fatal line of the first column in which no value is."""
    failures, fatal = [], None
    for column, fmt in dates.items():
        if column not in frame.columns:
            continue  # the schema reports a missing column
        present = frame[column].dropna()
        bad = [v for v in present.unique() if not _parses(v, fmt)]
        if not bad:
            continue
        wrong = frame[column].isin(bad).to_numpy()
        examples = [jsonable(v) for v in bad[:MAX_EXAMPLES]]
        rows = [int(i) for i in frame.index[wrong][:MAX_EXAMPLES]]
        check = f"date in the format {describe_format(fmt)}"
        failures.append(Failure(column, check, int(wrong.sum()), examples, rows))
        if fatal is None and len(bad) == present.nunique():
            guess = guess_format(present)
            looks = guess.format if guess is not None else None
            hint = f" (its values look like {describe_format(looks)})" if looks else ""
            fatal = (
                f"column {column!r}: no value is a date in the format {describe_format(fmt)}, "
                f"e.g. {bad[0]!r}{hint}: declare its format in the profile, "
                f"features.dates.{column}.format (docs/own-data.md, Dates)"
            )
    return failures, fatal
