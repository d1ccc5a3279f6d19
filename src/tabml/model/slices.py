"""Slice metrics: accuracy and f1_macro per category and per numeric quartile (test set).

A model can be good on average and poor for one island, one sex or the heaviest quarter of
the penguins; `reports/slices.json` shows each slice with its row count, and `gates.slices`
(tabml.model.gates.check_slices) sets a floor per slice.
"""

from itertools import pairwise

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from tabml.data.profile import Features
from tabml.model.reported import reported

QUARTILES = (0.25, 0.5, 0.75)
METRICS = ("accuracy", "f1_macro")


def _scores(y_true: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "rows": len(y_true),
        "accuracy": reported(accuracy_score(y_true, predicted)),
        # macro over the classes present in the slice (or predicted there): a class absent
        # from a slice would otherwise count as a zero F1
        "f1_macro": reported(f1_score(y_true, predicted, average="macro", zero_division=0)),
    }


def quartile_slices(values: pd.Series) -> list[tuple[str, np.ndarray]]:
    """(name, row mask) per quartile bin of `values` (ties merged); missing values apart."""
    numbers = pd.to_numeric(values).to_numpy(dtype=np.float64)
    present = ~np.isnan(numbers)
    edges = sorted({float(e) for e in np.quantile(numbers[present], QUARTILES)})
    bounds = [-np.inf, *edges, np.inf]
    found = []
    for low, high in pairwise(bounds):
        mask = present & (numbers > low) & (numbers <= high)
        left = "(-inf" if low == -np.inf else f"({low:g}"
        right = "inf)" if high == np.inf else f"{high:g}]"
        found.append((f"{left}, {right}", mask))
    if (~present).any():
        found.append(("missing", ~present))
    return found


def slice_metrics(
    X: pd.DataFrame, y_true: np.ndarray, predicted: np.ndarray, features: Features
) -> dict:
    """`{feature: {slice: {rows, accuracy, f1_macro}}}` over every feature of the model frame.

    Categorical slices are the feature's values (missing is the empty string); numeric slices
    are quartile bins of the test values, named as intervals like `(195, 210]`.
    """
    y_true, predicted = np.asarray(y_true), np.asarray(predicted)
    out: dict[str, dict] = {}
    for name in features.categorical:
        column = X[name].astype(str).to_numpy()
        out[name] = {
            (value or "missing"): _scores(y_true[column == value], predicted[column == value])
            for value in sorted(set(column))
        }
    for name in features.numeric:
        out[name] = {
            label: _scores(y_true[mask], predicted[mask])
            for label, mask in quartile_slices(X[name])
            if mask.any()
        }
    return out


def flat_slices(slices: dict) -> list[tuple[str, str, dict]]:
    """(feature, slice, scores) in file order: for gates and the model card."""
    return [(f, s, scores) for f, by_slice in slices.items() for s, scores in by_slice.items()]
