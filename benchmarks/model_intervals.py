"""Regression intervals with a strong family: what today's conformal cut costs, and two ways
to keep the whole training split for the model.

- `split` (today): fit on 75% of the training split, the 90% quantile of |residual| on the
  other 25% is the half-width (with the (n + 1) correction);
- `split, refit`: the same half-width, the model then refitted on the whole split (the
  residuals came from a slightly weaker model: coverage may drop a little);
- `cv+ (5 folds)`: out-of-fold |residuals| of 5 seeded folds give the half-width, the model
  is fitted on the whole split (CV+'s symmetric simplification, as cross-conformal does).
Scored on the test split: r2 of the point prediction, coverage and width of the interval.
"""

import numpy as np
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, train_test_split

from benchmarks.model_hgb import SEED, hgb_pipeline
from benchmarks.model_systems import Data

LEVEL, CALIBRATION = 0.9, 0.25


def half_width(residuals: np.ndarray, level: float = LEVEL) -> float:
    """The conformal quantile with the (n + 1) correction (as tabml.model.intervals)."""
    n = len(residuals)
    rank = min(n, int(np.ceil((n + 1) * level)))
    return float(np.sort(residuals)[rank - 1])


def _row(method: str, data: Data, model, width: float) -> dict:
    predicted = model.predict(data.x_test)
    inside = np.abs(data.y_test - predicted) <= width
    return {"method": method, "r2": float(r2_score(data.y_test, predicted)),
            "coverage": float(inside.mean()), "half_width": width}  # fmt: skip


def interval_rows(data: Data, params: dict) -> list[dict]:
    """The three ways on one regression table, for the HGB `auto` settings."""
    x, y = data.x_train, data.y_train
    template = hgb_pipeline(data, "ordinal", **params)
    fit_x, cal_x, fit_y, cal_y = train_test_split(x, y, test_size=CALIBRATION, random_state=SEED)
    model = clone(template).fit(fit_x, fit_y)
    width = half_width(np.abs(cal_y - model.predict(cal_x)))
    rows = [_row("split (today)", data, model, width)]
    rows.append(_row("split, refit on all", data, clone(template).fit(x, y), width))
    residuals = np.zeros(len(y))
    for fit, held_out in KFold(5, shuffle=True, random_state=SEED).split(x):
        fold = clone(template).fit(x.iloc[fit], y[fit])
        residuals[held_out] = np.abs(y[held_out] - fold.predict(x.iloc[held_out]))
    rows.append(_row("cv+ (5 folds)", data, clone(template).fit(x, y), half_width(residuals)))
    return rows
