"""Stage evaluate: test-set metrics (reports/metrics.json) and plot data (reports/plots/)."""

import joblib
import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.model.evaluate import evaluate_model
from tabml.model.features import model_frame
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    profile = load_profile(load_params().data.profile)
    test = pd.read_parquet(paths.TEST_DATA)
    pipeline = joblib.load(paths.MODEL)
    y_true = test[profile.target].astype(str).to_numpy(dtype=object)
    result = evaluate_model(pipeline, model_frame(test, profile.features), y_true)
    atomic.write_json(paths.METRICS, result["metrics"])
    atomic.write_json(paths.CONFUSION_PLOT, result["confusion"])
    atomic.write_json(paths.ROC_PLOT, result["roc"])
    atomic.write_json(paths.PR_PLOT, result["precision_recall"])
    atomic.write_json(paths.IMPORTANCE_PLOT, result["importance"])
    print("evaluate: " + ", ".join(f"{k}={v}" for k, v in result["metrics"].items()))


if __name__ == "__main__":
    run(main)
