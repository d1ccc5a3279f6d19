"""An optional binary decision threshold, chosen on the training split only.

`train.decision_threshold: macro_f1` (binary tasks): out-of-fold probabilities of the second
class on the tune stage's folds (`tune.folds`, `tune.seed`) of the chosen family, the
threshold among 199 quantiles of them that maximises out-of-fold macro-F1; the model is then
fitted on the whole split as usual. The threshold goes into the model's metadata and the
runtime's classification task applies it (tabml.scoring.task), so `/predict`, batch scoring
and the evaluate stage label rows identically; the ONNX graph keeps its argmax label (the
parity check compares the raw outputs). Measured on the model benchmark: macro-F1 +0.017
(3%-positive credit default) and +0.076 (flights) over argmax (docs/benchmarks.md).
"""

import numpy as np
import pandas as pd

from tabml.data.profile import DatasetProfile
from tabml.params import TrainParams, TuneParams

QUANTILES = np.linspace(0.005, 0.995, 199)


def choose_threshold(
    train: pd.DataFrame, profile: DatasetProfile, params: TrainParams, tune: TuneParams
) -> dict | None:
    """{threshold, positive, oof macro-F1 at it and at argmax}, or None (not asked for, or
    not a binary task)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import cross_val_predict

    from tabml.model.families import one_thread
    from tabml.model.features import model_frame
    from tabml.model.tasks import training_task
    from tabml.model.train import build_pipeline

    task = training_task(profile)
    y = task.target(train, profile)
    classes = np.unique(y)
    if params.decision_threshold != "macro_f1" or len(classes) != 2:
        return None
    folds = task.folds(y, tune)
    pipeline = build_pipeline(profile, params, rows=len(folds[0][0]))
    with one_thread():
        proba = cross_val_predict(
            pipeline, model_frame(train, profile.features), y, cv=folds, method="predict_proba"
        )[:, 1]

    def macro_f1(t: float) -> float:
        predicted = np.where(proba >= t, classes[1], classes[0])
        return float(f1_score(y, predicted, average="macro", zero_division=0))

    candidates = np.unique(np.quantile(proba, QUANTILES))
    scores = [macro_f1(t) for t in candidates]
    best = int(np.argmax(scores))  # ties: the lowest threshold
    return {
        "threshold": float(candidates[best]),
        "positive": str(classes[1]),
        "oof_macro_f1": scores[best],
        "oof_macro_f1_argmax": macro_f1(0.5),
    }


def thresholded(proba: np.ndarray, classes: np.ndarray, threshold: float | None) -> np.ndarray:
    """Labels: argmax, or the second class where its probability reaches `threshold`."""
    if threshold is None:
        return classes[proba.argmax(axis=1)]
    return np.where(proba[:, 1] >= threshold, classes[1], classes[0])
