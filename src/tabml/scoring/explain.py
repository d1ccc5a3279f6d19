"""Per-record explanations: baseline Shapley contributions of each raw feature, from ONNX.

The baseline is a typical training row: each numeric model input (a date's parts included) at
its training median and each categorical feature at its most frequent training category
(the training statistics in the model's metadata). `v(S)` is what the answer shows for the
record (a classifier's probability of the predicted class, a regression model's value) when
the features in `S` keep the record's values and all others take the baseline's. A feature's
contribution is its Shapley value over `v` (Sundararajan & Najmi's "baseline Shapley"), so
the decomposition is additive by construction:

    base_value + sum(all contributions) == the answer's probability (or value)

where `base_value = v(no feature)`. With up to `MAX_EXACT_FEATURES` features every coalition
is scored (exact Shapley values); with more, `SAMPLED_ROWS // (features + 1)` seeded feature
orders are averaged (still exactly additive, the Shapley values are then estimates).
Contributions are per raw feature: a categorical feature is one ONNX input, and a date is
all of its parts together (its year and day of year move as one). The records' inputs come
from the model's one input path; all coalitions of all records go to onnxruntime in one call.
"""

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from tabml.scoring.dates import part_column
from tabml.scoring.inputs import Inputs
from tabml.scoring.metadata import TrainingStatistics
from tabml.scoring.model import PackagedModel

MAX_EXACT_FEATURES = 10  # 2**10 = 1,024 rows per explained record
SAMPLED_ROWS = 1024  # rows per explained record beyond that (orders x (features + 1))
DEFAULT_TOP = 3


def baseline_inputs(model: PackagedModel, stats: TrainingStatistics) -> Inputs:
    """One row: the training median of each numeric input, the most frequent category of
    each categorical one (ties: the first in sorted order, so the baseline is reproducible)."""
    numbers = {
        name: np.array([stats.numeric[name].quantiles["0.5"]], dtype=np.float64)
        for name in model.input_rules.model_numeric
    }
    texts, missing = {}, {}
    for name in model.input_rules.categorical:
        shares = stats.categorical[name].shares
        top = max(sorted(shares), key=lambda c: shares[c]) if shares else None
        texts[name] = np.array(
            [model.input_rules.missing_category if top is None else top], dtype=object
        )
        missing[name] = np.array([top is None])
    return Inputs(1, numbers, texts, missing, {}, model.input_of)


def players(model: PackagedModel) -> list[tuple[str, list[str]]]:
    """The raw features and the ONNX inputs each one moves, in the model's input order."""
    rules, of = model.input_rules.rules, model.input_of
    found = [(r.name, [of[r.name]]) for r in rules if r.kind == "numeric"]
    found += [
        (r.name, [of[part_column(r.name, p)] for p in r.parts or ()])
        for r in rules
        if r.kind == "date"
    ]
    return found + [(r.name, [of[r.name]]) for r in rules if r.kind == "categorical"]


def exact_design(features: int) -> tuple[np.ndarray, np.ndarray]:
    """Every coalition (masks [2**d, d], True = the record's value) and Shapley weights [d, 2**d].

    phi_i = sum over S without i of |S|! (d - |S| - 1)! / d! * (v(S + i) - v(S)); the weights
    collect, per coalition, the coefficient of v(S) in each phi_i.
    """
    rows = [np.array(c, dtype=int) for k in range(features + 1)
            for c in combinations(range(features), k)]  # fmt: skip
    masks = np.zeros((len(rows), features), dtype=bool)
    for r, members in enumerate(rows):
        masks[r, members] = True
    sizes = masks.sum(axis=1)
    whole = math.factorial(features)
    # v(S) enters phi_i with weight (|S|-1)! (d-|S|)! / d! if i is in S, else with
    # -|S|! (d-|S|-1)! / d! (the same weight as for the coalition S + i, negated)
    plus = np.array([math.factorial(max(s - 1, 0)) * math.factorial(features - s) for s in sizes])
    minus = np.array([math.factorial(s) * math.factorial(max(features - s - 1, 0)) for s in sizes])
    weights = np.where(masks.T, plus / whole, -minus / whole)
    return masks, weights


