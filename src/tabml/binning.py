"""Binning shared by the training statistics (written at train time) and drift (read later).

Both sides must put a value into the same bin, so the rule lives in one place that neither
training nor monitoring code owns.
"""

import numpy as np

# Drift reports need the training distribution itself, not just a summary: 101 percentiles
# give its CDF to within 1% (for KS tests).
CDF_POINTS = 101


def bin_index(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Bin of each value for right-closed bins (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
