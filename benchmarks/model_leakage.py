"""A cheap leakage detector, measured: its hits on leaky copies of the tables and its false
alarms on the clean ones.

On the raw CSV (what bootstrap sees), for every column but the target:
- near-unique identifier: text whose distinct values are at least ID_SHARE_TEXT of the present
  values, or whole numbers at least ID_SHARE_NUMBER (never decimals: measurements; never ISO
  dates). Numbers need more: on small tables career totals and counts are 95%+ distinct;
- alone reproduces the target: a decision tree on that one column (leaves of >= 5 rows,
  categories as codes) scores, by 3-fold CV, balanced accuracy >= CLASS_LIMIT (classes) or
  r2 >= VALUE_LIMIT (numbers: any monotone or piecewise function, e.g. log);
- an exact arithmetic pair (numeric target): a + b, a - b, a * b, a / b of two numeric
  columns fits the target linearly (y = alpha * op + beta) with r2 >= PAIR_LIMIT.
"""

import itertools
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from tabml.scoring.date_formats import ISO_DATE_PATTERN

ID_SHARE_TEXT = 0.95
ID_SHARE_NUMBER = 0.99
CLASS_LIMIT = 0.99
VALUE_LIMIT = 0.99
PAIR_LIMIT = 0.9999
OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def _is_date(column: pd.Series) -> bool:
    present = column.dropna().astype(str)
    return len(present) > 0 and bool(present.str.fullmatch(ISO_DATE_PATTERN).all())


def _numeric(column: pd.Series) -> pd.Series | None:
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    return None


def identifier_share(column: pd.Series) -> tuple[float, float] | None:
    """(distinct share of present values, the limit for this kind of column) for text and
    whole numbers; None for decimals and dates."""
    present = column.dropna()
    if len(present) == 0 or _is_date(column):
        return None
    if _numeric(column) is None:
        return present.nunique() / len(present), ID_SHARE_TEXT
    if not np.allclose(present, np.round(present.astype(float))):
        return None  # decimals are measurements
    return present.nunique() / len(present), ID_SHARE_NUMBER


def single_column_score(column: pd.Series, y: pd.Series, task: str) -> float:
    """CV score of a tree that sees only this column (NaN as its own value)."""
    numbers = _numeric(column)
    if numbers is None:
        codes = column.astype("category").cat.codes.astype(float)
        x = codes.to_frame()
    else:
        x = numbers.fillna(numbers.min() - 1).to_frame()
    if task == "regression":
        tree = DecisionTreeRegressor(min_samples_leaf=5, random_state=0)
        folds = KFold(3, shuffle=True, random_state=0)
        return float(np.mean(cross_val_score(tree, x, y, cv=folds, scoring="r2")))
    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(tree, x, y, cv=folds, scoring="balanced_accuracy")))


def pair_fits(frame: pd.DataFrame, y: pd.Series) -> list[tuple[str, float]]:
    """(a op b, r2 of y ~ alpha * (a op b) + beta) above PAIR_LIMIT, over numeric pairs."""
    numeric = {
        c: frame[c].astype(float).to_numpy() for c in frame if _numeric(frame[c]) is not None
    }
    target = y.to_numpy(dtype=float)
    hits = []
    for (a, va), (b, vb) in itertools.permutations(numeric.items(), 2):
        for symbol, op in OPS.items():
            if symbol in "+*" and a > b:
                continue  # commutative: each pair once
            with np.errstate(all="ignore"):
                value = op(va, vb)
            ok = np.isfinite(value) & np.isfinite(target)
            if ok.sum() < 10 or np.std(value[ok]) == 0:
                continue
            r = np.corrcoef(value[ok], target[ok])[0, 1]
            if r * r >= PAIR_LIMIT:
                hits.append((f"{a} {symbol} {b}", float(r * r)))
    return hits


def detect(frame: pd.DataFrame, target: str, task: str) -> dict:
    """Flags (column -> reason) and the seconds the checks took."""
    started = time.perf_counter()
    labelled = frame[frame[target].notna()]
    y = labelled[target] if task == "regression" else labelled[target].astype(str)
    flags, scores, shares = {}, {}, {}
    for name in labelled.columns.drop(target):
        identifier = identifier_share(labelled[name])
        if identifier is not None:
            shares[name] = identifier[0]
            if identifier[0] >= identifier[1]:
                flags[name] = f"near-unique identifier ({identifier[0]:.1%} distinct)"
                continue
        if _is_date(labelled[name]):
            continue
        scores[name] = single_column_score(labelled[name], y, task)
        limit = VALUE_LIMIT if task == "regression" else CLASS_LIMIT
        if scores[name] >= limit:
            what = "r2" if task == "regression" else "balanced accuracy"
            flags[name] = f"alone predicts the target ({what} {scores[name]:.4f})"
    if task == "regression":
        features = labelled.drop(columns=[target, *flags])
        for combination, r2 in pair_fits(features, y):
            flags[combination] = f"exact arithmetic combination (r2 {r2:.6f})"
    unflagged = {k: v for k, v in scores.items() if k not in flags}
    unflagged_shares = {k: v for k, v in shares.items() if k not in flags}
    return {
        "flags": flags,
        "seconds": time.perf_counter() - started,
        "columns": len(labelled.columns) - 1,
        # the margins: the highest score / distinct share among columns not flagged
        "best_single": max(unflagged.items(), key=lambda kv: kv[1], default=(None, None)),
        "most_distinct": max(unflagged_shares.items(), key=lambda kv: kv[1], default=(None, None)),
    }
