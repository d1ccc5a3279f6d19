"""Two models' metrics on the same labelled requests, and a paired bootstrap interval of their
difference (challenger minus served model).

Paired: each bootstrap round draws the same requests for both models, so what the requests
have in common (easy or hard cases) cancels out of the difference, and its interval is far
narrower than two separate intervals would suggest. Seeded: the same pairs give the same
interval. Metrics follow scikit-learn's definitions (tests compare with `sklearn.metrics`):
macro F1 over the classes present in the labels or the predictions (zero for a class with
none predicted right), log loss of the probability given to the true class clipped at
float64's epsilon.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
ROUNDS, SEED, LEVEL = 2000, 0, 0.95


@dataclass(frozen=True)
class ClassPairs:
    """Labelled requests as class codes: truth, each model's label and P(true class)."""

    truth: np.ndarray  # int codes
    served: np.ndarray
    challenger: np.ndarray
    served_p_true: np.ndarray  # float64
    challenger_p_true: np.ndarray
    classes: int


def _macro_f1(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    right = np.bincount(truth[truth == predicted], minlength=classes)
    true_count = np.bincount(truth, minlength=classes)
    predicted_count = np.bincount(predicted, minlength=classes)
    present = (true_count + predicted_count) > 0
    f1 = 2 * right[present] / (true_count[present] + predicted_count[present])
    return float(f1.mean())


def _log_loss(p_true: np.ndarray) -> float:
    return float(-np.log(np.clip(p_true, EPS, 1.0)).mean())


def class_metrics(pairs: ClassPairs, rows: np.ndarray | slice = slice(None)) -> dict:
    """accuracy, f1_macro, log_loss of both models on `rows` -> {metric: (served, challenger)}."""
    truth = pairs.truth[rows]
    found = {}
    for side, labels, p_true in (
        ("served", pairs.served[rows], pairs.served_p_true[rows]),
        ("challenger", pairs.challenger[rows], pairs.challenger_p_true[rows]),
    ):
        found[side] = {
            "accuracy": float((labels == truth).mean()),
            "f1_macro": _macro_f1(truth, labels, pairs.classes),
            "log_loss": _log_loss(p_true),
        }
    return found


def value_metrics(truth: np.ndarray, served: np.ndarray, challenger: np.ndarray,
                  rows: np.ndarray | slice = slice(None)) -> dict:  # fmt: skip
    """rmse and mae of both regression models on `rows`."""
    found = {}
    for side, values in (("served", served), ("challenger", challenger)):
        error = values[rows] - truth[rows]
        found[side] = {
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mae": float(np.mean(np.abs(error))),
        }
    return found


def paired_bootstrap(
    metrics: Callable[[np.ndarray | slice], dict],
    n: int,
    rounds: int = ROUNDS,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, dict]:
    """Per metric: both models' values, the difference (challenger - served), its paired
    bootstrap interval, and which way is better."""
    point = metrics(slice(None))
    rng = np.random.default_rng(seed)
    names = list(point["served"])
    differences = np.empty((rounds, len(names)))
    for r in range(rounds):
        drawn = metrics(rng.integers(0, n, n))
        differences[r] = [drawn["challenger"][m] - drawn["served"][m] for m in names]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail], axis=0)
    return {
        name: {
            "served": point["served"][name],
            "challenger": point["challenger"][name],
            "difference": point["challenger"][name] - point["served"][name],
            "interval": [float(low[i]), float(high[i])],
            "better": "lower" if name in LOWER_IS_BETTER else "higher",
        }
        for i, name in enumerate(names)
    }


def gain_interval(metric: dict) -> tuple[float, float]:
    """The interval of the challenger's improvement (positive: better), whatever the metric's
    direction."""
    low, high = metric["interval"]
    return (-high, -low) if metric["better"] == "lower" else (low, high)
