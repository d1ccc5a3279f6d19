"""Leakage suspects in a raw table, before training: what bootstrap flags and drops.

Three rules, every column but the target (measured on seven clean benchmark tables with six
planted leaks: no false flag, every leak caught; docs/benchmarks.md, "Models"):

- **near-unique identifier**: text whose distinct values are >= 95% of its present values,
  or whole numbers >= 99% (decimals are measurements and dates are dates: never flagged; a
  career total on 263 rows was 97.7% distinct, hence the higher bar for numbers);
- **alone reproduces the target**: a decision tree on that column only (`min_samples_leaf=5`,
  categories as codes, missing as a value of its own), 3-fold CV: balanced accuracy >= 0.99
  (classes) or r2 >= 0.99 (numbers: any monotone transform, e.g. a log), or for a numeric
  target a straight line through it with r2 >= 0.9999 (a scaled copy);
- **exact arithmetic pair** (numeric target): `a + b`, `a - b`, `a * b` or `a / b` of two
  numeric columns fits the target linearly with r2 >= 0.9999.
"""

import itertools

import numpy as np
import pandas as pd

TEXT_UNIQUE, NUMBER_UNIQUE = 0.95, 0.99
SINGLE_SCORE, PAIR_R2 = 0.99, 0.9999
MIN_ROWS = 30  # fewer rows say nothing about either rule


def leak_suspects(
    frame: pd.DataFrame, target: str, numeric_target: bool, dates: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Column -> why it is suspected (identifier, reproduces the target, or a pair's part)."""
    labelled = frame[frame[target].notna()]
    if len(labelled) < MIN_ROWS:
        return {}
    y = labelled[target]
    found: dict[str, str] = {}
    for name in labelled.columns:
        if name == target or name in dates:
            continue
        why = _identifier(labelled[name]) or _alone(labelled[name], y, numeric_target)
        if why:
            found[name] = why
    if numeric_target:
        for (a, b), op in _pairs(labelled.drop(columns=[target, *found]), y):
            for column in (a, b):
                found.setdefault(column, f"`{a} {op} {b}` reproduces the target (r2 >= {PAIR_R2})")
    return found


def _identifier(values: pd.Series) -> str | None:
    present = values.dropna()
    if len(present) == 0:
        return None
    share = present.nunique() / len(present)
    numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
    if numeric:
        whole = bool(np.all(np.mod(present.to_numpy(dtype=float), 1.0) == 0))
        if whole and share >= NUMBER_UNIQUE:
            return f"near-unique identifier: {share:.1%} of its whole numbers are distinct"
        return None
    if share >= TEXT_UNIQUE:
        return f"near-unique identifier: {share:.1%} of its values are distinct"
    return None


def _codes(values: pd.Series) -> np.ndarray:
    """One number per row: numbers as they are, text as codes; missing below everything."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype=float)
    else:
        x = pd.factorize(values.astype(object), use_na_sentinel=True)[0].astype(float)
        x[x < 0] = np.nan
    low = np.nanmin(x) if np.isfinite(x).any() else 0.0
    return np.where(np.isnan(x), low - 1.0, x).reshape(-1, 1)


def _alone(values: pd.Series, y: pd.Series, numeric_target: bool) -> str | None:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    X = _codes(values)
    if numeric_target and _r2(X[:, 0], pd.to_numeric(y).to_numpy(dtype=float)) >= PAIR_R2:
        return f"alone reproduces the target (a linear function of it, r2 >= {PAIR_R2})"
    if numeric_target:
        model, metric = DecisionTreeRegressor(min_samples_leaf=5, random_state=0), "r2"
        folds = KFold(3, shuffle=True, random_state=0)
        target = pd.to_numeric(y).to_numpy(dtype=float)
    else:
        model = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
        metric, target = "balanced_accuracy", y.astype(str).to_numpy()
        if pd.Series(target).value_counts().min() < 3:
            return None
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
    score = float(cross_val_score(model, X, target, cv=folds, scoring=metric).mean())
    if score >= SINGLE_SCORE:
        return f"alone reproduces the target ({metric} {score:.4f} by 3-fold CV of a tree on it)"
    return None


def _pairs(frame: pd.DataFrame, y: pd.Series):
    """(columns, operator) of numeric pairs whose arithmetic fits the target linearly."""
    target = pd.to_numeric(y).to_numpy(dtype=float)
    numbers = [
        c for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]  # fmt: skip
    with np.errstate(all="ignore"):
        for a, b in itertools.combinations(numbers, 2):
            x, z = frame[a].to_numpy(dtype=float), frame[b].to_numpy(dtype=float)
            for op, combined in (("+", x + z), ("-", x - z), ("*", x * z), ("/", x / z)):
                if _r2(combined, target) >= PAIR_R2:
                    yield (a, b), op
                    break


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    """r2 of the least-squares line y ~ x on the rows where both are finite."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < MIN_ROWS or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return 0.0
    return float(np.corrcoef(x[ok], y[ok])[0, 1] ** 2)
