"""Regression models: the estimator families for `task: regression`, fitted with intervals.

The train split is cut once more (seeded): the model is fit on one part and the other part
calibrates the split-conformal interval (`tabml.model.intervals`, docs/regression.md).
"""

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile
from tabml.model.features import build_preprocessor, model_frame
from tabml.model.intervals import conformal_half_width
from tabml.model.train import boosting_options, forest_options
from tabml.params import ParamsError, RegressionParams, TrainParams

FAMILIES = {
    "classification": ("logistic_regression", "random_forest", "gradient_boosting"),
    "regression": ("ridge", "random_forest", "gradient_boosting"),
}


class ModelFamilyError(ParamsError):
    """`train.model` names a family that does not fit the profile's task."""


def check_family(profile: DatasetProfile, family: str) -> None:
    """Raise ModelFamilyError unless `family` exists for the profile's task."""
    allowed = FAMILIES[profile.task]
    if family not in allowed:
        raise ModelFamilyError(
            f"train.model is {family!r}, but profile {profile.name!r} has task "
            f"{profile.task!r}: choose one of {' | '.join(allowed)} "
            f"(e.g. -S train.model={allowed[0]})"
        )


def build_regressor(params: TrainParams) -> RegressorMixin:
    """The regressor of family `params.model`, seeded, with its hyperparameter section."""
    if params.model == "ridge":
        return Ridge(alpha=params.ridge.alpha)
    if params.model == "random_forest":
        return RandomForestRegressor(**forest_options(params))
    if params.model == "gradient_boosting":
        return GradientBoostingRegressor(**boosting_options(params))
    raise ValueError(f"unknown regression family {params.model!r}")


def build_regression_pipeline(profile: DatasetProfile, params: TrainParams) -> Pipeline:
    # Only the linear model needs scaled inputs (as for classification).
    scale = params.model == "ridge"
    return Pipeline(
        [
            ("preprocess", build_preprocessor(profile.features, scale_numeric=scale)),
            ("model", build_regressor(params)),
        ]
    )


def target_values(frame: pd.DataFrame, profile: DatasetProfile) -> np.ndarray:
    """The numeric target as float64."""
    return pd.to_numeric(frame[profile.target], errors="raise").to_numpy(dtype=np.float64)


def fit_regression(
    train: pd.DataFrame, profile: DatasetProfile, params: TrainParams, regression: RegressionParams
) -> tuple[Pipeline, dict]:
    """Fit on the train split minus a seeded calibration part; calibrate the interval on it.

    Returns:
        The fitted pipeline and the `regression` block of the training statistics: target
        summary (of the whole train split) and the interval (level, half-width, rows).
    """
    check_family(profile, params.model)
    fit_part, calibration = train_test_split(
        train, test_size=regression.calibration_size, random_state=params.seed
    )
    pipeline = build_regression_pipeline(profile, params)
    pipeline.fit(model_frame(fit_part, profile.features), target_values(fit_part, profile))
    predicted = pipeline.predict(model_frame(calibration, profile.features))
    residuals = np.abs(target_values(calibration, profile) - predicted)
    y = target_values(train, profile)
    block = {
        "target": {
            "mean": float(y.mean()),
            "std": float(y.std()),
            "min": float(y.min()),
            "max": float(y.max()),
        },
        "interval": {
            "method": "split_conformal",
            "level": regression.interval_level,
            "half_width": conformal_half_width(residuals, regression.interval_level),
            "calibration_rows": len(calibration),
            "fit_rows": len(fit_part),
        },
    }
    return pipeline, block
