"""The domain rules: what each feature may hold, as plain data the shipped runtime can read.

`tabml.data.schema.domain_rules` reads them off the pandera schema and the profile at package
time; they travel to serving and batch scoring in the model's metadata
(`tabml.scoring.metadata.ModelMetadata.domain_rules`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tabml.scoring.date_formats import ISO8601

OPTIONAL = ("parts", "format")  # written only where set (a date's)


@dataclass(frozen=True)
class DomainRule:
    """What one feature may hold, read off the pandera schema."""

    name: str
    kind: Literal["numeric", "categorical", "date"]
    nullable: bool
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # A date's declared numbers (tabml.scoring.dates.PARTS), e.g. ("year", "day_of_year").
    parts: tuple[str, ...] | None = None
    # A date's format (tabml.scoring.dates); None in models packaged before formats: ISO8601.
    format: str | None = None

    @property
    def date_format(self) -> str:
        return self.format or ISO8601


def rules_to_json(rules: Sequence[DomainRule]) -> list[dict]:
    # `parts` and `format` only where there are some: a model without dates keeps the
    # metadata it had before dates existed.
    return [
        {k: v for k, v in asdict(rule).items() if k not in OPTIONAL or v is not None}
        for rule in rules
    ]


def _tuple(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


def rules_from_json(data: Sequence[Mapping[str, Any]]) -> list[DomainRule]:
    """Rules back from JSON; absent optional keys mean None."""
    return [
        DomainRule(**{**d, "allowed": _tuple(d.get("allowed")), "parts": _tuple(d.get("parts"))})
        for d in data
    ]
