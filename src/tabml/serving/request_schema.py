"""The API's request model, built from the domain rules (never retyped).

Types, allowed categories and hard bounds per feature, extra fields forbidden, NaN/Infinity
rejected, and a maximum number of records per request.
"""

import keyword
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from tabml.scoring.rules import DomainRule
from tabml.scoring.transforms import ISO_DATE_PATTERN, parse_iso


def _iso_date(value: str) -> str:
    """Keep the string (the service derives the numbers); refuse days that do not exist."""
    if parse_iso(value) is None:
        raise ValueError(f"{value!r} is not a valid ISO date")
    return value


def _field_type(rule: DomainRule) -> Any:
    if rule.kind == "numeric":
        base = Annotated[float, Field(ge=rule.minimum, le=rule.maximum, allow_inf_nan=False)]
    elif rule.kind == "date":
        pattern = Field(max_length=64, pattern=ISO_DATE_PATTERN)
        base = Annotated[str, pattern, AfterValidator(_iso_date)]
    elif rule.allowed is not None:
        base = Literal[rule.allowed]
    else:
        base = Annotated[str, Field(max_length=1000)]
    return base | None if rule.nullable else base


def _describe(rule: DomainRule) -> str:
    if rule.kind == "numeric":
        bounds = f"between {rule.minimum} and {rule.maximum}"
        text = f"number {bounds}" if rule.minimum is not None else "number"
    elif rule.kind == "date":
        text = "ISO date, e.g. 2009-11-27 (or a date and time, 2009-11-27T14:30:00Z)"
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
    """The API request body: `{"records": [record, ...], "explain": false}`, 1..max_records.

    `explain`: true adds the 3 largest feature contributions to each answer, a number k the
    k largest (tabml.scoring.explain); absent or false, answers are unchanged.
    """
    record = record_model(rules)
    config = ConfigDict(extra="forbid", strict=True)
    records = Annotated[list[record], Field(min_length=1, max_length=max_records)]
    top = Annotated[int, Field(ge=1, le=max(len(rules), 1))]
    explain = Field(False, description="true, or how many feature contributions to show")
    return create_model(
        "PredictRequest", __config__=config, records=(records, ...), explain=(bool | top, explain)
    )
