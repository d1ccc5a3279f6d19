"""Stage evaluate: metrics and their baseline (reports/metrics.json), plots (reports/plots/)."""

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
    # only the target column: the training class shares give the majority-class baseline
    train = pd.read_parquet(paths.TRAIN_DATA, columns=[profile.target])
    pipeline = joblib.load(paths.MODEL)
    y_true = test[profile.target].astype(str).to_numpy(dtype=object)
    y_train = train[profile.target].astype(str).to_numpy(dtype=object)
    result = evaluate_model(pipeline, model_frame(test, profile.features), y_true, y_train)
    atomic.write_json(paths.METRICS, result["metrics"])
    atomic.write_json(paths.CONFUSION_PLOT, result["confusion"])
    atomic.write_json(paths.ROC_PLOT, result["roc"])
    atomic.write_json(paths.PR_PLOT, result["precision_recall"])
    atomic.write_json(paths.IMPORTANCE_PLOT, result["importance"])
    metrics = dict(result["metrics"])
    baseline = metrics.pop("baseline")
    print("evaluate: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    print("baseline (majority class): " + ", ".join(f"{k}={v}" for k, v in baseline.items()))


if __name__ == "__main__":
    run(main)
