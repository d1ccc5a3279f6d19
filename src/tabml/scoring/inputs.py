"""The one input path: records or a frame -> checked, normalised model inputs -> ONNX feeds.

`InputRules` are the domain rules of a model's raw features (from its metadata, or for
training from the profile). `InputRules.read(data)` takes API records (mappings) or a pandas
frame (CSV or parquet chunks, the training split) and returns `Inputs`: one column per model
input (numbers as float64 with the date parts derived, categories as text), the reasons each
invalid row breaks a rule, and the ONNX feeds. Every value goes through the rules of
`tabml.scoring.values` and `tabml.scoring.dates`, distinct values once per column, so a
record, a CSV cell and a parquet value that mean the same give the same feed, and training's
model frame (`Inputs.model_frame`) is built by the same code.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tabml.errors import TabmlError
from tabml.scoring.date_formats import describe_format
from tabml.scoring.dates import PARTS, parse_date, part_column
from tabml.scoring.rules import DomainRule
from tabml.scoring.values import InvalidValue, boolean_spelling, category, number, shown

# Missing categories are fed as "" (ONNX string tensors have no null): to the one-hot encoder
# that is a category like any other (docs/architecture.md, "Decisions").
MISSING_CATEGORY = ""
_PLAIN_NUMBER = frozenset({float, int, type(None)})
_INFINITE = (math.inf, -math.inf)


class InputError(TabmlError, ValueError):
    """Rows that break the domain rules where no row may (training data, in-process records)."""


@dataclass
class Inputs:
    """Normalised model inputs of N rows, and what is wrong with the invalid ones.

    A column is a numpy array, or (API records) a plain list: for a request's few records,
    lists are cheaper to make and read than arrays, and feeds are made from either alike.
    """

    rows: int
    numbers: dict[str, Any]  # model numeric input -> float [N] (NaN: missing or invalid)
    texts: dict[str, Any]  # categorical input -> str [N] (missing: the token)
    missing: dict[str, Any]  # categorical input -> bool [N]
    problems: dict[int, list[str]] = field(default_factory=dict)  # row -> "name: reason"
    input_of: Mapping[str, str] | None = None  # model input -> ONNX input name

    @property
    def valid(self) -> np.ndarray:
        mask = np.ones(self.rows, dtype=bool)
        mask[list(self.problems)] = False
        return mask

    def take(self, mask: np.ndarray) -> "Inputs":
        """The rows where `mask` is true (their problems are not kept)."""

        def rows(columns: dict[str, Any]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v)[mask] for k, v in columns.items()}

        return Inputs(
            int(mask.sum()),
            rows(self.numbers),
            rows(self.texts),
            rows(self.missing),
            {},
            self.input_of,
        )

    def checked(self) -> "Inputs":
        """These inputs, or InputError naming the first invalid rows."""
        if self.problems:
            first = sorted(self.problems)[:5]
            shown_rows = "; ".join(f"row {i}: {', '.join(self.problems[i])}" for i in first)
            more = f" (and {len(self.problems) - 5} more rows)" if len(self.problems) > 5 else ""
            raise InputError(f"{len(self.problems)} invalid rows: {shown_rows}{more}")
        return self

    @property
    def feeds(self) -> dict[str, np.ndarray]:
        """The ONNX input tensors ([N, 1] each): numbers as float32, categories as text."""
        return self.repeated_feeds(1)

    def repeated_feeds(self, times: int) -> dict[str, np.ndarray]:
        """`feeds` with every row `times` times in a row (`PackagedModel.predict` scores a
        single row as two: see `PackagedModel.run`)."""
        if self.input_of is None:
            raise ValueError("inputs read without a model have no ONNX names")
        feeds = {}
        for kinds, dtype in ((self.numbers, np.float32), (self.texts, object)):
            for name, column in kinds.items():
                if isinstance(column, list):  # API records: one numpy call per column
                    feed = np.array([[v] for v in column for _ in range(times)], dtype=dtype)
                else:
                    feed = np.asarray(column, dtype=dtype).reshape(-1, 1)
                    feed = np.repeat(feed, times, axis=0) if times > 1 else feed
                feeds[self.input_of[name]] = feed
        return feeds

    def model_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The scikit-learn pipeline's input: float32 numbers, then categories (training)."""
        columns = {k: np.asarray(v, dtype=np.float32) for k, v in self.numbers.items()}
        frame = pd.DataFrame(columns, index=index)
        for name, texts in self.texts.items():  # object, not pandas' str: what ONNX is fed
            column = np.asarray(texts, dtype=object)
            frame[name] = pd.Series(column, index=frame.index, dtype=object)
        return frame


