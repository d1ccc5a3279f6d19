"""Input checks for scoring, derived from the domain rules (the pandera schema), never retyped.

- `request_model`: the pydantic model of an API request (types, allowed categories, hard
  bounds, extra fields forbidden, NaN/Infinity rejected, a maximum number of records).
- `check_frame`: the same rules, vectorised over a DataFrame, giving per-row reasons
  (batch scoring rejects rows instead of failing the whole file).
- `TrainingRange`: values inside the rules but outside what the model saw -> warnings.

Imports neither BentoML nor pandera nor training code.
"""

import keyword
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

from tabml.schema import DomainRule


def rules_to_json(rules: Sequence[DomainRule]) -> list[dict]:
    return [asdict(rule) for rule in rules]


def rules_from_json(data: Sequence[Mapping[str, Any]]) -> list[DomainRule]:
    """Rules back from JSON; absent optional keys mean None."""
    return [
        DomainRule(**{**d, "allowed": None if d.get("allowed") is None else tuple(d["allowed"])})
        for d in data
    ]


def _field_type(rule: DomainRule) -> Any:
    if rule.kind == "numeric":
        base = Annotated[float, Field(ge=rule.minimum, le=rule.maximum, allow_inf_nan=False)]
    elif rule.allowed is not None:
        base = Literal[rule.allowed]
    else:
        base = Annotated[str, Field(max_length=1000)]
    return base | None if rule.nullable else base


def _describe(rule: DomainRule) -> str:
    if rule.kind == "numeric":
        bounds = f"between {rule.minimum} and {rule.maximum}"
        text = f"number {bounds}" if rule.minimum is not None else "number"
    else:
        text = "one of " + ", ".join(rule.allowed) if rule.allowed else "text"
    return text + (" or null" if rule.nullable else "")


def _python_name(name: str, index: int) -> str:
    safe = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
    return name if safe and not hasattr(BaseModel, name) else f"feature_{index}"


def record_model(rules: Sequence[DomainRule]) -> type[BaseModel]:
    """One input record: every feature required (nullable ones accept null), nothing else."""
    fields = {
        _python_name(rule.name, i): (
            _field_type(rule),
            Field(..., alias=rule.name, description=_describe(rule)),
        )
        for i, rule in enumerate(rules)
    }
    config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    return create_model("Record", __config__=config, **fields)


def request_model(rules: Sequence[DomainRule], max_records: int) -> type[BaseModel]:
    """The API request body: `{"records": [record, ...]}` with 1..max_records records."""
    record = record_model(rules)
    config = ConfigDict(extra="forbid", strict=True)
    records = Annotated[list[record], Field(min_length=1, max_length=max_records)]
    return create_model("PredictRequest", __config__=config, records=(records, ...))


Reason = tuple[np.ndarray, Sequence[Any], str]  # (row mask, values, message template)


def _numeric_reasons(raw: pd.Series, rule: DomainRule) -> list[Reason]:
    """Not a number, not finite, below the minimum, above the maximum."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        # Fast path (a million-row batch): a numeric column holds neither text nor booleans.
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        not_a_number = np.zeros(len(values), dtype=bool)
    else:
        raw = raw.astype(object)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        is_bool = raw.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        not_a_number = (raw.notna().to_numpy() & np.isnan(values)) | is_bool
    finite = np.isfinite(values) & ~not_a_number
    found = [
        (not_a_number, raw, "{v!r} is not a number"),
        (np.isinf(values), values, "{v} is not finite"),
    ]
    if rule.minimum is not None:
        found.append((finite & (values < rule.minimum), values, f"{{v}} < minimum {rule.minimum}"))
    if rule.maximum is not None:
        found.append((finite & (values > rule.maximum), values, f"{{v}} > maximum {rule.maximum}"))
    return found


def check_frame(frame: pd.DataFrame, rules: Sequence[DomainRule]) -> list[list[str]]:
    """Per row, the reasons it breaks the rules (an empty list for a valid row).

    Columns outside the rules (a key, the target) are allowed: a frame is a table, not a request.
    """
    found = frame_problems(frame, rules)
    return [found.get(i, []) for i in range(len(frame))]


def distinct_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes into the column's distinct values (-1 for missing) and those values.

    A pandas categorical (batch scoring reads categorical features so) already has both.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, uniques = pd.factorize(column.astype(object))
    return codes, pd.Index(uniques)


def frame_problems(frame: pd.DataFrame, rules: Sequence[DomainRule]) -> dict[int, list[str]]:
    """`check_frame` for large frames: reasons only for rows (positions) that break a rule."""
    reasons: defaultdict[int, list[str]] = defaultdict(list)
    for rule in rules:
        if rule.name not in frame.columns:
            for i in range(len(frame)):
                reasons[i].append(f"{rule.name}: missing column")
            continue
        raw = frame[rule.name]
        missing = raw.isna().to_numpy()
        found: list[Reason] = []
        if not rule.nullable:
            found.append((missing, raw, "missing value (not nullable)"))
        if rule.kind == "numeric":
            found += _numeric_reasons(raw, rule)
        elif rule.allowed is not None:
            # Check each distinct value once: a million rows hold a handful of categories.
            codes, uniques = distinct_codes(raw)
            bad = ~pd.Index(uniques.astype(str)).isin(rule.allowed)
            unknown = (codes >= 0) & np.append(bad, False)[codes]
            found.append((unknown, raw, "{v!r} is not one of " + ", ".join(rule.allowed)))
        for mask, values, template in found:
            for i in np.flatnonzero(mask):  # format messages for flagged rows only
                v = values.iat[i] if isinstance(values, pd.Series) else values[i]
                reasons[int(i)].append(f"{rule.name}: " + template.format(v=v))
    return dict(reasons)


class TrainingRange:
    """The training-range profile (models/training_profile.json) as a fast warning checker."""

    def __init__(self, profile: Mapping[str, Any]):
        self.numeric = {n: (s["min"], s["max"]) for n, s in profile["numeric"].items()}
        self.categories = {n: frozenset(s["categories"]) for n, s in profile["categorical"].items()}

    def warnings_for(self, record: Mapping[str, Any]) -> list[dict]:
        """Warnings for one record: features inside the domain rules but unseen in training."""
        found = []
        for name, (low, high) in self.numeric.items():
            value = record.get(name)
            if value is not None and not math.isnan(value) and not low <= value <= high:
                found.append(
                    {
                        "feature": name,
                        "value": value,
                        "training_range": [low, high],
                        "message": f"{name}={value} is outside the training range [{low}, {high}]",
                    }
                )
        for name, seen in self.categories.items():
            value = record.get(name)
            if value is not None and value not in seen:
                found.append(
                    {
                        "feature": name,
                        "value": value,
                        "training_categories": sorted(seen),
                        "message": f"{name}={value!r} was not seen in training",
                    }
                )
        return found

    def warnings_for_frame(self, frame: pd.DataFrame) -> list[list[dict]]:
        """Warnings per row of a frame (missing values never warn)."""
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        return [self.warnings_for(row) for row in rows]
