"""The API's request model, built from the domain rules (never retyped).

Types, allowed categories and hard bounds per feature, dates in their declared format, extra
fields forbidden, NaN/Infinity rejected, and a maximum number of records per request. A value
of another JSON type is converted by the runtime's rules (`tabml.scoring.values`: `"48.6"`
for a number, `3` or `true` for a category), as batch scoring converts it, and then checked;
one that no rule converts keeps pydantic's own error.
"""

import keyword
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from tabml.scoring.date_formats import describe_format, format_pattern
from tabml.scoring.dates import parse_date
from tabml.scoring.rules import DomainRule
from tabml.scoring.values import InvalidValue, boolean_spelling, category, number


def _date_check(fmt: str):
    def check(value: str) -> str:
        """Keep the string (the input path derives the numbers); refuse what is no date."""
        try:
            parse_date(value, fmt)
        except InvalidValue as err:
            raise ValueError(str(err)) from None
        return value

    return check


def _field_type(rule: DomainRule) -> Any:
    if rule.kind == "numeric":
        base = Annotated[float, Field(ge=rule.minimum, le=rule.maximum, allow_inf_nan=False)]
    elif rule.kind == "date":
        fmt = rule.date_format
        shape = Field(max_length=64, json_schema_extra={"pattern": format_pattern(fmt)})
        base = Annotated[str, shape, AfterValidator(_date_check(fmt))]
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
        text = f"date, {describe_format(rule.date_format)}"
    else:
        text = "one of " + ", ".join(rule.allowed) if rule.allowed else "text"
    return text + (" or null" if rule.nullable else "")


def _converted(rule: DomainRule, value: Any) -> Any:
    """`value` converted by the runtime's rule for its kind, or itself if none applies."""
    try:
        if rule.kind == "numeric" and isinstance(value, str):
            return number(value)
        if rule.kind == "categorical" and isinstance(value, bool | int | float):
            return category(value, boolean_spelling(rule.allowed))
    except InvalidValue:
        pass
    return value


class _Record(BaseModel):
    """One record; on a validation error, converted values get a second chance."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    __rules__: ClassVar[dict[str, DomainRule]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _convert_on_failure(cls, data: Any, handler: Any) -> Any:
        # The common case costs one call: only a record that fails is looked at again.
        try:
            return handler(data)
        except ValidationError:
            if not isinstance(data, dict):
                raise
            converted = {k: _converted(cls.__rules__[k], v) if k in cls.__rules__ else v
                         for k, v in data.items()}  # fmt: skip
            if converted == data:
                raise
            return handler(converted)


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
    record = create_model("Record", __base__=_Record, **fields)
    record.__rules__ = {rule.name: rule for rule in rules}
    return record


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
