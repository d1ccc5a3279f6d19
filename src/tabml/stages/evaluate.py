"""Stage evaluate: metrics and their baseline (reports/metrics.json), slice metrics
(reports/slices.json) and plot data (reports/plots/), as the profile's task evaluates it."""

import json
import sys

import joblib
import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.model.plausibility import implausible
from tabml.model.tasks import training_task
from tabml.params import load_params
from tabml.stages import run

# Declared in dvc.yaml for both tasks: what a task does not write is an empty list.
PLOTS = (
    paths.CONFUSION_PLOT,
    paths.ROC_PLOT,
    paths.PR_PLOT,
    paths.IMPORTANCE_PLOT,
    paths.PREDICTED_ACTUAL_PLOT,
    paths.RESIDUALS_PLOT,
    paths.RESIDUAL_HISTOGRAM_PLOT,
    paths.PARTIAL_DEPENDENCE_PLOT,
)


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    task = training_task(profile)
    test = pd.read_parquet(paths.TEST_DATA)
    # only the target column: the training class shares give the majority-class baseline
    train = pd.read_parquet(paths.TRAIN_DATA, columns=[profile.target])
    pipeline = joblib.load(paths.MODEL)
    training = json.loads(paths.TRAINING_STATS.read_text())
    written = task.evaluate(pipeline, test, task.target(train, profile), profile, params, training)
    for path in (paths.METRICS, paths.SLICES, *PLOTS):
        atomic.write_json(path, written.get(path, []))
    report(written[paths.METRICS], task.baseline)
    why = implausible(written[paths.METRICS], profile, written.get(paths.IMPORTANCE_PLOT, []))
    if why is not None and not profile.expect_perfect:
        print(f"warning: {why}", file=sys.stderr)


def report(metrics: dict, baseline_kind: str) -> None:
    """The stage's summary: the metrics, then their baseline."""
    metrics = dict(metrics)
    baseline = metrics.pop("baseline")
    # numbers only: per_class is a table (metrics.json, the model card)
    shown = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    print("evaluate: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    print(f"baseline ({baseline_kind}): " + ", ".join(f"{k}={v}" for k, v in baseline.items()))


if __name__ == "__main__":
    run(main)
