"""One trial's cross-validation: the folds, one fold's score, and where the folds run.

Classification uses stratified k-fold and the classifier families; regression uses k-fold and
the regression families (`tabml.model.regressors.FAMILIES`), scored on the point prediction.
A fold is a plain function of its rows, the params and `train.seed`, so it scores the same in
this process or on any Dask worker (`fold_backend`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold

from tabml.data.profile import DatasetProfile
from tabml.engine import Engine
from tabml.errors import TabmlError
from tabml.model.features import model_frame
from tabml.model.regressors import FAMILIES, build_regression_pipeline, target_values
from tabml.model.train import fit_model
from tabml.params import REGRESSION_METRICS, TrainParams, TuneParams


class TuneError(TabmlError, ValueError):
    """The search cannot run on this data with these params (e.g. too few rows per fold)."""


def task_families(tune: TuneParams, profile: DatasetProfile) -> dict:
    """The searched families that exist for the profile's task, and a metric that fits it.

    Raises:
        TuneError: the metric scores the other task, or no listed family fits this one.
    """
    regression = profile.task == "regression"
    if (tune.metric in REGRESSION_METRICS) != regression:
        fitting = "neg_root_mean_squared_error" if regression else "neg_log_loss"
        raise TuneError(
            f"params.yaml: tune.metric: {tune.metric} does not score a {profile.task} model "
            f"(profile {profile.name!r}): set it to e.g. {fitting} "
            f"(-S tune.metric={fitting})"
        )
    families = {
        name: space
        for name, space in tune.space.families().items()
        if name in FAMILIES[profile.task]
    }
    if not families:
        raise TuneError(
            f"params.yaml: tune.space lists no {profile.task} family "
            f"(profile {profile.name!r}): add one of {' | '.join(FAMILIES[profile.task])}"
        )
    return families


def cv_folds(
    train: pd.DataFrame, profile: DatasetProfile, tune: TuneParams
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled, seeded folds, stratified by class for classification: (fit, validation) rows."""
    positions = np.zeros(len(train))
    if profile.task == "regression":
        splitter = KFold(n_splits=tune.folds, shuffle=True, random_state=tune.seed)
        return list(splitter.split(positions))
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < tune.folds:
        rare = classes[counts.argmin()]
        raise TuneError(
            f"tune.folds={tune.folds} but class {rare!r} has only {counts.min()} rows in the "
            "training split: lower tune.folds or add rows of that class"
        )
    splitter = StratifiedKFold(n_splits=tune.folds, shuffle=True, random_state=tune.seed)
    return list(splitter.split(positions, labels))


def fold_score(
    train: pd.DataFrame,
    fit_rows: np.ndarray,
    validation_rows: np.ndarray,
    profile: DatasetProfile,
    params: TrainParams,
    metric: str,
) -> float:
    """One fold: fit on `fit_rows`, score `validation_rows` (greater is better). Runs wherever
    joblib sends it (this process or a Dask worker); the seeds make the score the same."""
    fit, validation = train.iloc[fit_rows], train.iloc[validation_rows]
    features = model_frame(validation, profile.features)
    if profile.task == "regression":
        pipeline = build_regression_pipeline(profile, params)
        pipeline.fit(model_frame(fit, profile.features), target_values(fit, profile))
        return float(get_scorer(metric)(pipeline, features, target_values(validation, profile)))
    pipeline = fit_model(fit, profile, params)
    labels = validation[profile.target].astype(str).to_numpy(dtype=object)
    return float(get_scorer(metric)(pipeline, features, labels))


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
