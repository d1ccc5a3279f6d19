"""One trial's cross-validation: the folds, one fold's score, and where the folds run.

The profile's task (`tabml.model.tasks`) cuts the folds (stratified k-fold for classes,
k-fold for numbers), says which metrics can score them, and which families of the registry
(`tabml.model.families`) have an estimator for it. A fold is a plain function of its rows,
the params and `train.seed`, so it scores the same in this process or on any Dask worker
(`fold_backend`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import get_scorer

from tabml.data.profile import DatasetProfile
from tabml.engine import Engine
from tabml.model.families import families_for, one_thread
from tabml.model.features import model_frame
from tabml.model.tasks import TuneError, training_task
from tabml.model.train import build_pipeline
from tabml.params import TrainParams, TuneParams

__all__ = ["TuneError", "cv_folds", "fold_backend", "fold_score", "task_families"]


def task_families(tune: TuneParams, profile: DatasetProfile) -> dict:
    """The searched families that exist for the profile's task, and a metric that fits it.

    Raises:
        TuneError: the metric scores the other task, or no listed family fits this one.
    """
    task = training_task(profile)
    if tune.metric not in task.tune_metrics:
        fitting = task.tune_metrics[0]
        raise TuneError(
            f"params.yaml: tune.metric: {tune.metric} does not score a {profile.task} model "
            f"(profile {profile.name!r}): set it to e.g. {fitting} "
            f"(-S tune.metric={fitting})"
        )
    allowed = families_for(profile.task)
    families = {name: space for name, space in tune.space.families().items() if name in allowed}
    if not families:
        raise TuneError(
            f"params.yaml: tune.space lists no {profile.task} family "
            f"(profile {profile.name!r}): add one of {' | '.join(allowed)}"
        )
    return families


def cv_folds(
    train: pd.DataFrame, profile: DatasetProfile, tune: TuneParams
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled, seeded folds (the task's: stratified by class for classification)."""
    task = training_task(profile)
    return task.folds(task.target(train, profile), tune)


def fold_score(
    train: pd.DataFrame,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    profile: DatasetProfile,
    params: TrainParams,
    metric: str,
) -> float:
    """One fold: fit on `fit_rows`, score `validation_rows` (greater is better). Runs wherever
    joblib sends it (this process or a Dask worker); the seeds make the score the same. A
    regression fold scores the point prediction (no interval is calibrated for a fold).

    The fold's model is sized by the whole split's rows (hgb: early stopping or a fixed
    number of iterations), so the fold scores the configuration the train stage will fit."""
    task = training_task(profile)
    fit, validation = train.iloc[fit_rows], train.iloc[validation_rows]
    pipeline = build_pipeline(profile, params, rows=len(train))
    with one_thread():
        pipeline.fit(model_frame(fit, profile.features), task.target(fit, profile))
        features = model_frame(validation, profile.features)
        return float(get_scorer(metric)(pipeline, features, task.target(validation, profile)))


@contextmanager
def fold_backend(engine: Engine, train: pd.DataFrame) -> Iterator[None]:
    """Send the trials' fold fits to the engine's Dask workers (in process: no change).

    The training split is scattered to every worker once, not shipped with each fold.
    """
    if not engine.distributed:
        yield
        return
    with joblib.parallel_config(backend="dask", client=engine.client, scatter=[train], n_jobs=-1):
        yield
