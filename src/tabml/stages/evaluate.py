"""Stage evaluate: metrics and their baseline (reports/metrics.json), slice metrics
(reports/slices.json) and plot data (reports/plots/)."""

import json

import joblib
import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.model.evaluate import evaluate_model
from tabml.model.features import model_frame
from tabml.model.importance import (
    partial_dependence_points,
    permutation_importances,
    top_numeric,
)
from tabml.model.slices import slice_metrics
from tabml.params import load_params
from tabml.stages import run

# Declared in dvc.yaml for both tasks: the other task's plots are written as empty lists.
CLASSIFICATION_PLOTS = (paths.CONFUSION_PLOT, paths.ROC_PLOT, paths.PR_PLOT)
REGRESSION_PLOTS = (
    paths.PREDICTED_ACTUAL_PLOT,
    paths.RESIDUALS_PLOT,
    paths.RESIDUAL_HISTOGRAM_PLOT,
)


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    test = pd.read_parquet(paths.TEST_DATA)
    # only the target column: the training class shares give the majority-class baseline
    train = pd.read_parquet(paths.TRAIN_DATA, columns=[profile.target])
    pipeline = joblib.load(paths.MODEL)
    X = model_frame(test, profile.features)
    if profile.task == "regression":
        evaluate_regression_model(pipeline, test, X, profile, params.train.seed)
        return
    y_true = test[profile.target].astype(str).to_numpy(dtype=object)
    y_train = train[profile.target].astype(str).to_numpy(dtype=object)
    result = evaluate_model(pipeline, X, y_true, y_train)
    importance = permutation_importances(pipeline, X, y_true, params.train.seed)
    top = top_numeric(importance, profile.features.numeric)
    atomic.write_json(paths.METRICS, result["metrics"])
    atomic.write_json(paths.SLICES, slice_metrics(X, y_true, pipeline.predict(X), profile.features))
    atomic.write_json(paths.CONFUSION_PLOT, result["confusion"])
    atomic.write_json(paths.ROC_PLOT, result["roc"])
    atomic.write_json(paths.PR_PLOT, result["precision_recall"])
    atomic.write_json(paths.IMPORTANCE_PLOT, importance)
    atomic.write_json(paths.PARTIAL_DEPENDENCE_PLOT, partial_dependence_points(pipeline, X, top))
    for path in REGRESSION_PLOTS:
        atomic.write_json(path, [])
    report(result["metrics"], "majority class")


def evaluate_regression_model(pipeline, test: pd.DataFrame, X: pd.DataFrame, profile, seed: int):
    """Regression metrics and plots; slices and partial dependence are classification's."""
    from tabml.model.regression_metrics import evaluate_regression
    from tabml.model.regressors import target_values

    stats = json.loads(paths.TRAINING_STATS.read_text())["regression"]
    y_true = target_values(test, profile)
    result = evaluate_regression(pipeline, X, y_true, stats)
    importance = permutation_importances(pipeline, X, y_true, seed, "neg_root_mean_squared_error")
    atomic.write_json(paths.METRICS, result["metrics"])
    atomic.write_json(paths.SLICES, {})
    atomic.write_json(paths.PREDICTED_ACTUAL_PLOT, result["predicted_actual"])
    atomic.write_json(paths.RESIDUALS_PLOT, result["residuals"])
    atomic.write_json(paths.RESIDUAL_HISTOGRAM_PLOT, result["residual_histogram"])
    atomic.write_json(paths.IMPORTANCE_PLOT, importance)
    for path in (*CLASSIFICATION_PLOTS, paths.PARTIAL_DEPENDENCE_PLOT):
        atomic.write_json(path, [])
    report(result["metrics"], "training mean")


def report(metrics: dict, baseline_kind: str) -> None:
    """The stage's summary: the metrics, then their baseline."""
    metrics = dict(metrics)
    baseline = metrics.pop("baseline")
    print("evaluate: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    print(f"baseline ({baseline_kind}): " + ", ".join(f"{k}={v}" for k, v in baseline.items()))


if __name__ == "__main__":
    run(main)
