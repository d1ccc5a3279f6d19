"""The training statistics: what the model saw, per feature, learnt from the training split.

Saved next to the model (`models/training_stats.json`) and used by serving and batch
(out-of-range warnings, `tabml.scoring.range_warnings`) and drift reports
(`tabml.monitoring.drift`: PSI over `bins`, KS against the CDF given by `percentiles`).
"""

import numpy as np
import pandas as pd

from tabml.binning import CDF_POINTS, bin_index
from tabml.data.profile import DatasetProfile
from tabml.errors import TabmlError
from tabml.model.features import model_inputs
from tabml.scoring.metadata import TrainingStatistics

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
# Decile edges with exact training shares give the PSI bins, in ~120 numbers per feature
# (with the percentiles) whatever the size of the training set.
PSI_BINS = 10


class TrainingDataError(TabmlError, ValueError):
    """The training split cannot describe a feature (e.g. a column with no value at all)."""


def psi_bins(values: np.ndarray) -> dict:
    """Decile edges of `values` (ties merged) and the share of `values` in each bin."""
    inner = np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
    edges = sorted({float(e) for e in inner})
    counts = np.bincount(bin_index(values, edges), minlength=len(edges) + 1)
    return {"edges": edges, "shares": [float(c) for c in counts / counts.sum()]}


def training_stats(train: pd.DataFrame, profile: DatasetProfile) -> dict:
    """Numeric min/max/quantiles/mean/std and category shares for every model input.

    Read through the runtime's input path (`model_inputs`), so the numbers are what the model
    saw: dates count as their derived numbers (`Date Egg (year)`, ...), categories as the
    normalised text. Checked against the `TrainingStatistics` record before it is returned.
    """
    inputs = model_inputs(train, profile.features)
    numeric = {}
    for name in profile.features.model_numeric:
        column = inputs.numbers[name]
        values = column[~np.isnan(column)]
        if len(values) == 0:
            raise TrainingDataError(
                f"training split: {name} has no value in any of its {len(train)} rows; "
                "drop the feature from the profile or fill it"
            )
        numeric[name] = {
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "std": float(values.std()),
            "missing_share": float(np.isnan(column).mean()),
            "quantiles": {str(q): float(np.quantile(values, q)) for q in QUANTILES},
            "percentiles": [float(v) for v in np.quantile(values, np.linspace(0, 1, CDF_POINTS))],
            "bins": psi_bins(values),
        }
    categorical = {}
    for name in profile.features.categorical:
        missing = inputs.missing[name]
        shares = pd.Series(inputs.texts[name][~missing]).value_counts(normalize=True)
        categorical[name] = {
            "categories": sorted(str(c) for c in shares.index),
            "shares": {str(k): float(v) for k, v in sorted(shares.items())},
            "missing_share": float(missing.mean()),
        }
    stats = {
        "rows": len(train),
        "target": profile.target,
        "numeric": numeric,
        "categorical": categorical,
    }
    if profile.features.dates:  # only then: a profile without dates keeps its file unchanged
        stats["dates"] = {c: d.model_dump() for c, d in profile.features.dates.items()}
    TrainingStatistics.model_validate(stats)  # the contract its readers validate against
    return stats
