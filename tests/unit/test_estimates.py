"""Label-free estimates (monitoring/estimates.py): the measured ROC AUC against
scikit-learn, the estimates' intervals against the metrics labels really show in a seeded
simulation with covariate shift, and the calibration check that says when not to trust them.
"""

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from tabml.monitoring import estimates

CLASSES, FEATURES = 3, 4


def _world(seed: int):
    """A 3-class world whose true P(y | x) is a softmax of a linear function of x."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(FEATURES, CLASSES)) * 1.2

    def sample(rows: int, shift: np.ndarray):
        x = rng.normal(size=(rows, FEATURES)) + shift
        z = x @ weights
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        y = (rng.random(rows)[:, None] >= np.cumsum(p, axis=1)).sum(axis=1)
        return x, np.minimum(y, CLASSES - 1)

    return rng, sample


def _true_metrics(y, probabilities, predicted) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(y, predicted),
        "f1_macro": f1_score(y, predicted, average="macro"),
        "roc_auc": roc_auc_score(y, probabilities, multi_class="ovr"),
    }


def test_average_ranks_are_scipys_rankdata_with_ties():
    values = np.round(np.random.default_rng(0).random(5000), 2)  # many ties
    assert np.array_equal(estimates.average_ranks(values), rankdata(values))


def test_roc_auc_is_scikit_learns_one_vs_rest_macro_auc():
    rng = np.random.default_rng(1)
    distinct = rng.dirichlet(np.ones(CLASSES), size=25)
    probabilities = distinct[rng.integers(0, 25, 400)]  # 25 distinct rows: many tied scores
    truth = rng.integers(0, CLASSES, 400)
    assert estimates.roc_auc_ovr(truth, probabilities) == pytest.approx(
        roc_auc_score(truth, probabilities, multi_class="ovr"), abs=1e-12
    )
    binary = np.column_stack([1 - probabilities[:, 0], probabilities[:, 0]])
    labels = (truth == 0).astype(int)
    assert estimates.roc_auc_ovr(labels, binary) == pytest.approx(
        roc_auc_score(labels, binary[:, 1]), abs=1e-12
    )
    assert estimates.roc_auc_ovr(np.zeros(10, dtype=int), binary[:10]) is None  # one class


@pytest.mark.parametrize(("rows", "exact_rows"), [(400, estimates.EXACT_ROWS), (3000, 0)],
                         ids=["label draws", "normal sums"])  # fmt: skip
def test_the_90_percent_interval_holds_the_true_metric_in_most_shifted_windows(rows, exact_rows):
    """A calibrated model (logistic regression fitted on plenty of training rows of a world
    whose truth is logistic), windows whose inputs shift by a random offset each (covariate
    shift: P(y | x) stays, P(x) moves): the metric the labels show lies inside the estimate's
    90% interval in at least 85% of windows, for each metric and both methods."""
    rng, sample = _world(seed=8)
    x, y = sample(100_000, np.zeros(FEATURES))
    model = LogisticRegression(C=100.0, max_iter=2000).fit(x, y)
    windows, inside = 200, dict.fromkeys(estimates.METRICS, 0)
    for window in range(windows):
        x, y = sample(rows, rng.normal(size=FEATURES) * 0.5)
        assert len(set(y)) == CLASSES  # scikit-learn's AUC needs every class in the labels
        probabilities = model.predict_proba(x)
        predicted = probabilities.argmax(axis=1)
        found = estimates.estimate(probabilities, predicted, seed=window, exact_rows=exact_rows)
        for metric, truth in _true_metrics(y, probabilities, predicted).items():
            low, high = found[f"estimated_{metric}_low"], found[f"estimated_{metric}_high"]
            inside[metric] += low <= truth <= high
    shares = {metric: count / windows for metric, count in inside.items()}
    assert all(share >= 0.85 for share in shares.values()), shares


def test_the_label_draws_and_the_normal_approximation_agree():
    rng, sample = _world(seed=3)
    x, _ = sample(1500, np.zeros(FEATURES))
    z = x @ rng.normal(size=(FEATURES, CLASSES))
    probabilities = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    predicted = probabilities.argmax(axis=1)
    exact = estimates.estimate(probabilities, predicted, seed=0, exact_rows=10**9)
    normal = estimates.estimate(probabilities, predicted, seed=0, exact_rows=0)
    for metric in estimates.METRICS:
        width = exact[f"estimated_{metric}_high"] - exact[f"estimated_{metric}_low"]
        for end in ("", "_low", "_high"):
            key = f"estimated_{metric}{end}"
            assert normal[key] == pytest.approx(exact[key], abs=0.15 * width), key


def test_the_calibration_check_fails_an_overconfident_model_and_passes_a_calibrated_one():
    _, sample = _world(seed=5)
    x, y = sample(20_000, np.zeros(FEATURES))
    model = LogisticRegression(C=100.0, max_iter=2000).fit(x, y)
    x, y = sample(600, np.ones(FEATURES) * 0.5)
    calibrated = model.predict_proba(x)
    sharpened = calibrated**4 / (calibrated**4).sum(axis=1, keepdims=True)  # overconfident
    for probabilities, expected in ((calibrated, "ok"), (sharpened, "poor")):
        predicted = probabilities.argmax(axis=1)
        measured = _true_metrics(y, probabilities, predicted)
        check = estimates.calibration_check(probabilities, predicted, measured, seed=0)
        assert check["status"] == expected, check
    assert "accuracy measured" in check["misses"][0]


def test_trust_reads_the_newest_window_with_enough_labels():
    ok = {"status": "ok", "misses": [], "labelled": 150}
    poor = {"status": "poor", "misses": ["accuracy measured 0.6, estimated 0.9"], "labelled": 20}
    windows = [
        {"start": "2026-11-01T00:00:00+00:00", "labelled": 150, "calibration_check": ok},
        {"start": "2026-11-02T00:00:00+00:00", "labelled": 20, "calibration_check": poor},
        {"start": "2026-11-03T00:00:00+00:00", "labelled": 0},
    ]
    assert estimates.trust(windows, min_labelled=100)["status"] == "ok"
    found = estimates.trust(windows, min_labelled=10)
    assert found["status"] == "poor" and "too poor to trust" in found["reason"]
    assert estimates.trust(windows, min_labelled=1000)["status"] == "unchecked"
