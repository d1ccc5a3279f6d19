"""Live metrics against hand-computed values and scikit-learn's own metrics."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, log_loss

from tabml.monitoring import live_metrics as lm


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # By hand: centre (p + z^2/2n)/(1 + z^2/n), half z/(1 + z^2/n) sqrt(p(1-p)/n + z^2/4n^2).
        (8, 10, 0.49016, 0.94332),
        (0, 10, 0.0, 0.27753),
        (10, 10, 0.72247, 1.0),
        (50, 100, 0.40383, 0.59617),
    ],
)
def test_wilson_interval_matches_hand_values(successes, n, low, high):
    assert lm.wilson_interval(successes, n) == pytest.approx((low, high), abs=2e-5)


def _sample(seed: int, n: int = 400, classes: int = 3):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(classes), size=n)
    predicted = proba.argmax(axis=1)
    true = np.where(rng.random(n) < 0.7, predicted, rng.integers(0, classes, n))
    return true, proba, predicted


@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_f1_and_log_loss_match_scikit_learn(seed):
    true, proba, predicted = _sample(seed)
    found = lm.labelled_metrics(true, proba, predicted, seed=0)
    assert found["accuracy"] == pytest.approx(np.mean(true == predicted))
    assert found["f1_macro"] == pytest.approx(f1_score(true, predicted, average="macro"))
    assert found["log_loss"] == pytest.approx(log_loss(true, proba, labels=[0, 1, 2]))
    assert found["f1_macro_low"] < found["f1_macro"] < found["f1_macro_high"]


def test_macro_f1_leaves_out_classes_neither_true_nor_predicted():
    true, predicted = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    proba = np.eye(3)[predicted]
    found = lm.labelled_metrics(true, proba, predicted, seed=0)
    assert found["f1_macro"] == pytest.approx(f1_score(true, predicted, average="macro"))


def test_bootstrap_interval_is_seeded_and_narrows_with_more_rows():
    true, _, predicted = _sample(3, n=200)
    matrix = lm.confusion(true, predicted, 3)
    present = np.ones(3, dtype=bool)
    assert lm.f1_bootstrap_interval(matrix, present, 7) == lm.f1_bootstrap_interval(
        matrix, present, 7
    )
    low, high = lm.f1_bootstrap_interval(matrix, present, 7)
    low10, high10 = lm.f1_bootstrap_interval(matrix * 10, present, 7)
    assert high10 - low10 < (high - low) * 0.5  # ~ 1/sqrt(10) as wide


@pytest.mark.integration  # a resampling reference: seconds
def test_bootstrap_from_the_confusion_matrix_matches_resampling_rows():
    # The multinomial shortcut against the textbook bootstrap (resample rows, recompute).
    true, _, predicted = _sample(4, n=300)
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 300, size=(2000, 300))
    scores = [f1_score(true[d], predicted[d], average="macro") for d in draws]
    textbook = np.percentile(scores, [2.5, 97.5])
    matrix = lm.confusion(true, predicted, 3)
    shortcut = lm.f1_bootstrap_interval(matrix, np.ones(3, dtype=bool), 0, rounds=2000)
    assert shortcut == pytest.approx(tuple(textbook), abs=0.01)


def test_calibration_curve_and_ece_by_hand():
    confidence = np.array([0.95, 0.95, 0.55, 0.55, 0.55, 0.55])
    correct = np.array([True, True, True, False, False, False])
    curve, ece = lm.calibration(confidence, correct)
    assert [(p["bin"], p["rows"], p["accuracy"]) for p in curve] == [
        ("(0.5, 0.6]", 4, 0.25),
        ("(0.9, 1.0]", 2, 1.0),
    ]
    # 4/6 * |0.25 - 0.55| + 2/6 * |1.0 - 0.95|
    assert ece == pytest.approx(4 / 6 * 0.30 + 2 / 6 * 0.05)
