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
    kind: str  # "numeric" or "categorical"
    nullable: bool
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


def rules_to_json(rules: Sequence[DomainRule]) -> list[dict]:
    return [asdict(rule) for rule in rules]


def rules_from_json(data: Sequence[Mapping[str, Any]]) -> list[DomainRule]:
    """Rules back from JSON; absent optional keys mean None."""
    return [
        DomainRule(**{**d, "allowed": None if d.get("allowed") is None else tuple(d["allowed"])})
        for d in data
    ]