def sampled_design(features: int, orders: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Masks and weights of `orders` seeded feature orders (each order is additive on its own)."""
    rng = np.random.default_rng(seed)
    steps = features + 1
    masks = np.zeros((orders * steps, features), dtype=bool)
    weights = np.zeros((features, orders * steps))
    for o in range(orders):
        order = rng.permutation(features)
        for t in range(1, steps):
            masks[o * steps + t, order[:t]] = True
            # feature order[t-1]'s share in this order: v(first t) - v(first t-1)
            weights[order[t - 1], o * steps + t] += 1.0 / orders
            weights[order[t - 1], o * steps + t - 1] -= 1.0 / orders
    return masks, weights


class Explainer:
    """Top-k feature contributions to each record's answer (probability or value)."""

    def __init__(self, model: PackagedModel):
        self.model = model
        self.players = players(model)
        self.features = [name for name, _ in self.players]
        d = len(self.features)
        if d <= MAX_EXACT_FEATURES:
            self.masks, self.weights = exact_design(d)
        else:
            self.masks, self.weights = sampled_design(d, max(1, SAMPLED_ROWS // (d + 1)))
        self.exact = d <= MAX_EXACT_FEATURES
        self.full_row = int(np.flatnonzero(self.masks.all(axis=1))[0])
        self.empty_row = int(np.flatnonzero(~self.masks.any(axis=1))[0])
        base = baseline_inputs(model, model.metadata.training_stats)
        # per model input: what a feature outside a coalition is set to
        self.baseline = {k: v[0] for kind in (base.numbers, base.texts) for k, v in kind.items()}
        self._base_feeds = base.feeds

    def contributions(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row of `inputs`: the explained column [N] (a class index; 0 for a value), base
        value [N], contributions [N, features]. One onnxruntime call scores every coalition."""
        feeds = inputs.feeds
        n, rows = inputs.rows, len(self.masks)
        variants = {}
        for j, (_, keys) in enumerate(self.players):
            keep = np.tile(self.masks[:, j], n).reshape(-1, 1)
            for key in keys:
                own = np.repeat(feeds[key], rows, axis=0)  # record-major: record r owns a block
                variants[key] = np.where(keep, own, self._base_feeds[key])
        explained = self.model.task.explained(self.model.run(variants))
        explained = explained.reshape(n, rows, -1)
        predicted = explained[:, self.full_row, :].argmax(axis=1)
        value = explained[np.arange(n), :, predicted]  # [N, rows]: v(S) of the explained column
        return predicted, value[:, self.empty_row], value @ self.weights.T

    def explain(self, inputs: Inputs, top: int = DEFAULT_TOP) -> list[dict]:
        """One explanation per row: base value, the `top` largest |contributions|, the rest.

        `base_value + sum(contributions) + other_features` is the answer's probability of its
        class (a classifier) or its value (a regression model), up to float rounding.
        """
        predicted, base, contrib = self.contributions(inputs)
        order = self.ranking(contrib)
        head = self.model.task.explanation_head
        return [
            {
                **head(int(predicted[r])),
                "base_value": float(base[r]),
                "contributions": [
                    {"feature": self.features[j], "contribution": float(contrib[r, j])}
                    for j in order[r, :top]
                ],
                "other_features": float(contrib[r, order[r, top:]].sum()),
            }
            for r in range(inputs.rows)
        ]

    @staticmethod
    def ranking(contrib: np.ndarray) -> np.ndarray:
        """Feature indices per record, largest |contribution| first (ties: feature order)."""
        return np.argsort(-np.abs(contrib), axis=1, kind="stable")


def requested_top(explain: bool | int) -> int | None:
    """How many contributions a request asked for (`"explain": true` is DEFAULT_TOP)."""
    if explain is True:
        return DEFAULT_TOP
    return None if explain is False or explain is None else int(explain)


def add_explanations(answers: list[dict], explanations: Sequence[dict]) -> list[dict]:
    """Each answer with its record's explanation under `explanation` (answers are copied)."""
    return [{**a, "explanation": e} for a, e in zip(answers, explanations, strict=True)]
