"""`train.model: auto`: the family chosen for the profile's task, seeded, without any edit.

Histogram gradient boosting (`hgb`, native missing values, early stopping on large splits)
is the choice for both tasks. With `train.auto_linear_check` (the default) it is scored
against the task's linear family (logistic regression / ridge, with their `train.<family>`
settings) by the tune stage's cross-validation on the training split (`tune.folds`,
`tune.seed`, the task's default tune metric), and the better one is refitted on the whole
split: on the model benchmark the linear family won two tables of seven (docs/benchmarks.md,
"Models"). Only the training split is seen.
"""

import pandas as pd

from tabml.data.profile import DatasetProfile
from tabml.model.families import AUTO
from tabml.params import TrainParams, TuneParams

BOOSTING = "hgb"
LINEAR = {"classification": "logistic_regression", "regression": "ridge"}


def resolve_model(
    train: pd.DataFrame, profile: DatasetProfile, train_params: TrainParams, tune: TuneParams
) -> tuple[TrainParams, dict]:
    """`train_params` with `auto` replaced by the chosen family, and how it was chosen
    (the `model` block of the training statistics). A named family is kept as it is."""
    if train_params.model != AUTO:
        return train_params, {"family": train_params.model, "requested": train_params.model}
    choice = {"family": BOOSTING, "requested": AUTO}
    candidates = {BOOSTING: train_params.model_copy(update={"model": BOOSTING})}
    if train_params.auto_linear_check:
        linear = LINEAR[profile.task]
        candidates[linear] = train_params.model_copy(update={"model": linear})
        scores, metric = _cv_scores(train, profile, candidates, tune)
        if scores:
            choice.update(family=max(scores, key=scores.get), metric=metric, cv=scores)
        else:
            choice["skipped"] = metric  # why the check could not run
    return candidates[choice["family"]], choice


def _cv_scores(
    train: pd.DataFrame, profile: DatasetProfile, candidates: dict, tune: TuneParams
) -> tuple[dict[str, float], str]:
    """Mean CV score per candidate on the tune stage's folds (greater is better; a tie keeps
    boosting, listed first), or no scores and why the folds cannot be cut."""
    from sklearn.model_selection import cross_val_score

    from tabml.model.families import one_thread
    from tabml.model.features import model_frame
    from tabml.model.tasks import TuneError, training_task
    from tabml.model.train import build_pipeline

    task = training_task(profile)
    metric, y = task.tune_metrics[0], task.target(train, profile)
    try:
        folds = task.folds(y, tune)
    except TuneError as err:
        return {}, str(err)
    # sized by the whole split, like the final fit: a 1,022-row split stops early, its
    # 681-row folds would not (weather: a fixed 200 iterations overfit and lost to linear)
    X, rows = model_frame(train, profile.features), len(train)
    with one_thread():
        scores = {
            name: cross_val_score(build_pipeline(profile, p, rows), X, y, cv=folds, scoring=metric)
            for name, p in candidates.items()
        }
    return {name: float(s.mean()) for name, s in scores.items()}, metric
