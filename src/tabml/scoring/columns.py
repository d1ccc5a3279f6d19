"""One column of a frame (or of records that need converting), normalised and checked.

Per feature kind: the values (numbers as float64 with NaN for missing, categories as text
with the missing-category token, a date's derived numbers), and the reasons of the rows that
break the rules, flagged per distinct value (a million rows hold a few thousand). Every value
goes through `tabml.scoring.values` and `tabml.scoring.dates`: the one rule per kind.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tabml.scoring.dates import PARTS, parse_date, part_column
from tabml.scoring.rules import DomainRule
from tabml.scoring.values import InvalidValue, boolean_spelling, category, number, shown


def distinct(values: Any) -> tuple[np.ndarray, Sequence[Any]]:
    """Codes into the distinct values (-1 for missing) and those values.

    A pandas categorical (batch scoring reads non-numeric features so) already has both; a
    list of record values is its own list of distinct values.
    """
    if isinstance(values, list):
        return np.arange(len(values)), values
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), list(values.cat.categories)
    codes, uniques = pd.factorize(values.astype(object))
    return codes, list(uniques)


class Problems:
    """Reasons per row, formatted only for the rows flagged."""

    def __init__(self) -> None:
        self.found: defaultdict[int, list[str]] = defaultdict(list)

    def flag(self, name: str, mask: np.ndarray, reason: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask):
            self.found[int(i)].append(f"{name}: {reason(int(i))}")

    def per_value(self, name: str, codes: np.ndarray, errors: dict[int, str]) -> np.ndarray:
        """Flag the rows whose distinct value (code) has an error; their mask."""
        if not errors:
            return np.zeros(len(codes), dtype=bool)
        wrong = np.zeros(max(errors) + 2, dtype=bool)  # code -1 (missing) reads the last one
        wrong[list(errors)] = True
        bad = wrong[np.minimum(codes, len(wrong) - 1)]
        self.flag(name, bad, lambda i: errors[int(codes[i])])
        return bad


def _is_number_dtype(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _missing_rows(name: str, rule: DomainRule, missing: np.ndarray, problems: Problems) -> None:
    if not rule.nullable and missing.any():
        problems.flag(name, missing, lambda i: "missing value (not nullable)")


def numeric_column(values: Any, rule: DomainRule, problems: Problems) -> np.ndarray:
    """float64 values (NaN: missing or invalid); flags missing, non-numbers and range."""
    name = rule.name
    if isinstance(values, pd.Series) and _is_number_dtype(values.dtype):
        # the common case of a frame (a million-row batch): numbers already
        found = values.to_numpy(dtype=np.float64, na_value=np.nan)
        _missing_rows(name, rule, np.isnan(found), problems)
        infinite = np.isinf(found)
        if infinite.any():
            problems.flag(name, infinite, lambda i: f"{found[i]} is not finite")
            found = np.where(infinite, np.nan, found)
    else:
        codes, uniques = distinct(values)
        converted, errors = [], {}
        for u, value in enumerate(uniques):
            try:
                converted.append(number(value))
            except InvalidValue as err:
                converted.append(np.nan)
                errors[u] = str(err)
        found = np.append(np.array(converted, dtype=np.float64), np.nan)[codes]
        invalid = problems.per_value(name, codes, errors)
        _missing_rows(name, rule, np.isnan(found) & ~invalid, problems)
    if rule.minimum is not None:
        low = found < rule.minimum
        if low.any():
            problems.flag(name, low, lambda i: f"{found[i]} < minimum {rule.minimum}")
    if rule.maximum is not None:
        high = found > rule.maximum
        if high.any():
            problems.flag(name, high, lambda i: f"{found[i]} > maximum {rule.maximum}")
    return found


def categorical_column(
    values: Any, rule: DomainRule, problems: Problems, token: str
) -> tuple[np.ndarray, np.ndarray]:
    """Texts (missing: `token`) and the missing mask; flags missing, unknown categories."""
    name = rule.name
    allowed = None if rule.allowed is None else frozenset(rule.allowed)
    codes, uniques = distinct(values)
    booleans = boolean_spelling(rule.allowed)
    converted: list[str | None] = []
    errors = {}
    for u, value in enumerate(uniques):
        try:
            text = category(value, booleans)
        except InvalidValue as err:
            text, errors[u] = None, str(err)
        if text is not None and allowed is not None and text not in allowed:
            errors[u] = not_allowed(text, rule)
        converted.append(text)
    table = np.array([token if t is None else t for t in converted] + [token], dtype=object)
    absent = np.array([t is None for t in converted] + [True], dtype=bool)
    invalid = problems.per_value(name, codes, errors)
    missing = absent[codes] & ~invalid
    _missing_rows(name, rule, missing, problems)
    return table[codes], missing


def not_allowed(text: str, rule: DomainRule) -> str:
    return f"{shown(text)} is not one of " + ", ".join(rule.allowed or ())


def date_column(values: Any, rule: DomainRule, problems: Problems) -> dict[str, np.ndarray]:
    """The declared parts of a date column (float64, NaN: missing or invalid); flags bad dates."""
    name, fmt = rule.name, rule.date_format
    codes, uniques = distinct(values)
    parsed, errors = [], {}
    for u, value in enumerate(uniques):
        try:
            parsed.append(parse_date(value, fmt))
        except InvalidValue as err:
            parsed.append(None)
            errors[u] = str(err)
    invalid = problems.per_value(name, codes, errors)
    absent = np.array([p is None for p in parsed] + [True], dtype=bool)
    _missing_rows(name, rule, absent[codes] & ~invalid, problems)
    out = {}
    for part in rule.parts or ():
        compute = PARTS[part]
        numbers = [np.nan if when is None else compute(when) for when in parsed]
        # code -1 (missing) picks the NaN appended at the end
        out[part_column(name, part)] = np.array([*numbers, np.nan], dtype=np.float64)[codes]
    return out
