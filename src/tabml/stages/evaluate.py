"""Stage evaluate: test-set metrics, slice metrics and plot data (reports/, reports/plots/)."""

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


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    test = pd.read_parquet(paths.TEST_DATA)
    pipeline = joblib.load(paths.MODEL)
    y_true = test[profile.target].astype(str).to_numpy(dtype=object)
    X = model_frame(test, profile.features)
    result = evaluate_model(pipeline, X, y_true)
    importance = permutation_importances(pipeline, X, y_true, params.train.seed)
    top = top_numeric(importance, profile.features.numeric)
    atomic.write_json(paths.METRICS, result["metrics"])
    atomic.write_json(paths.SLICES, slice_metrics(X, y_true, pipeline.predict(X), profile.features))
    atomic.write_json(paths.CONFUSION_PLOT, result["confusion"])
    atomic.write_json(paths.ROC_PLOT, result["roc"])
    atomic.write_json(paths.PR_PLOT, result["precision_recall"])
    atomic.write_json(paths.IMPORTANCE_PLOT, importance)
    atomic.write_json(paths.PARTIAL_DEPENDENCE_PLOT, partial_dependence_points(pipeline, X, top))
    print("evaluate: " + ", ".join(f"{k}={v}" for k, v in result["metrics"].items()))


if __name__ == "__main__":
    run(main)
