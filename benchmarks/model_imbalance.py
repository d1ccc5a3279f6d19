"""Imbalance on binary tables: class weighting and a decision threshold chosen on training
data only, against the always-majority model the default gates must refuse.

The threshold rule: out-of-fold probabilities of the positive (minority) class on the
training split (the tune stage's 3 folds), the threshold that maximises macro-F1 on them
(candidates: 199 quantiles of those probabilities), then the model refitted on the whole
training split and the threshold applied to the test split. Nothing of the test split is
seen before scoring.
"""

import numpy as np
from sklearn import metrics as skm

from benchmarks.model_hgb import hgb_pipeline
from benchmarks.model_systems import Data
from tabml.model.families import LogisticRegressionParams
from tabml.model.train import fit_model
from tabml.model.tune_cv import cv_folds
from tabml.params import TrainParams, TuneParams


def positive_class(y: np.ndarray) -> str:
    classes, counts = np.unique(y, return_counts=True)
    return str(classes[counts.argmin()])


def out_of_fold(data: Data, make) -> np.ndarray:
    """Positive-class probabilities of each training row from a model that did not see it."""
    positive = positive_class(data.y_train)
    scores = np.zeros(len(data.y_train))
    for fit, held_out in cv_folds(data.run.train, data.run.profile, TuneParams(folds=3, seed=42)):
        model = make(fit)
        column = list(np.asarray(model.classes_).astype(str)).index(positive)
        scores[held_out] = model.predict_proba(data.x_train.iloc[held_out])[:, column]
    return scores


def best_threshold(y_true: np.ndarray, scores: np.ndarray, positive: str) -> float:
    """The macro-F1-maximising threshold over 199 quantiles of the scores."""
    candidates = np.unique(np.quantile(scores, np.linspace(0.005, 0.995, 199)))
    labels = np.array(sorted(set(y_true)), dtype=object)
    other = labels[labels != positive][0]

    def macro_f1(threshold: float) -> float:
        predicted = np.where(scores >= threshold, positive, other)
        return skm.f1_score(y_true, predicted, average="macro")

    return float(max(candidates, key=macro_f1))


def test_row(name: str, data: Data, model, threshold: float | None) -> dict:
    """Test metrics at the threshold (None: the arg-max label, i.e. 0.5 for two classes)."""
    positive = positive_class(data.y_train)
    classes = np.asarray(model.classes_).astype(str)
    proba = model.predict_proba(data.x_test)
    scores = proba[:, list(classes).index(positive)]
    if threshold is None:
        predicted = classes[proba.argmax(axis=1)]
    else:
        other = classes[classes != positive][0]
        predicted = np.where(scores >= threshold, positive, other)
    y = data.y_test
    return {
        "model": name,
        "threshold": threshold,
        "f1_macro": skm.f1_score(y, predicted, average="macro"),
        "accuracy": skm.accuracy_score(y, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
        "recall_positive": skm.recall_score(y == positive, predicted == positive),
        "precision_positive": skm.precision_score(
            y == positive, predicted == positive, zero_division=0.0
        ),
        "roc_auc": skm.roc_auc_score(y == positive, scores),
        "pr_auc": skm.average_precision_score(y == positive, scores),
        "predicted_classes": len(set(predicted)),
    }


def imbalance_rows(data: Data, auto_params: dict) -> list[dict]:
    """Weighting x threshold for HGB auto and logistic regression (today's C and C=1)."""
    rows = []
    families = {
        "HGB auto": lambda w: hgb_pipeline(data, "ordinal", class_weight=w, **auto_params),
    }
    for name, make in families.items():
        for weight in (None, "balanced"):
            label = f"{name}, class_weight={weight}"

            def fit(rows_, make=make, weight=weight):
                return make(weight).fit(data.x_train.iloc[rows_], data.y_train[rows_])

            model = fit(np.arange(len(data.y_train)))
            rows.append(test_row(label, data, model, None))
            threshold = best_threshold(
                data.y_train, out_of_fold(data, fit), positive_class(data.y_train)
            )
            rows.append(test_row(label + ", threshold from training OOF", data, model, threshold))
    for c in (0.02, 1.0):
        logistic = LogisticRegressionParams(C=c)
        params = TrainParams(model="logistic_regression", logistic_regression=logistic)

        def fit_lr(rows_, params=params):
            return fit_model(data.run.train.iloc[rows_], data.run.profile, params)

        model = fit_lr(np.arange(len(data.y_train)))
        rows.append(test_row(f"logistic C={c}", data, model, None))
        threshold = best_threshold(
            data.y_train, out_of_fold(data, fit_lr), positive_class(data.y_train)
        )
        rows.append(
            test_row(f"logistic C={c}, threshold from training OOF", data, model, threshold)
        )
    majority = np.unique(data.y_train, return_counts=True)
    majority_label = majority[0][majority[1].argmax()]
    always = np.full(len(data.y_test), majority_label, dtype=object)
    rows.append(
        {
            "model": "always the majority class",
            "f1_macro": skm.f1_score(data.y_test, always, average="macro"),
            "accuracy": skm.accuracy_score(data.y_test, always),
            "balanced_accuracy": skm.balanced_accuracy_score(data.y_test, always),
            "recall_positive": 0.0,
            "predicted_classes": 1,
        }
    )
    return rows