def _distinct(values: Any) -> tuple[np.ndarray, Sequence[Any]]:
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


class _Problems:
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


@dataclass(frozen=True)
class InputRules:
    """The rules of a model's raw features and the model inputs they become."""

    rules: tuple[DomainRule, ...]
    missing_category: str = MISSING_CATEGORY

    @property
    def model_numeric(self) -> list[str]:
        """Numeric inputs: the numeric features, then every date's parts (the ONNX order)."""
        numeric = [r.name for r in self.rules if r.kind == "numeric"]
        dates = [
            part_column(r.name, p) for r in self.rules if r.kind == "date" for p in r.parts or ()
        ]
        return numeric + dates

    @property
    def categorical(self) -> list[str]:
        return [r.name for r in self.rules if r.kind == "categorical"]

    @property
    def features(self) -> list[str]:
        """The raw features a record holds, in the request's order."""
        return [r.name for r in self.rules]

    @cached_property
    def _allowed(self) -> dict[str, frozenset[str] | None]:
        return {r.name: None if r.allowed is None else frozenset(r.allowed) for r in self.rules}

    def read(self, data: pd.DataFrame | Sequence[Mapping[str, Any]], input_of=None) -> Inputs:
        """Normalise and check records (mappings) or a frame; see the module docstring."""
        frame = isinstance(data, pd.DataFrame)
        if not frame:
            plain = self._read_plain_records(data, input_of)
            if plain is not None:
                return plain
        rows = len(data)
        problems = _Problems()
        numbers: dict[str, np.ndarray] = {}
        dates: dict[str, np.ndarray] = {}
        texts: dict[str, np.ndarray] = {}
        missing: dict[str, np.ndarray] = {}
        for rule in self.rules:
            if frame and rule.name not in data.columns:
                problems.flag(rule.name, np.ones(rows, dtype=bool), lambda i: "missing column")
                rule = replace(rule, nullable=True)  # one reason per row is enough
                values: Any = [None] * rows
            else:
                values = data[rule.name] if frame else [r[rule.name] for r in data]
            if rule.kind == "numeric":
                numbers[rule.name] = _numeric(values, rule, problems)
            elif rule.kind == "date":
                dates.update(_date(values, rule, problems))
            else:
                texts[rule.name], missing[rule.name] = _categorical(
                    values, rule, problems, self.missing_category
                )
        numbers.update(dates)  # date parts after the numeric features, as the model has them
        return Inputs(rows, numbers, texts, missing, dict(problems.found), input_of)

    def _read_plain_records(self, records: Sequence[Mapping[str, Any]], input_of) -> Inputs | None:
        """`read` of API records whose values are of their feature's type already (numbers or
        null, text or null): checked in plain Python, since a request holds a few records and
        numpy's per-call cost would exceed the work. None if a value needs converting."""
        problems: defaultdict[int, list[str]] = defaultdict(list)
        numbers: dict[str, np.ndarray] = {}
        texts: dict[str, np.ndarray] = {}
        missing: dict[str, np.ndarray] = {}
        dates: dict[str, np.ndarray] = {}
        for rule in self.rules:
            name = rule.name
            values = [r[name] for r in records]
            if rule.kind == "numeric":
                low, high = rule.minimum, rule.maximum
                for i, v in enumerate(values):
                    if v.__class__ not in _PLAIN_NUMBER:
                        return None
                    if v is None or v != v:  # None or NaN: missing
                        if not rule.nullable:
                            problems[i].append(f"{name}: missing value (not nullable)")
                    elif v in _INFINITE:
                        problems[i].append(f"{name}: {float(v)} is not finite")
                    elif low is not None and v < low:
                        problems[i].append(f"{name}: {float(v)} < minimum {low}")
                    elif high is not None and v > high:
                        problems[i].append(f"{name}: {float(v)} > maximum {high}")
                if None in values:
                    values = [math.nan if v is None else v for v in values]
                numbers[name] = values
            elif rule.kind == "categorical":
                allowed = self._allowed[name]
                for i, v in enumerate(values):
                    if v is None:
                        if not rule.nullable:
                            problems[i].append(f"{name}: missing value (not nullable)")
                    elif v.__class__ is not str:
                        return None
                    elif allowed is not None and v not in allowed:
                        problems[i].append(f"{name}: {_not_allowed(v, rule)}")
                if None in values:
                    token = self.missing_category
                    missing[name] = [v is None for v in values]
                    texts[name] = [token if v is None else v for v in values]
                else:
                    missing[name], texts[name] = [False] * len(values), values
            else:
                found = _Problems()
                dates.update(_date(values, rule, found))
                for i, reasons in found.found.items():
                    problems[i].extend(reasons)
        if problems:  # an infinite number is invalid: NaN like every invalid value
            for name, column in numbers.items():
                numbers[name] = [math.nan if v in _INFINITE else v for v in column]
        numbers.update(dates)
        return Inputs(len(records), numbers, texts, missing, dict(problems), input_of)


