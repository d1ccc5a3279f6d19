"""Test-set metrics and the data behind the DVC plots."""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from tabml.model.reported import reported
from tabml.model.threshold import thresholded

GRID = np.linspace(0.0, 1.0, 51)  # curves are resampled on a fixed grid: small, stable files


def per_class(y_true: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> dict:
    """Per class: precision, recall, F1, test rows (`support`) and rows predicted as it.

    A class never predicted has precision 0 (not a warning): the gates refuse a model that
    never predicts a class present in the test set (`tabml.model.gates.check_classes`).
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=classes, zero_division=0
    )
    return {
        str(label): {
            "precision": reported(precision[i]),
            "recall": reported(recall[i]),
            "f1": reported(f1[i]),
            "support": int(support[i]),
            "predicted": int((predicted == label).sum()),
        }
        for i, label in enumerate(classes)
    }


def compute_metrics(
    y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray, threshold: float | None = None
) -> dict:
    """accuracy, balanced accuracy, f1_macro, roc_auc_ovr, log_loss, (binary) pr_auc of the
    second class, and the per-class scores, on the test set. Labels are the argmax, or by a
    binary decision `threshold` (tabml.model.threshold)."""
    predicted = thresholded(proba, classes, threshold)
    binary = {}
    if len(classes) == 2:
        auc = roc_auc_score(y_true == classes[1], proba[:, 1])
        # average precision: the area under the step precision-recall curve of the positive
        binary["pr_auc"] = reported(average_precision_score(y_true == classes[1], proba[:, 1]))
    else:
        auc = roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    return {
        "accuracy": reported(accuracy_score(y_true, predicted)),
        "f1_macro": reported(
            # a class never predicted has F1 0 (what "warn" also gives, minus the warning)
            f1_score(y_true, predicted, average="macro", labels=classes, zero_division=0)
        ),
        "roc_auc_ovr": reported(auc),
        "log_loss": reported(log_loss(y_true, proba, labels=classes)),
        "balanced_accuracy": reported(balanced_accuracy_score(y_true, predicted)),
        **binary,
        "test_rows": len(y_true),
        "per_class": per_class(y_true, predicted, classes),
    }


def baseline_metrics(y_train: np.ndarray, y_true: np.ndarray, classes: np.ndarray) -> dict:
    """The same metrics for a model that knows only the training class shares.

    Every test row gets the training shares as probabilities, so the predicted label is the
    majority class: scikit-learn's `DummyClassifier(strategy="prior")`. Its roc_auc_ovr is
    0.5 and its log_loss that of the class shares; a real model must beat these.
    """
    shares = np.array([np.mean(y_train == label) for label in classes], dtype=np.float64)
    proba = np.tile(shares, (len(y_true), 1))
    metrics = compute_metrics(y_true, proba, classes)
    del metrics["test_rows"], metrics["per_class"]  # the same rows; one class predicted
    return metrics


def confusion_points(y_true: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """One point per test row (DVC's confusion template counts them)."""
    return [{"actual": str(a), "predicted": str(p)} for a, p in zip(y_true, predicted)]


def roc_points(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> list[dict]:
    """Per-class one-vs-rest ROC curves, true-positive rate on a fixed false-positive grid."""
    points = []
    for i, label in enumerate(classes):
        fpr, tpr, _ = roc_curve(y_true == label, proba[:, i])
        tpr_grid = np.interp(GRID, fpr, tpr)
        tpr_grid[0] = 0.0
        points += [
            {"class": str(label), "fpr": reported(f), "tpr": reported(t)}
            for f, t in zip(GRID, tpr_grid)
        ]
    return points


def precision_recall_points(
    y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray
) -> list[dict]:
    """Per-class precision-recall curves on a fixed recall grid.

    At each grid recall r the precision of the strictest threshold that still reaches recall
    r: the step function whose area is scikit-learn's average precision. (The "interpolated"
    envelope, the best precision at any recall >= r, overstates a weak model's curve.)
    """
    points = []
    for i, label in enumerate(classes):
        precision, recall, _ = precision_recall_curve(y_true == label, proba[:, i])
        # recall falls as the threshold rises: the points reaching recall >= r are a prefix,
        # and its last one is the strictest threshold (ties: the higher precision)
        reached = (recall[None, :] >= GRID[:, None]).sum(axis=1)
        grid = precision[reached - 1]
        points += [
            {"class": str(label), "recall": reported(r), "precision": reported(p)}
            for r, p in zip(GRID, grid)
        ]
    return points


def evaluate_model(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y_true: np.ndarray,
    y_train: np.ndarray | None = None,
    threshold: float | None = None,
) -> dict:
    """Metrics and all plot data for a fitted pipeline on the test set.

    With the training labels `y_train`, the metrics carry a `baseline` section: the same
    metrics for the majority-class model (`baseline_metrics`), which relative gates use.
    """
    classes = pipeline.classes_
    proba = pipeline.predict_proba(X)
    metrics = compute_metrics(y_true, proba, classes, threshold)
    if threshold is not None:
        metrics["decision_threshold"] = reported(threshold)
    if y_train is not None:
        metrics["baseline"] = baseline_metrics(y_train, y_true, classes)
    predicted = thresholded(proba, classes, threshold)
    return {
        "metrics": metrics,
        "predicted": predicted,
        "confusion": confusion_points(y_true, predicted),
        "roc": roc_points(y_true, proba, classes),
        "precision_recall": precision_recall_points(y_true, proba, classes),
    }
