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


def test_baseline_is_sklearns_prior_dummy_classifier_on_the_same_rows():
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    from tabml.model.evaluate import baseline_metrics

    rng = np.random.default_rng(0)
    y_train = rng.choice(CLASSES, size=200, p=[0.6, 0.3, 0.1])
    y_test = rng.choice(CLASSES, size=90, p=[0.5, 0.3, 0.2])
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((200, 1)), y_train)
    proba = dummy.predict_proba(np.zeros((90, 1)))
    predicted = dummy.predict(np.zeros((90, 1)))

    baseline = baseline_metrics(y_train, y_test, CLASSES)

    assert set(baseline) == {
        "accuracy", "f1_macro", "roc_auc_ovr", "log_loss", "balanced_accuracy"
    }  # fmt: skip
    assert baseline["balanced_accuracy"] == pytest.approx(1 / 3, abs=1e-6)  # one class of 3
    assert baseline["accuracy"] == pytest.approx(accuracy_score(y_test, predicted), abs=1e-6)
    assert baseline["accuracy"] == pytest.approx(np.mean(y_test == "a"), abs=1e-6)  # majority
    f1 = f1_score(y_test, predicted, average="macro", zero_division=0)
    assert baseline["f1_macro"] == pytest.approx(f1, abs=1e-6)
    assert baseline["roc_auc_ovr"] == 0.5
    assert baseline["log_loss"] == pytest.approx(log_loss(y_test, proba), abs=1e-6)


def test_evaluate_model_reports_the_baseline_beside_the_metrics(raw_penguins, profile):
    from tabml.model.evaluate import baseline_metrics, evaluate_model
    from tabml.model.features import model_frame, split_train_test
    from tabml.model.train import fit_model
    from tabml.params import TrainParams

    labelled = raw_penguins.dropna(subset=[profile.target])
    train, test = split_train_test(labelled, profile.target, 0.3, seed=42)
    model = fit_model(train, profile, TrainParams())
    y_train = train[profile.target].astype(str).to_numpy(dtype=object)
    y_test = test[profile.target].astype(str).to_numpy(dtype=object)
    X = model_frame(test, profile.features)

    metrics = evaluate_model(model, X, y_test, y_train)["metrics"]

    assert metrics["baseline"] == baseline_metrics(y_train, y_test, model.classes_)
    assert metrics["accuracy"] - metrics["baseline"]["accuracy"] > 0.4  # Adelie is ~44%
    assert "baseline" not in evaluate_model(model, X, y_test)["metrics"]


def test_imbalance_metrics_agree_with_sklearn():
    from sklearn.metrics import (
        average_precision_score,
        balanced_accuracy_score,
        precision_recall_fscore_support,
    )

    classes = np.array(["no", "yes"], dtype=object)
    rng = np.random.default_rng(3)
    y = np.where(rng.random(400) < 0.05, "yes", "no").astype(object)  # ~5% positive
    score = np.clip(0.5 * (y == "yes") + rng.normal(0.2, 0.2, 400), 0.001, 0.999)
    proba = np.column_stack([1 - score, score])
    predicted = np.where(score > 0.5, "yes", "no")

    metrics = compute_metrics(y, proba, classes)

    expected_ap = average_precision_score(y == "yes", score)
    assert metrics["pr_auc"] == pytest.approx(expected_ap, abs=1e-6)
    balanced = balanced_accuracy_score(y, predicted)
    assert metrics["balanced_accuracy"] == pytest.approx(balanced, abs=1e-6)
    p, r, f, s = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    for i, label in enumerate(classes):
        got = metrics["per_class"][label]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx(
            (p[i], r[i], f[i]), abs=1e-6
        )
        assert got["support"] == s[i] and got["predicted"] == int((predicted == label).sum())


def test_a_multiclass_model_has_no_pr_auc_and_a_never_predicted_class_scores_zero():
    y, proba = _perfect()
    proba[:, 2] = 0.0  # never "c"
    proba[np.arange(30) % 3 == 2, 0] = 1.0
    metrics = compute_metrics(y, np.clip(proba, 1e-9, 1), CLASSES)
    assert "pr_auc" not in metrics
    assert metrics["per_class"]["c"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 10, "predicted": 0
    }  # fmt: skip


def test_a_decision_threshold_labels_the_metrics_rows():
    from sklearn.metrics import f1_score

    classes = np.array(["no", "yes"], dtype=object)
    y = np.array(["no", "yes", "yes", "no", "no", "yes"], dtype=object)
    p = np.array([0.1, 0.35, 0.6, 0.4, 0.2, 0.3])
    proba = np.column_stack([1 - p, p])
    metrics = compute_metrics(y, proba, classes, threshold=0.3)
    labels = np.where(p >= 0.3, "yes", "no")
    assert metrics["f1_macro"] == pytest.approx(f1_score(y, labels, average="macro"), abs=1e-6)
    assert metrics["per_class"]["yes"]["predicted"] == 4
