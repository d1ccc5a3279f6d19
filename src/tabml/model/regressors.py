"""Regression models fitted with their prediction interval.

The train split is cut once more (seeded): the model (the family's regressor, from
`tabml.model.train.build_pipeline`) is fit on one part and the other part calibrates the
split-conformal interval (`tabml.model.intervals`, docs/regression.md).
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
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
    """Fit on the train split minus a seeded calibration part; calibrate the interval on it.

    Returns:
        The fitted pipeline and the `regression` block of the training statistics: target
        summary (of the whole train split) and the interval (level, half-width, rows).
    """
    if params.model == AUTO:  # callers other than the train stage (which records the choice)
        from tabml.model.auto import resolve_model

        params, _ = resolve_model(train, profile, params, TuneParams())
    fit_part, calibration = train_test_split(
        train, test_size=regression.calibration_size, random_state=params.seed
    )
    pipeline = build_pipeline(profile, params, rows=len(fit_part))
    with one_thread():
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
            "min": profile.target_bounds.min,
            "max": profile.target_bounds.max,
        },
    }
    return pipeline, block
