"""Regression test-set metrics (beside the training-mean baseline) and the plots' data."""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)
from sklearn.pipeline import Pipeline

from tabml.model.intervals import coverage
from tabml.model.reported import reported
from tabml.scoring.bounds import bounded_interval

HISTOGRAM_BINS = 20


def _quality(y_true: np.ndarray, predicted: np.ndarray) -> dict:
    metrics = {
        "rmse": mean_squared_error(y_true, predicted) ** 0.5,
        "mae": mean_absolute_error(y_true, predicted),
        "r2": r2_score(y_true, predicted),
    }
    if (y_true > 0).all():  # a percentage error needs a target that is never zero
        metrics["mape"] = mean_absolute_percentage_error(y_true, predicted)
    return metrics


def regression_metrics(
    y_true: np.ndarray,
    predicted: np.ndarray,
    training_mean: float,
    interval: dict,
    ends: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """rmse, mae, r2 (mape if the target is positive), their baseline, interval coverage.

    The baseline predicts the training mean for every row (its r2 is about 0, never above).
    """
    model = _quality(y_true, predicted)
    baseline = _quality(y_true, np.full_like(y_true, training_mean))
    half_width = interval["half_width"]
    return {
        **{k: reported(v) for k, v in model.items()},
        "baseline": {k: reported(v) for k, v in baseline.items()},
        # after clipping to the target's range when `ends` (the served interval) are given
        "interval_coverage": reported(
            coverage(y_true, predicted, half_width)
            if ends is None
            else float(((ends[0] <= y_true) & (y_true <= ends[1])).mean())
        ),
        "interval_level": interval["level"],
        "interval_width": reported(2 * half_width),
        "test_rows": len(y_true),
    }


def predicted_actual_points(y_true: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """One point per test row: actual and predicted value."""
    return [{"actual": reported(a), "predicted": reported(p)} for a, p in zip(y_true, predicted)]


def residual_points(y_true: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """One point per test row: residual (actual - predicted) against the prediction."""
    return [
        {"predicted": reported(p), "residual": reported(a - p)} for a, p in zip(y_true, predicted)
    ]


def residual_histogram(y_true: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Residual counts in equal-width bins (bin centres), for a bar plot."""
    counts, edges = np.histogram(y_true - predicted, bins=HISTOGRAM_BINS)
    centres = (edges[:-1] + edges[1:]) / 2
    return [{"residual": reported(c), "rows": int(n)} for c, n in zip(centres, counts)]


def evaluate_regression(
    pipeline: Pipeline, X: pd.DataFrame, y_true: np.ndarray, regression_stats: dict
) -> dict:
    """Metrics and plot data of a fitted regression pipeline on the test set."""
    interval = regression_stats["interval"]
    # clipped to the target's range exactly as served (the runtime's function)
    predicted, low, high = bounded_interval(
        pipeline.predict(X), interval["half_width"], interval.get("min"), interval.get("max")
    )
    return {
        "metrics": regression_metrics(
            y_true, predicted, regression_stats["target"]["mean"], interval, (low, high)
        ),
        "predicted_actual": predicted_actual_points(y_true, predicted),
        "residuals": residual_points(y_true, predicted),
        "residual_histogram": residual_histogram(y_true, predicted),
    }