def _is_number_dtype(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _missing_rows(name: str, rule: DomainRule, missing: np.ndarray, problems: _Problems) -> None:
    if not rule.nullable and missing.any():
        problems.flag(name, missing, lambda i: "missing value (not nullable)")


def _numeric(values: Any, rule: DomainRule, problems: _Problems) -> np.ndarray:
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
        codes, uniques = _distinct(values)
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


def _categorical(
    values: Any, rule: DomainRule, problems: _Problems, token: str
) -> tuple[np.ndarray, np.ndarray]:
    """Texts (missing: `token`) and the missing mask; flags missing, unknown categories."""
    name = rule.name
    allowed = None if rule.allowed is None else frozenset(rule.allowed)
    codes, uniques = _distinct(values)
    booleans = boolean_spelling(rule.allowed)
    converted: list[str | None] = []
    errors = {}
    for u, value in enumerate(uniques):
        try:
            text = category(value, booleans)
        except InvalidValue as err:
            text, errors[u] = None, str(err)
        if text is not None and allowed is not None and text not in allowed:
            errors[u] = _not_allowed(text, rule)
        converted.append(text)
    table = np.array([token if t is None else t for t in converted] + [token], dtype=object)
    absent = np.array([t is None for t in converted] + [True], dtype=bool)
    invalid = problems.per_value(name, codes, errors)
    missing = absent[codes] & ~invalid
    _missing_rows(name, rule, missing, problems)
    return table[codes], missing


def _not_allowed(text: str, rule: DomainRule) -> str:
    return f"{shown(text)} is not one of " + ", ".join(rule.allowed or ())


def _date(values: Any, rule: DomainRule, problems: _Problems) -> dict[str, np.ndarray]:
    """The declared parts of a date column (float64, NaN: missing or invalid); flags bad dates."""
    name, fmt = rule.name, rule.date_format
    codes, uniques = _distinct(values)
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


def expected_format(rule: DomainRule) -> str:
    """How a date feature's values must be written (for error messages and the API docs)."""
    return describe_format(rule.date_format)


def statistics_rules(stats: Any) -> InputRules:
    """Input rules from training statistics alone (drift reads production files with them):
    every feature nullable and unbounded, dates in the format they were trained with."""
    dates = stats.date_specs()
    derived = {part_column(c, p) for c, d in dates.items() for p in d.parts}
    rules = [DomainRule(n, "numeric", True) for n in stats.numeric if n not in derived]
    rules += [DomainRule(n, "categorical", True) for n in stats.categorical]
    rules += [
        DomainRule(c, "date", True, parts=tuple(d.parts), format=d.format) for c, d in dates.items()
    ]
    return InputRules(tuple(rules))
