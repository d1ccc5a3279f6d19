"""Stage train: fit the chosen estimator family; save the pipeline and the training statistics.

The profile's task fits it (`tabml.model.tasks`): a regression model's statistics also hold
its split-conformal interval.
"""

import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.model.tasks import training_task
from tabml.model.train import check_family
from tabml.model.training_stats import training_stats
from tabml.model.tuned_params import apply_tuned, read_tuned
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    train = pd.read_parquet(paths.TRAIN_DATA)
    train_params = params.train
    if train_params.use_tuned:
        train_params = apply_tuned(train_params, read_tuned(paths.TUNED_PARAMS), paths.TUNED_PARAMS)
        print(f"train: tuned parameters from {paths.TUNED_PARAMS}")
    check_family(profile, train_params.model)
    stats = training_stats(train, profile)
    pipeline, task_stats = training_task(profile).fit(train, profile, train_params, params)
    stats.update(task_stats)
    atomic.write_joblib(paths.MODEL, pipeline)
    atomic.write_json(paths.TRAINING_STATS, stats)
    model = stats["model"]
    cv = ", ".join(f"{name} {score:.4g}" for name, score in model.get("cv", {}).items())
    chosen = model["family"] + (f" (auto, CV {model['metric']}: {cv})" if cv else "")
    print(f"train: {chosen} fitted on {len(train)} rows -> {paths.MODEL}")


if __name__ == "__main__":
    run(main)
