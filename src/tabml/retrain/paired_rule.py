"""`make retrain PAIRED=1`: the challenger must also beat the champion on the comparison rows
by a paired interval: both models scored on the same rows, a seeded paired bootstrap of the
difference (`tabml.monitoring.paired_stats`), its gain interval above zero."""

import numpy as np
import pandas as pd

from tabml.monitoring.paired_stats import ClassPairs, class_metrics, gain_interval, paired_bootstrap
from tabml.scoring.model import PackagedModel


def _labels_and_p_true(model: PackagedModel, rows: pd.DataFrame, truth: np.ndarray):
    _, probabilities = model.predict(model.inputs(rows).checked())  # a classifier's outputs
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return probabilities.argmax(axis=1), probabilities[np.arange(len(truth)), truth]


def paired_rule(
    champion: PackagedModel, challenger: PackagedModel, rows: pd.DataFrame, target: str,
    metric: str, seed: int,
) -> tuple[bool, str]:  # fmt: skip
    """(passed, the reason line) of the paired rule on `rows` (labels in `target`)."""
    classes = list(champion.task.classes)
    if list(challenger.task.classes) != classes:
        return False, f"paired: the models' classes differ ({classes} vs {challenger.task.classes})"
    truth = rows[target].map({name: i for i, name in enumerate(classes)}).to_numpy(np.int64)
    served, served_p = _labels_and_p_true(champion, rows, truth)
    other, other_p = _labels_and_p_true(challenger, rows, truth)
    pairs = ClassPairs(truth, served, other, served_p, other_p, len(classes))
    found = paired_bootstrap(lambda picked: class_metrics(pairs, picked), len(truth), seed=seed)
    if metric not in found:
        return False, f"paired: no metric {metric!r} (have: {', '.join(found)})"
    low, high = gain_interval(found[metric])
    line = (
        f"paired {metric} gain on the same {len(truth)} rows: [{low:+.4f}, {high:+.4f}] "
        f"(needs > 0, make retrain PAIRED=)"
    )
    return low > 0, line
