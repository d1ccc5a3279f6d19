"""Split-conformal prediction intervals: one half-width from held-out absolute residuals.

For n calibration residuals |y - f(x)| the half-width is their ceil((n + 1) * level)-th
smallest value. With the calibration rows exchangeable with new rows, [f(x) - q, f(x) + q]
then covers a new y with probability at least `level` (Lei et al. 2018, "Distribution-free
predictive inference for regression"); the (n + 1) is the finite-sample correction
(a plain `level` quantile of n residuals under-covers by about 1 / n).
"""

import math

import numpy as np

from tabml.errors import TabmlError


class TooFewCalibrationRows(TabmlError, ValueError):
    """The calibration part is too small for the level (the interval would be infinite)."""


def conformal_half_width(residuals: np.ndarray, level: float) -> float:
    """The ceil((n + 1) * level)-th smallest absolute residual.

    Raises:
        TooFewCalibrationRows: when ceil((n + 1) * level) > n.
    """
    values = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)))
    n = len(values)
    rank = math.ceil((n + 1) * level - 1e-9)  # 1e-9: (n + 1) * level in float can overshoot
    if rank > n:
        raise TooFewCalibrationRows(
            f"{n} calibration rows are too few for a {level:.0%} interval (need at least "
            f"{math.ceil(level / (1 - level))}): add training rows, or with "
            "regression.interval_method: split raise regression.calibration_size"
        )
    return float(values[rank - 1])


def coverage(y_true: np.ndarray, predicted: np.ndarray, half_width: float) -> float:
    """Share of `y_true` inside [predicted - half_width, predicted + half_width]."""
    inside = np.abs(np.asarray(y_true, dtype=np.float64) - predicted) <= half_width
    return float(inside.mean())


class CoverageError(TabmlError, ValueError):
    """The interval's test-set coverage is too far from its nominal level to be trusted."""


def check_coverage(metrics: dict, level: float, tolerance: float) -> None:
    """Raise CoverageError unless |metrics["interval_coverage"] - level| <= tolerance."""
    found = metrics.get("interval_coverage")
    if found is None:
        raise CoverageError(
            "reports/metrics.json has no interval_coverage: rerun the evaluate stage"
        )
    if abs(found - level) > tolerance + 1e-9:
        raise CoverageError(
            f"interval_coverage = {found:.3f} on the test set, nominal level {level:.3f} "
            f"(regression.coverage_tolerance {tolerance:g}): the interval is not calibrated "
            "for this data; the model was not packaged. Calibrate on more rows "
            "(regression.interval_method: cv, or a larger calibration_size with split) or "
            "check that the test rows come from the same distribution as the training rows"
        )
