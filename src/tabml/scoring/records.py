"""API records whose values already have their feature's type: checked in plain Python.

The request model hands over numbers (or null) for numeric features and text (or null) for
the others. For a request's few records, checking them value by value in Python costs less
than the per-call cost of numpy, and keeps `/predict` at its throughput (docs/benchmarks.md,
serving); anything else (in-process records with text numbers, bytes, booleans) goes through
the per-column rules of `tabml.scoring.columns`, which give the same values.
"""

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tabml.scoring.columns import Problems, date_column, not_allowed

if TYPE_CHECKING:
    from tabml.scoring.inputs import InputRules

Columns = tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[int, list[str]]]

PLAIN_NUMBER = frozenset({float, int, type(None)})
INFINITE = (math.inf, -math.inf)


def plain_records(rules: "InputRules", records: Sequence[Mapping[str, Any]]) -> Columns | None:
    """(numbers, texts, missing, problems) of API records whose values are of their feature's
    type already (numbers or null, text or null), as lists; None if a value needs converting
    (then `InputRules.read` takes the per-column way)."""
    problems: defaultdict[int, list[str]] = defaultdict(list)
    numbers: dict[str, Any] = {}  # lists (a date's parts: arrays)
    texts: dict[str, Any] = {}
    missing: dict[str, Any] = {}
    dates: dict[str, Any] = {}
    for rule in rules.rules:
        name = rule.name
        values = [r[name] for r in records]
        if rule.kind == "numeric":
            low, high = rule.minimum, rule.maximum
            for i, v in enumerate(values):
                if v.__class__ not in PLAIN_NUMBER:
                    return None
                if v is None or v != v:  # None or NaN: missing
                    if not rule.nullable:
                        problems[i].append(f"{name}: missing value (not nullable)")
                elif v in INFINITE:
                    problems[i].append(f"{name}: {float(v)} is not finite")
                elif low is not None and v < low:
                    problems[i].append(f"{name}: {float(v)} < minimum {low}")
                elif high is not None and v > high:
                    problems[i].append(f"{name}: {float(v)} > maximum {high}")
            if None in values:
                values = [math.nan if v is None else v for v in values]
            numbers[name] = values
        elif rule.kind == "categorical":
            allowed = rules.allowed[name]
            for i, v in enumerate(values):
                if v is None:
                    if not rule.nullable:
                        problems[i].append(f"{name}: missing value (not nullable)")
                elif v.__class__ is not str:
                    return None
                elif allowed is not None and v not in allowed:
                    problems[i].append(f"{name}: {not_allowed(v, rule)}")
            if None in values:
                token = rules.missing_category
                missing[name] = [v is None for v in values]
                texts[name] = [token if v is None else v for v in values]
            else:
                missing[name], texts[name] = [False] * len(values), values
        else:
            found = Problems()
            dates.update(date_column(values, rule, found))
            for i, reasons in found.found.items():
                problems[i].extend(reasons)
    if problems:  # an infinite number is invalid: NaN like every invalid value
        for name, column in numbers.items():
            numbers[name] = [math.nan if v in INFINITE else v for v in column]
    numbers.update(dates)
    return numbers, texts, missing, dict(problems)
