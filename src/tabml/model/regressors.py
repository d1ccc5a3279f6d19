"""Regression models fitted with their prediction interval (docs/regression.md).

`regression.interval_method: cv` (the default): the model (the family's regressor, from
`tabml.model.train.build_pipeline`) is fit on the whole train split; seeded k-fold models
give every training row an out-of-fold residual, and their conformal quantile is the
interval's half-width. `split`: a seeded share of the train split is held out, the model is
fit on the rest, and the held-out residuals give the half-width (split conformal).
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile
from tabml.model.families import AUTO, one_thread
from tabml.model.features import model_frame
from tabml.model.intervals import conformal_half_width
from tabml.model.train import build_pipeline
from tabml.params import RegressionParams, TrainParams, TuneParams


def target_values(frame: pd.DataFrame, profile: DatasetProfile) -> np.ndarray:
    """The numeric target as float64."""
    return pd.to_numeric(frame[profile.target], errors="raise").to_numpy(dtype=np.float64)


def fit_regression(
    train: pd.DataFrame, profile: DatasetProfile, params: TrainParams, regression: RegressionParams
) -> tuple[Pipeline, dict]:
    """Fit the model and calibrate its interval (`regression.interval_method`).

    Returns:
        The fitted pipeline and the `regression` block of the training statistics: target
        summary (of the whole train split) and the interval (level, half-width, rows).
    """
    if params.model == AUTO:  # callers other than the train stage (which records the choice)
        from tabml.model.auto import resolve_model

        params, _ = resolve_model(train, profile, params, TuneParams())
    x, y = model_frame(train, profile.features), target_values(train, profile)
    if regression.interval_method == "split":
        fit_rows, calibration = train_test_split(
            np.arange(len(train)), test_size=regression.calibration_size, random_state=params.seed
        )
        pipeline = _fitted(profile, params, x.iloc[fit_rows], y[fit_rows])
        with one_thread():
            residuals = y[calibration] - pipeline.predict(x.iloc[calibration])
        counts = {"calibration_rows": len(calibration), "fit_rows": len(fit_rows)}
    else:
        residuals = out_of_fold_residuals(profile, params, x, y, regression.interval_folds)
        pipeline = _fitted(profile, params, x, y)
        counts = {"calibration_rows": len(residuals), "fit_rows": len(train)}
    block = {
        "target": {
            "mean": float(y.mean()),
            "std": float(y.std()),
            "min": float(y.min()),
            "max": float(y.max()),
        },
        "interval": {
            "method": "split_conformal" if regression.interval_method == "split" else "cv",
            "level": regression.interval_level,
            "half_width": conformal_half_width(residuals, regression.interval_level),
            **counts,
            "min": profile.target_bounds.min,
            "max": profile.target_bounds.max,
        },
    }
    return pipeline, block


def _fitted(profile: DatasetProfile, params: TrainParams, x: pd.DataFrame, y: np.ndarray):
    pipeline = build_pipeline(profile, params, rows=len(x))
    with one_thread():
        return pipeline.fit(x, y)


def out_of_fold_residuals(
    profile: DatasetProfile, params: TrainParams, x: pd.DataFrame, y: np.ndarray, folds: int
) -> np.ndarray:
    """Each row's residual from the model of the seeded k-fold split that did not see it.
    Each fold's model is sized like the whole split's (hgb: early stopping or not)."""
    splitter = KFold(min(folds, len(y)), shuffle=True, random_state=params.seed)
    with one_thread():
        predicted = cross_val_predict(
            build_pipeline(profile, params, rows=len(y)), x, y, cv=splitter
        )
    return y - predicted
