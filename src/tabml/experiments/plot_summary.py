"""Plot data (reports/plots/*.json) reduced to small tables a pull-request comment can show.

The full plots diff is an HTML file; a PR comment cannot embed it, so the review also lists
what changed in numbers: confusion-matrix cells, per-class curve areas, top features.
"""

from collections import Counter
from typing import Any

import numpy as np

Rows = list[dict[str, Any]]


def confusion_changes(base: Rows | None, new: Rows) -> list[list[Any]]:
    """Confusion cells whose count changed: [actual, predicted, base, new, change]."""
    after = Counter((r["actual"], r["predicted"]) for r in new)
    before = Counter((r["actual"], r["predicted"]) for r in base or [])
    cells = sorted(set(after) | set(before))
    return [
        [actual, predicted, before[(actual, predicted)], after[(actual, predicted)], delta]
        for actual, predicted in cells
        if (delta := after[(actual, predicted)] - before[(actual, predicted)]) != 0
    ]


def curve_areas(rows: Rows | None, x: str, y: str) -> dict[str, float]:
    """Area under each class's curve (trapezoids over the stored grid)."""
    areas = {}
    for label in sorted({r["class"] for r in rows or []}):
        points = sorted((r[x], r[y]) for r in rows if r["class"] == label)
        xs, ys = np.array(points).T
        areas[label] = round(float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2)), 6)
    return areas


def area_changes(base: Rows | None, new: Rows, x: str, y: str) -> list[list[Any]]:
    """[class, base area, new area, change] per class."""
    before, after = curve_areas(base, x, y), curve_areas(new, x, y)
    return [
        [label, before.get(label), area, None if label not in before else area - before[label]]
        for label, area in after.items()
    ]


def top_features(base: Rows | None, new: Rows, n: int = 5) -> list[list[Any]]:
    """The new top-n features: [feature, rank, base rank, importance, base importance]."""
    before = {r["feature"]: (rank, r["importance"]) for rank, r in enumerate(base or [], 1)}
    rows = []
    for rank, r in enumerate(new[:n], 1):
        base_rank, base_importance = before.get(r["feature"], (None, None))
        rows.append([r["feature"], rank, base_rank, r["importance"], base_importance])
    return rows
