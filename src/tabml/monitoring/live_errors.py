"""Live metrics of a regression model's labelled predictions: pure functions on numpy arrays.

RMSE and MAE with 95% intervals, the mean error (bias), and the interval coverage: the share
of true values inside their prediction interval, with a Wilson 95% interval (the same as
the classifier's accuracy, `live_metrics.wilson_interval`).

The RMSE and MAE intervals are percentile bootstraps (1,000 rounds, seeded) over the rows of
a window of up to `BOOTSTRAP_ROWS` labelled predictions. A round resamples every row, so a
larger window would cost rounds x rows; there the normal approximation is used instead
(mean +- 1.96 standard errors of the squared and absolute errors; the RMSE interval is the
square root of the MSE interval's ends). With that many rows the two agree to well within
the bootstrap's own Monte Carlo noise (tested at the switch-over).
"""

import numpy as np

from tabml.monitoring.live_metrics import BOOTSTRAP_ROUNDS, Z_95, wilson_interval

BOOTSTRAP_ROWS = 20_000
_DRAW_CELLS = 2_000_000  # resampled row indices drawn at once (16 MB)


def _bootstrap(squared: np.ndarray, absolute: np.ndarray, seed: int, rounds: int) -> dict:
    n = len(squared)
    rng = np.random.default_rng(seed)
    mse, mae = np.empty(rounds), np.empty(rounds)
    block = max(1, _DRAW_CELLS // n)
    for start in range(0, rounds, block):
        rows = rng.integers(0, n, size=(min(block, rounds - start), n))
        mse[start : start + len(rows)] = squared[rows].mean(axis=1)
        mae[start : start + len(rows)] = absolute[rows].mean(axis=1)
    rmse_low, rmse_high = np.percentile(np.sqrt(mse), [2.5, 97.5])
    mae_low, mae_high = np.percentile(mae, [2.5, 97.5])
    return {"rmse_low": rmse_low, "rmse_high": rmse_high, "mae_low": mae_low,
            "mae_high": mae_high}  # fmt: skip


def _normal(squared: np.ndarray, absolute: np.ndarray) -> dict:
    n = len(squared)
    mse_half = Z_95 * squared.std(ddof=1) / np.sqrt(n)
    mae_half = Z_95 * absolute.std(ddof=1) / np.sqrt(n)
    mse, mae = squared.mean(), absolute.mean()
    return {"rmse_low": np.sqrt(max(mse - mse_half, 0.0)), "rmse_high": np.sqrt(mse + mse_half),
            "mae_low": max(mae - mae_half, 0.0), "mae_high": mae + mae_half}  # fmt: skip


def error_intervals(residuals: np.ndarray, seed: int, rounds: int = BOOTSTRAP_ROUNDS) -> dict:
    """95% intervals of the RMSE and MAE of `residuals` (bootstrap, or normal beyond
    `BOOTSTRAP_ROWS` rows): `rmse_low`, `rmse_high`, `mae_low`, `mae_high`."""
    residuals = np.asarray(residuals, dtype=np.float64)
    if len(residuals) < 2:
        return {"rmse_low": 0.0, "rmse_high": np.inf, "mae_low": 0.0, "mae_high": np.inf}
    squared, absolute = residuals**2, np.abs(residuals)
    if len(residuals) <= BOOTSTRAP_ROWS:
        found = _bootstrap(squared, absolute, seed, rounds)
    else:
        found = _normal(squared, absolute)
    return {k: float(v) for k, v in found.items()}


def labelled_errors(
    true: np.ndarray, predicted: np.ndarray, low: np.ndarray, high: np.ndarray, seed: int
) -> dict:
    """RMSE, MAE (with intervals), bias and interval coverage of labelled rows.

    Args:
        true: the labels (true values); predicted: the model's values;
        low, high: each prediction's interval ends (a true value on an end is inside).
    """
    residuals = predicted - true
    inside = (low <= true) & (true <= high)
    coverage_low, coverage_high = wilson_interval(int(inside.sum()), len(true))
    return {
        "labelled": len(true),
        "rmse": float(np.sqrt(np.mean(residuals**2))),
        "mae": float(np.mean(np.abs(residuals))),
        **error_intervals(residuals, seed),
        "bias": float(residuals.mean()),  # mean of predicted - true: > 0 predicts too high
        "interval_coverage": float(inside.mean()),
        "interval_coverage_low": coverage_low,
        "interval_coverage_high": coverage_high,
    }
