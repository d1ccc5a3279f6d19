import numpy as np
import pytest

from tabml.model.evaluate import (
    GRID,
    compute_metrics,
    precision_recall_points,
    roc_points,
)

CLASSES = np.array(["a", "b", "c"], dtype=object)


def _perfect(n=30):
    y = np.array([CLASSES[i % 3] for i in range(n)], dtype=object)
    proba = np.zeros((n, 3))
    proba[np.arange(n), np.arange(n) % 3] = 1.0
    return y, proba


def test_perfect_predictions_score_perfectly():
    y, proba = _perfect()
    metrics = compute_metrics(y, np.clip(proba, 1e-9, 1), CLASSES)
    assert metrics["accuracy"] == 1.0
    assert metrics["f1_macro"] == 1.0
    assert metrics["roc_auc_ovr"] == 1.0
    assert metrics["log_loss"] < 1e-6
    assert metrics["test_rows"] == 30


def test_uniform_predictions_score_like_chance():
    y, _ = _perfect()
    proba = np.full((30, 3), 1 / 3)
    metrics = compute_metrics(y, proba, CLASSES)
    assert metrics["roc_auc_ovr"] == 0.5
    assert metrics["log_loss"] == pytest.approx(np.log(3), abs=1e-6)


def test_binary_auc_uses_the_positive_class():
    classes = np.array(["no", "yes"], dtype=object)
    y = np.array(["no", "yes", "yes", "no"], dtype=object)
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    assert compute_metrics(y, proba, classes)["roc_auc_ovr"] == 1.0


def test_curves_are_on_the_fixed_grid_per_class():
    y, proba = _perfect()
    roc = roc_points(y, proba, CLASSES)
    pr = precision_recall_points(y, proba, CLASSES)
    assert len(roc) == len(pr) == 3 * len(GRID)
    assert {p["class"] for p in roc} == set(CLASSES)
    assert all(p["tpr"] == 1.0 for p in roc if p["fpr"] > 0)
    assert all(p["precision"] == 1.0 for p in pr)
