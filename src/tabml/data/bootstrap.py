"""Bootstrap a dataset profile and a pandera schema from your own CSV.

      python -m tabml.cli bootstrap data/external/my.csv --name mydata --target label

writes configs/mydata.yaml and configs/mydata.schema.yaml for a human to review
(`tabml.data.profile_draft`), and says which columns became features (numeric, categorical,
dates with the format they are written in) and which were left out, and why. This module
decides: a text column whose every value is a date in one format is a date (an ambiguous one,
`01/02/2020`, is left out and said so), a column you name with `--categorical` is a category
whatever it holds (an integer-coded one), and categories are listed as the file writes them.
The numeric ranges it writes are the observed min/max, which you should widen to what is
physically possible (the training range is learnt separately, for warnings).
"""

from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from tabml.data.date_detection import DateGuess, guess_format
from tabml.scoring.date_formats import describe_format, format_pattern

MAX_CATEGORIES = 50  # text columns with more distinct values are not used as features
# Text whose typical value is a sentence (this many words or more) is free text, not a category.
FREE_TEXT_WORDS = 5
DATE_PARTS = ["year", "day_of_year"]  # what a date column becomes; edit the profile for more
DATETIME_PARTS = ["year", "day_of_year", "hour"]


@dataclass
class BootstrapSummary:
    """What bootstrap made of each column: the features it kept and the columns it dropped."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dates: dict[str, dict] = field(default_factory=dict)  # column -> {format, parts}
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why
    replaced: dict[str, list[str]] = field(default_factory=dict)  # file -> keys (--force)

    def lines(self) -> list[str]:
        """The summary as printed by `tabml.cli bootstrap`."""

        def names(columns) -> str:
            return ", ".join(columns) or "(none)"

        dates = [
            f"{c} -> {', '.join(d['parts'])} (written {describe_format(d['format'])})"
            for c, d in self.dates.items()
        ]
        out = [
            f"numeric features ({len(self.numeric)}): {names(self.numeric)}",
            f"categorical features ({len(self.categorical)}): {names(self.categorical)}",
            f"date features ({len(self.dates)}): {names(dates)}",
            f"dropped ({len(self.dropped)}):" + ("" if self.dropped else " (none)"),
        ]
        out += [f"  {column}: {why}" for column, why in self.dropped.items()]
        return out + [
            f"replaced {file} (--force); it differed in: {', '.join(keys) or 'its text'}"
            for file, keys in self.replaced.items()
        ]


def _column_kind(
    values: pd.Series, texts: pd.Series, rows: int, categorical: bool
) -> tuple[str, str, DateGuess | None]:
    """(kind, why, date guess): kind is numeric, categorical, date or dropped (`why` says why).

    `values` as pandas infers them, `texts` as written in the file; `categorical`: the user
    said so (`--categorical`), e.g. an integer-coded category.
    """
    present = values.dropna()
    distinct = present.nunique()
    if distinct <= 1:
        return "dropped", "constant column (one value or empty): nothing to learn from", None
    if categorical:
        return "categorical", "", None
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and not pd.api.types.is_integer_dtype(values):
        return "numeric", "", None
    if not numeric:  # before identifiers: timestamps are often unique
        guess = guess_format(texts.dropna())
        if guess is not None and guess.format is not None:
            return "date", "", guess
        if guess is not None:
            return "dropped", guess.why_not(), None
    if not numeric:  # sentences are free text, unique or not
        words = present.astype(str).str.split().str.len().median()
        if words >= FREE_TEXT_WORDS:
            return "dropped", f"free text: a typical value has {words:g} words", None
    if distinct == rows:
        return "dropped", f"identifier: all {rows} values are unique", None
    if numeric:
        return "numeric", "", None
    if distinct > MAX_CATEGORIES:
        return "dropped", f"free text: {distinct} distinct values (> {MAX_CATEGORIES})", None
    return "categorical", "", None


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    texts: pd.DataFrame | None = None,
    categorical: Collection[str] = (),
) -> tuple[pa.DataFrameSchema, BootstrapSummary]:
    """A pandera schema of the observed data and the features it suggests, with reasons.

    `texts`: the same file read as text (categories are listed as written, as validate and
    batch scoring read them); `categorical`: columns to make categorical whatever they hold.
    """
    texts = frame.astype(object).where(frame.notna()) if texts is None else texts
    columns, summary = {}, BootstrapSummary()
    for name in frame.columns:
        values = frame[name]
        nullable = bool(values.isna().any()) or name == target
        wanted = name in categorical and name != target
        kind, why, guess = _column_kind(values, texts[name], len(frame), wanted)
        is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if kind == "date":  # any valid date in its format: later dates are not errors
            check = [pa.Check.str_matches(format_pattern(guess.format))]
            columns[name] = pa.Column("str", check, nullable=nullable, coerce=True)
        elif is_number and kind != "categorical" and values.notna().any():
            low, high = float(values.min()), float(values.max())
            check = [pa.Check.in_range(low, high)]
            columns[name] = pa.Column("float64", check, nullable=nullable, coerce=True)
        elif name == target or kind != "categorical":
            observed = sorted(str(v) for v in values.dropna().unique())
            listed = name == target and len(observed) <= MAX_CATEGORIES
            checks = [pa.Check.isin(observed)] if listed else []
            columns[name] = pa.Column("str", checks, nullable=nullable, coerce=True)
        else:  # a category as written in the file (what validate and batch read)
            observed = sorted(set(texts[name].dropna()))
            columns[name] = pa.Column(
                "str", [pa.Check.isin(observed)], nullable=nullable, coerce=True
            )
        if name == target:
            summary.dropped[name] = "the target itself"
        elif kind == "numeric":
            summary.numeric.append(name)
        elif kind == "categorical":
            summary.categorical.append(name)
        elif kind == "date":
            parts = DATETIME_PARTS if guess.has_time else DATE_PARTS
            summary.dates[name] = {"format": guess.format, "parts": list(parts)}
        else:
            summary.dropped[name] = why
    return pa.DataFrameSchema(columns, coerce=True, strict=False), summary
