"""The live report of a regression model: per version and window, errors and coverage.

The regression twin of `live_report.live_report` (same windows, drift and verdict rule,
`live_report.version_report`): the joined predictions carry the value (`predicted`), the
prediction interval (`interval_low`, `interval_high`) and, where one arrived, the true value
(`label`, NaN otherwise).
"""

import numpy as np
import pandas as pd

from tabml.monitoring import alerts
from tabml.monitoring.join import by_version
from tabml.monitoring.live_errors import labelled_errors
from tabml.monitoring.live_report import reference_metrics, version_report
from tabml.params import DriftParams, MonitorParams
from tabml.scoring.metadata import ModelMetadata

REFERENCE_METRICS = ("rmse", "mae", "r2", "interval_coverage", "interval_level")


def _numbers(rows: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=np.float64)


def window_errors(rows: pd.DataFrame, seed: int) -> dict:
    """Counts, the mean predicted value and (where labels arrived) live errors of a window."""
    predicted = _numbers(rows, "predicted")
    low, high = _numbers(rows, "interval_low"), _numbers(rows, "interval_high")
    true = _numbers(rows, "label")
    scored = np.isfinite(predicted) & np.isfinite(low) & np.isfinite(high)  # not pre-id lines
    labelled = scored & np.isfinite(true)
    result = {
        "predictions": len(rows),
        "labelled": int(labelled.sum()),
        "coverage": float(labelled.sum() / len(rows)),
        # A signal without labels: the predictions' level moves when the population does.
        "mean_predicted": float(predicted[scored].mean()) if scored.any() else None,
    }
    if labelled.any():
        found = labelled_errors(true[labelled], predicted[labelled], low[labelled], high[labelled],
                                seed)  # fmt: skip
        result.update(found)
    return result


def live_report(
    joined: pd.DataFrame,
    models: dict[str, ModelMetadata],
    window: pd.Timedelta,
    limits: MonitorParams,
    gate_ceilings: dict[str, float],
    drift_limits: DriftParams,
) -> dict[str, dict]:
    """`version_report` of every model version of a regression model's joined predictions."""
    found = {}
    for version, rows in by_version(joined):
        metadata = models.get(version)
        reference = reference_metrics(metadata, REFERENCE_METRICS)
        interval = metadata.prediction_interval if metadata else None
        level = interval.level if interval else None
        found[str(version)] = version_report(
            rows,
            window,
            lambda group: window_errors(group, limits.bootstrap_seed),
            alerts.regression_limits(reference, limits, gate_ceilings, level),
            reference,
            metadata.training_stats if metadata else None,
            limits,
            drift_limits,
        )
    return found
