"""The domain schema: a pandera schema in pandera's YAML format, named by the dataset profile.

This is the single source of truth for what a valid input row is. The validate stage uses
the pandera schema directly; the API and batch scoring use `domain_rules`, a plain summary
of the same schema (type, allowed values, bounds, nullability per feature).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tabml.data.profile import DatasetProfile, schema_path
from tabml.data.schema_file import read_schema
from tabml.errors import TabmlError
from tabml.scoring.rules import DomainRule

if TYPE_CHECKING:  # pandera takes seconds to import: only when a schema is read
    import pandera.pandas as pa


class SchemaConfigError(TabmlError, ValueError):
    """The schema file does not cover the profile's target and features."""


def load_schema(profile: DatasetProfile, configs_dir: Path | None = None) -> pa.DataFrameSchema:
    """Read the profile's pandera schema and check it covers target and features."""
    path = schema_path(profile) if configs_dir is None else schema_path(profile, configs_dir)
    schema = read_schema(path)  # a hand-edited file's mistakes: one line naming the key
    missing = [c for c in [profile.target, *profile.features.all] if c not in schema.columns]
    if missing:
        raise SchemaConfigError(f"{path} has no rules for columns {missing}")
    return schema


def _bounds(column: pa.Column) -> tuple[float | None, float | None]:
    low = high = None
    for check in column.checks:
        stats = check.statistics or {}
        if check.name == "in_range":
            low, high = stats.get("min_value"), stats.get("max_value")
        elif check.name in ("greater_than_or_equal_to", "greater_than"):
            low = stats.get("min_value")
        elif check.name in ("less_than_or_equal_to", "less_than"):
            high = stats.get("max_value")
    return low, high


def _allowed(column: pa.Column) -> tuple[str, ...] | None:
    for check in column.checks:
        if check.name == "isin":
            return tuple(str(v) for v in check.statistics["allowed_values"])
    return None


def domain_rules(profile: DatasetProfile, schema: pa.DataFrameSchema) -> list[DomainRule]:
    """One rule per model feature, in the profile's feature order."""
    rules = []
    dates = profile.features.dates
    for name in profile.features.all:
        column = schema.columns[name]
        if name in dates:  # any valid date: later dates warn (training range), never fail
            date = dates[name]
            rules.append(
                DomainRule(
                    name, "date", bool(column.nullable), parts=tuple(date.parts), format=date.format
                )
            )
            continue
        kind = "numeric" if name in profile.features.numeric else "categorical"
        low, high = _bounds(column)
        rules.append(
            DomainRule(
                name=name,
                kind=kind,
                nullable=bool(column.nullable),
                allowed=_allowed(column) if kind == "categorical" else None,
                minimum=None if low is None else float(low),
                maximum=None if high is None else float(high),
            )
        )
    return rules
