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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tabml.errors import TabmlError
from tabml.scoring.columns import Problems, categorical_column, date_column, numeric_column
from tabml.scoring.dates import part_column
from tabml.scoring.records import plain_records
from tabml.scoring.rules import DomainRule

# Missing categories are fed as "" (ONNX string tensors have no null): to the one-hot encoder
# that is a category like any other (docs/architecture.md, "Decisions").
MISSING_CATEGORY = ""


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
    def allowed(self) -> dict[str, frozenset[str] | None]:
        """Each categorical feature's allowed values as a set (None: any)."""
        return {r.name: None if r.allowed is None else frozenset(r.allowed) for r in self.rules}

    def read(self, data: pd.DataFrame | Sequence[Mapping[str, Any]], input_of=None) -> Inputs:
        """Normalise and check records (mappings) or a frame; see the module docstring."""
        frame = isinstance(data, pd.DataFrame)
        if not frame:
            plain = plain_records(self, data)
            if plain is not None:
                return Inputs(len(data), *plain, input_of)
        rows = len(data)
        problems = Problems()
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
                numbers[rule.name] = numeric_column(values, rule, problems)
            elif rule.kind == "date":
                dates.update(date_column(values, rule, problems))
            else:
                texts[rule.name], missing[rule.name] = categorical_column(
                    values, rule, problems, self.missing_category
                )
        numbers.update(dates)  # date parts after the numeric features, as the model has them
        return Inputs(rows, numbers, texts, missing, dict(problems.found), input_of)


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
