"""Drift: do production inputs still look like the training split? Pure functions.

Compares a frame of production inputs, read through the runtime's input path (dates in their
format, categories normalised as the model sees them), with the training statistics
(`TrainingStatistics`, written by tabml.model.training_stats):
PSI per feature (numeric: the profile's decile bins; categorical: its categories, plus an
`(unseen)` and a `(missing)` bin), a KS test for numeric features against the profile's
percentile CDF, the share of values outside the training min/max and of unseen categories.
Non-finite numbers (inf, -inf) are counted and otherwise treated as missing: no model input
can hold them (the API and batch scoring reject them).
"""

import itertools

import numpy as np
import pandas as pd
from scipy.stats import kstwo

from tabml.binning import CDF_POINTS, bin_index
from tabml.errors import TabmlError
from tabml.monitoring.contracts import DriftReport, checked
from tabml.params import DriftParams
from tabml.scoring.inputs import statistics_rules
from tabml.scoring.metadata import CategoryStats, NumericStats, TrainingStatistics

# Empty bins would make PSI infinite; this floor is the usual convention.
_SHARE_FLOOR = 1e-4
MISSING, UNSEEN = "(missing)", "(unseen)"


class DriftInputError(TabmlError, ValueError):
    """Production inputs cannot be compared (missing columns, too few rows, bad values)."""


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    p = np.maximum(np.asarray(expected, dtype=np.float64), _SHARE_FLOOR)
    q = np.maximum(np.asarray(actual, dtype=np.float64), _SHARE_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def ks_statistic(percentiles: list[float], values: np.ndarray) -> float:
    """Largest gap between the training CDF (from its percentiles) and the sample's ECDF."""
    grid = np.asarray(percentiles, dtype=np.float64)
    sample = np.sort(values)
    points = np.concatenate([grid, sample])
    gaps = []
    # Both CDFs are step functions: the supremum sits at a jump, on it or just left of it.
    for side in ("right", "left"):
        train_cdf = np.clip((np.searchsorted(grid, points, side=side) - 1) / (CDF_POINTS - 1), 0, 1)
        sample_cdf = np.searchsorted(sample, points, side=side) / len(sample)
        gaps.append(np.abs(train_cdf - sample_cdf).max())
    return float(max(gaps))


def ks_pvalue(statistic: float, n_train: int, n_sample: int) -> float:
    """Asymptotic two-sample KS p-value (as scipy's ks_2samp), from the two sample sizes."""
    effective = round(n_train * n_sample / (n_train + n_sample))
    return float(kstwo.sf(statistic, max(effective, 1)))


def numeric_drift(
    column: pd.Series | np.ndarray, summary: NumericStats, training_rows: int
) -> dict:
    """PSI, KS and out-of-range share of one numeric production column."""
    try:
        everything = pd.to_numeric(pd.Series(column), errors="raise").to_numpy(np.float64)
    except (TypeError, ValueError) as err:
        raise DriftInputError(
            f"column {getattr(column, 'name', '')!r} is not numeric: {err}"
        ) from err
    values = everything[np.isfinite(everything)]
    missing = float(np.isnan(everything).mean()) if len(everything) else 0.0
    non_finite = float(np.isinf(everything).mean()) if len(everything) else 0.0
    edges, train_shares = summary.bins.edges, np.asarray(summary.bins.shares)
    counts = np.bincount(bin_index(values, edges), minlength=len(edges) + 1)
    shares = counts / max(len(everything), 1)
    expected = [*(train_shares * (1 - summary.missing_share)), summary.missing_share]
    actual = [*shares, missing + non_finite]  # the (missing) bin: no usable number
    outside = (values < summary.min) | (values > summary.max)
    statistic = ks_statistic(summary.percentiles, values) if len(values) else 1.0
    n_train = max(round(training_rows * (1 - summary.missing_share)), 1)
    return {
        "kind": "numeric",
        "psi": psi(expected, actual),
        "ks_statistic": statistic,
        "ks_pvalue": ks_pvalue(statistic, n_train, max(len(values), 1)),
        "outside_range_share": float(outside.mean()) if len(values) else 0.0,
        "missing_share": missing,
        "non_finite_share": non_finite,
        "mean": float(values.mean()) if len(values) else None,
        "bins": _bin_labels(edges),
        "training_shares": [float(s) for s in expected],
        "production_shares": [float(s) for s in actual],
    }


def categorical_drift(texts: np.ndarray, absent: np.ndarray, summary: CategoryStats) -> dict:
    """PSI, category shares and unseen categories of one categorical production column
    (normalised texts, and which rows are missing)."""
    present = pd.Series(texts[~absent], dtype=object)
    missing = float(absent.mean()) if len(absent) else 0.0
    known = summary.categories
    counts = present.value_counts()
    unseen = sorted(c for c in counts.index if c not in known)
    n = max(len(texts), 1)
    actual = [*(counts.get(c, 0) / n for c in known), counts[unseen].sum() / n, missing]
    trained = 1 - summary.missing_share
    expected = [*(summary.shares[c] * trained for c in known), 0.0, summary.missing_share]
    return {
        "kind": "categorical",
        "psi": psi(expected, actual),
        "unseen_share": float(counts[unseen].sum() / n),
        "unseen_categories": unseen,
        "missing_share": missing,
        "bins": [*known, UNSEEN, MISSING],
        "training_shares": [float(s) for s in expected],
        "production_shares": [float(s) for s in actual],
    }


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all", MISSING]
    inner = [f"({lo:g}, {hi:g}]" for lo, hi in itertools.pairwise(edges)]
    return [f"<= {edges[0]:g}", *inner, f"> {edges[-1]:g}", MISSING]


def verdict(result: dict, limits: DriftParams) -> tuple[str, list[str]]:
    """`drift`, `warning` or `ok` for one feature, with the reasons that decided it."""
    drift, warn = [], []
    value = result["psi"]
    if value >= limits.psi_drift:
        drift.append(f"PSI {value:.3f} >= {limits.psi_drift}")
    elif value >= limits.psi_warning:
        warn.append(f"PSI {value:.3f} >= {limits.psi_warning}")
    if result["kind"] == "numeric":
        d, p = result["ks_statistic"], result["ks_pvalue"]
        if p < limits.ks_alpha:
            (drift if d >= limits.ks_min_statistic else warn).append(f"KS D={d:.3f} p={p:.2g}")
        outside = result["outside_range_share"]
        if outside > limits.max_outside_range_share:
            drift.append(f"{outside:.1%} outside the training range")
        if result.get("non_finite_share"):
            warn.append(f"{result['non_finite_share']:.2%} non-finite values (inf)")
    else:
        unseen = result["unseen_share"]
        if result["unseen_categories"]:
            names = ", ".join(result["unseen_categories"][:5])
            (drift if unseen > limits.max_unseen_share else warn).append(
                f"{unseen:.1%} unseen categories ({names})"
            )
    status = "drift" if drift else "warning" if warn else "ok"
    return status, drift + warn


def summary_line(result: dict) -> str:
    """The measurements of one feature in a few words (for the verdict line)."""
    parts = [f"PSI {result['psi']:.3f}"]
    if result["kind"] == "numeric":
        parts.append(f"KS D={result['ks_statistic']:.3f} p={result['ks_pvalue']:.2g}")
        parts.append(f"{result['outside_range_share']:.1%} outside range")
        if result.get("non_finite_share"):
            parts.append(f"{result['non_finite_share']:.2%} non-finite")
    else:
        parts.append(f"{result['unseen_share']:.1%} unseen")
    parts.append(f"{result['missing_share']:.1%} missing")
    return ", ".join(parts)


def drift_report(frame: pd.DataFrame, training: TrainingStatistics, limits: DriftParams) -> dict:
    """Per-feature drift measurements and verdicts of `frame` against the training statistics.

    Dates and categories are read as the model reads them (`statistics_rules`); raw numeric
    columns are compared as they are, so infinite values are counted, not hidden.
    """
    rules = statistics_rules(training)
    absent = [name for name in rules.features if name not in frame.columns]
    if absent:
        raise DriftInputError(f"production inputs lack feature column(s) {absent}")
    if len(frame) < limits.min_rows:
        raise DriftInputError(
            f"only {len(frame)} production rows; drift needs at least {limits.min_rows}"
            " (drift.min_rows in params.yaml)"
        )
    inputs = rules.read(frame)  # values no rule converts count as missing
    results = {}
    for name, summary in training.numeric.items():
        column = frame[name] if name in frame.columns else inputs.numbers[name]
        results[name] = numeric_drift(column, summary, training.rows)
    for name, summary in training.categorical.items():
        texts = np.asarray(inputs.texts[name], dtype=object)
        # the missing-category token ("") is what the model sees for a missing value
        absent = np.asarray(inputs.missing[name]) | (texts == rules.missing_category)
        results[name] = categorical_drift(texts, absent, summary)
    for result in results.values():
        result["verdict"], result["reasons"] = verdict(result, limits)
    drifted = sorted(name for name, r in results.items() if r["verdict"] == "drift")
    report = {
        "rows": len(frame),
        "training_rows": training.rows,
        "drifted": drifted,
        "features": results,
    }
    checked(DriftReport, report, "drift report")  # the contract its readers validate against
    return report
