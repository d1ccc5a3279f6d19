"""The training range: what the model saw, per feature, learnt from the training split.

Saved next to the model and used by serving (out-of-range warnings) and drift reports.
"""

import numpy as np
import pandas as pd

from tabml.dataset import DatasetProfile

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def training_range(train: pd.DataFrame, profile: DatasetProfile) -> dict:
    """Numeric min/max/quantiles/mean/std and category shares for every feature."""
    numeric = {}
    for name in profile.features.numeric:
        values = pd.to_numeric(train[name]).dropna().to_numpy(dtype=np.float64)
        numeric[name] = {
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "std": float(values.std()),
            "missing_share": float(train[name].isna().mean()),
            "quantiles": {str(q): float(np.quantile(values, q)) for q in QUANTILES},
        }
    categorical = {}
    for name in profile.features.categorical:
        shares = train[name].astype(object).value_counts(normalize=True, dropna=True)
        categorical[name] = {
            "categories": sorted(str(c) for c in shares.index),
            "shares": {str(k): float(v) for k, v in sorted(shares.items())},
            "missing_share": float(train[name].isna().mean()),
        }
    return {
        "rows": len(train),
        "target": profile.target,
        "numeric": numeric,
        "categorical": categorical,
    }
