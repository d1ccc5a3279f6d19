"""Global interpretation on the test set: permutation importance and partial dependence.

Both work on raw features (the model frame's columns, before one-hot encoding), with the
whole fitted pipeline as the model, so every estimator family gets numbers in the same
units and `dvc plots diff` compares them across families and revisions.
"""

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from tabml.model.reported import reported

# Log loss moves with every change of probability; accuracy or F1 stay flat on an easy test
# set (penguins: most features would score exactly 0).
SCORING = "neg_log_loss"
REPEATS = 10
PD_FEATURES = 3  # top numeric features by permutation importance
PD_GRID = 20  # points per curve, between the 5th and 95th test percentile


def permutation_importances(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, seed: int, scoring: str = SCORING
) -> list[dict]:
    """Mean loss in the test score when one raw feature's values are shuffled (seeded).

    Rows `{feature, importance, std}`, most important first; `importance` is in the units of
    `scoring` (log loss for classifiers; a regression passes its error, e.g. RMSE): 0 when
    the model does not use the feature, negative when shuffling happened to help.
    """
    result = permutation_importance(
        pipeline, X, y, scoring=scoring, n_repeats=REPEATS, random_state=seed, n_jobs=1
    )
    rows = [
        {"feature": str(name), "importance": reported(mean), "std": reported(std)}
        for name, mean, std in zip(
            X.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    return sorted(rows, key=lambda r: (-r["importance"], r["feature"]))


def pd_grid(values: pd.Series) -> np.ndarray:
    """`PD_GRID` evenly spaced values between the 5th and 95th percentile (sklearn's grid)."""
    present = pd.to_numeric(values).dropna().to_numpy(dtype=np.float64)
    unique = np.unique(present)
    if len(unique) <= PD_GRID:
        return unique
    low, high = np.quantile(present, [0.05, 0.95])
    return np.linspace(low, high, PD_GRID)


def partial_dependence_points(
    pipeline: Pipeline, X: pd.DataFrame, features: list[str]
) -> list[dict]:
    """Average predicted probability per class with one feature set to each grid value.

    Rows `{feature, value, class, probability}`: sklearn's `partial_dependence` (kind
    average, brute method), computed here in one `predict_proba` per feature because the
    model frame's float32 columns refuse sklearn's float64 grid values under pandas 3.
    """
    points = []
    classes = [str(c) for c in pipeline.classes_]
    for name in features:
        grid = pd_grid(X[name])
        frames = pd.concat([X] * len(grid), ignore_index=True)
        frames[name] = np.repeat(grid, len(X)).astype(X[name].dtype)
        proba = pipeline.predict_proba(frames).reshape(len(grid), len(X), -1).mean(axis=1)
        for c, label in enumerate(classes):
            points += [
                {"feature": name, "value": reported(v), "class": label, "probability": reported(p)}
                for v, p in zip(grid, proba[:, c], strict=True)
            ]
    return points


def top_numeric(importances: list[dict], numeric: list[str], count: int = PD_FEATURES) -> list:
    """The `count` most important numeric features, in importance order."""
    return [r["feature"] for r in importances if r["feature"] in numeric][:count]
