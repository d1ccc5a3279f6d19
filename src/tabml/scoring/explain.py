"""Per-record explanations: baseline Shapley contributions of each raw feature, from ONNX.

The baseline is a typical training record: each numeric feature at its training median and
each categorical feature at its most frequent training category (models/training_stats.json).
`v(S)` is the model's probability of the record's predicted class when the features in `S`
keep the record's values and all others are set to the baseline. A feature's contribution is
its Shapley value over `v` (Sundararajan & Najmi's "baseline Shapley"), so the decomposition
is additive by construction:

    base_value + sum(all contributions) == p(predicted class | record)

where `base_value = v(no feature) = p(predicted class | baseline)`. With up to
`MAX_EXACT_FEATURES` features every coalition is scored (exact Shapley values); with more,
`SAMPLED_ROWS // (features + 1)` seeded feature orders are averaged (still exactly additive,
the Shapley values are then estimates). Contributions are per raw feature (a categorical
feature is one ONNX input, so its one-hot columns are never split). All coalitions of all
records go to onnxruntime in one call; only numpy and the ONNX classifier are needed.
"""

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, Protocol

import numpy as np

MAX_EXACT_FEATURES = 10  # 2**10 = 1,024 rows per explained record
SAMPLED_ROWS = 1024  # rows per explained record beyond that (orders x (features + 1))
DEFAULT_TOP = 3


class Classifier(Protocol):
    classes: list[str]
    numeric: list[str]
    categorical: list[str]
    input_of: dict[str, str]

    def feeds_from_records(self, records: Sequence[Mapping[str, Any]]) -> dict: ...

    def predict(self, feeds: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


def baseline_record(stats: Mapping[str, Any], numeric: list[str], categorical: list[str]) -> dict:
    """Training median of each numeric feature, most frequent training category of the rest."""
    record: dict[str, Any] = {n: stats["numeric"][n]["quantiles"]["0.5"] for n in numeric}
    for name in categorical:
        shares = stats["categorical"][name]["shares"]
        # ties go to the first category in sorted order, so the baseline is reproducible
        record[name] = max(sorted(shares), key=lambda c: shares[c]) if shares else None
    return record


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
    """Top-k feature contributions to each record's predicted-class probability."""

    def __init__(self, classifier: Classifier, training_stats: Mapping[str, Any]):
        self.classifier = classifier
        self.features = [*classifier.numeric, *classifier.categorical]
        d = len(self.features)
        if d <= MAX_EXACT_FEATURES:
            self.masks, self.weights = exact_design(d)
        else:
            self.masks, self.weights = sampled_design(d, max(1, SAMPLED_ROWS // (d + 1)))
        self.exact = d <= MAX_EXACT_FEATURES
        self.full_row = int(np.flatnonzero(self.masks.all(axis=1))[0])
        self.empty_row = int(np.flatnonzero(~self.masks.any(axis=1))[0])
        base = baseline_record(training_stats, classifier.numeric, classifier.categorical)
        self.baseline = base
        self._base_feeds = classifier.feeds_from_records([base])

    def contributions(
        self, records: Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per record: predicted class index [N], base value [N], contributions [N, features].

        One onnxruntime call scores every coalition of every record.
        """
        return self.contributions_of_feeds(self.classifier.feeds_from_records(records))

    def contributions_of_feeds(
        self, feeds: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`contributions` from the classifier's input tensors (records or a frame)."""
        n, rows = len(next(iter(feeds.values()))), len(self.masks)
        variants = {}
        for j, name in enumerate(self.features):
            key = self.classifier.input_of[name]
            own = np.repeat(feeds[key], rows, axis=0)  # record-major: record r owns a block
            keep = np.tile(self.masks[:, j], n).reshape(-1, 1)
            variants[key] = np.where(keep, own, self._base_feeds[key])
        _, proba = self.classifier.predict(variants)
        proba = proba.astype(np.float64).reshape(n, rows, -1)
        predicted = proba[:, self.full_row, :].argmax(axis=1)
        value = proba[np.arange(n), :, predicted]  # [N, rows]: v(S) for the predicted class
        return predicted, value[:, self.empty_row], value @ self.weights.T

    def explain(self, records: Sequence[Mapping[str, Any]], top: int = DEFAULT_TOP) -> list[dict]:
        """One explanation per record: base value, the `top` largest |contributions|, the rest.

        `base_value + sum(contributions) + other_features == probability of the predicted
        class` (the answer's `probabilities[class]`), up to float rounding.
        """
        predicted, base, contrib = self.contributions(records)
        classes, order = self.classifier.classes, self.ranking(contrib)
        return [
            {
                "class": classes[int(predicted[r])],
                "base_value": float(base[r]),
                "contributions": [
                    {"feature": self.features[j], "contribution": float(contrib[r, j])}
                    for j in order[r, :top]
                ],
                "other_features": float(contrib[r, order[r, top:]].sum()),
            }
            for r in range(len(records))
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
