"""Bootstrap a dataset profile and a pandera schema from your own CSV.

      python -m tabml.cli bootstrap data/external/my.csv --name mydata --target label

writes configs/mydata.yaml and configs/mydata.schema.yaml for a human to review, and says
which columns became features (numeric, categorical, dates) and which were left out, and why.
The numeric ranges it writes are the observed min/max, which you should widen to what is
physically possible (the training range is learnt separately, for warnings).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from tabml import atomic, paths
from tabml.data.profile import ProfileError
from tabml.data.task import infer_task
from tabml.scoring.date_formats import ISO_DATE_PATTERN
from tabml.scoring.dates import parse_iso
from tabml.tables import sha256_of

MAX_CATEGORIES = 50  # text columns with more distinct values are not used as features
# Text whose typical value is a sentence (this many words or more) is free text, not a category.
FREE_TEXT_WORDS = 5
DATE_PARTS = ["year", "day_of_year"]  # what a date column becomes; edit the profile for more
DATETIME_PARTS = ["year", "day_of_year", "hour"]
_TIME = re.compile(r"[T ]\d")


@dataclass
class BootstrapSummary:
    """What bootstrap made of each column: the features it kept and the columns it dropped."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dates: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why

    def lines(self) -> list[str]:
        """The summary as printed by `tabml.cli bootstrap`."""

        def names(columns) -> str:
            return ", ".join(columns) or "(none)"

        dates = [f"{c} -> {', '.join(p)}" for c, p in self.dates.items()]
        out = [
            f"numeric features ({len(self.numeric)}): {names(self.numeric)}",
            f"categorical features ({len(self.categorical)}): {names(self.categorical)}",
            f"date features ({len(self.dates)}): {names(dates)}",
            f"dropped ({len(self.dropped)}):" + ("" if self.dropped else " (none)"),
        ]
        return out + [f"  {column}: {why}" for column, why in self.dropped.items()]


def _iso_dates(values: pd.Series) -> bool:
    """Every present value is an ISO date or datetime string (and there is at least one)."""
    present = values.dropna()
    return len(present) > 0 and all(parse_iso(v) is not None for v in present.astype(str))


def _column_kind(values: pd.Series, rows: int) -> tuple[str, str]:
    """(kind, why): kind is numeric, categorical, date, or dropped (then `why` says why)."""
    present = values.dropna()
    distinct = present.nunique()
    if distinct <= 1:
        return "dropped", "constant column (one value or empty): nothing to learn from"
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and not pd.api.types.is_integer_dtype(values):
        return "numeric", ""
    if not numeric and _iso_dates(values):  # before identifiers: timestamps are often unique
        return "date", ""
    if distinct == rows:
        return "dropped", f"identifier: all {rows} values are unique"
    if numeric:
        return "numeric", ""
    if distinct > MAX_CATEGORIES:
        return "dropped", f"free text: {distinct} distinct values (> {MAX_CATEGORIES})"
    words = present.astype(str).str.split().str.len().median()
    if words >= FREE_TEXT_WORDS:
        return "dropped", f"free text: a typical value has {words:g} words"
    return "categorical", ""


def infer_schema(frame: pd.DataFrame, target: str) -> tuple[pa.DataFrameSchema, BootstrapSummary]:
    """A pandera schema of the observed data and the features it suggests, with reasons."""
    columns, summary = {}, BootstrapSummary()
    for name in frame.columns:
        values = frame[name]
        nullable = bool(values.isna().any()) or name == target
        kind, why = _column_kind(values, len(frame))
        is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if is_number and values.notna().any():
            low, high = float(values.min()), float(values.max())
            check = [pa.Check.in_range(low, high)]
            columns[name] = pa.Column("float64", check, nullable=nullable, coerce=True)
        elif kind == "date":  # any valid ISO date: later dates are not errors
            check = [pa.Check.str_matches(ISO_DATE_PATTERN)]
            columns[name] = pa.Column("str", check, nullable=nullable, coerce=True)
        else:
            observed = sorted(str(v) for v in values.dropna().unique())
            listed = kind == "categorical" or (name == target and len(observed) <= MAX_CATEGORIES)
            checks = [pa.Check.isin(observed)] if listed else []
            columns[name] = pa.Column("str", checks, nullable=nullable, coerce=True)
        if name == target:
            summary.dropped[name] = "the target itself"
        elif kind == "numeric":
            summary.numeric.append(name)
        elif kind == "categorical":
            summary.categorical.append(name)
        elif kind == "date":
            timed = values.dropna().astype(str).str.contains(_TIME).any()
            summary.dates[name] = list(DATETIME_PARTS if timed else DATE_PARTS)
        else:
            summary.dropped[name] = why
    return pa.DataFrameSchema(columns, coerce=True, strict=False), summary


def write_profile(
    csv: Path, name: str, target: str, configs_dir: Path = paths.CONFIGS
) -> BootstrapSummary:
    """Write configs/<name>.yaml and configs/<name>.schema.yaml from `csv`; say what it did."""
    frame = pd.read_csv(csv)
    if target not in frame.columns:
        raise ProfileError(f"{csv} has no column {target!r}; columns: {list(frame.columns)}")
    schema, summary = infer_schema(frame, target)
    features: dict = {"numeric": summary.numeric, "categorical": summary.categorical}
    if summary.dates:
        features["dates"] = summary.dates
    profile = {
        "name": name,
        "description": f"Bootstrapped from {csv}; review before use.",
        "source": {"path": str(csv), "sha256": sha256_of(csv)},
        "target": target,
        "task": infer_task(frame[target]),
        "features": features,
    }
    atomic.write_text(configs_dir / f"{name}.yaml", yaml.safe_dump(profile, sort_keys=False))
    atomic.write_text(configs_dir / f"{name}.schema.yaml", schema.to_yaml())
    return summary
