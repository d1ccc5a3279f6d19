"""The domain rules: what each feature may hold, as plain data the shipped runtime can read.

`tabml.data.schema.domain_rules` reads them off the pandera schema at package time; they
travel to serving and batch scoring as JSON in the model's metadata (`rules_to_json`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DomainRule:
    """What one feature may hold, read off the pandera schema."""

    name: str
    kind: str  # "numeric", "categorical" or "date" (an ISO date string)
    nullable: bool
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # A date's declared numbers (tabml.scoring.transforms.PARTS), e.g. ("year", "day_of_year").
    parts: tuple[str, ...] | None = None


def rules_to_json(rules: Sequence[DomainRule]) -> list[dict]:
    # `parts` only where there are some: the metadata of a model without dates (and so its
    # content hash, the model version) stays what it was before dates existed.
    return [
        {k: v for k, v in asdict(rule).items() if k != "parts" or v is not None} for rule in rules
    ]


def _tuple(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


def rules_from_json(data: Sequence[Mapping[str, Any]]) -> list[DomainRule]:
    """Rules back from JSON; absent optional keys mean None."""
    return [
        DomainRule(**{**d, "allowed": _tuple(d.get("allowed")), "parts": _tuple(d.get("parts"))})
        for d in data
    ]


def date_columns(rules: Sequence[DomainRule]) -> dict[str, tuple[str, ...]]:
    """The date columns of the rules and the numbers declared for each."""
    return {rule.name: rule.parts or () for rule in rules if rule.kind == "date"}
