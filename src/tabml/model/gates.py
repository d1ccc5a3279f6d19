"""Metric gates: absolute floors and ceilings, and the largest regression allowed vs a base.

Pure functions over plain `{metric: value}` dicts, so `make gate` (workspace vs a base
revision) and the package stage (absolute limits only) share one implementation.
"""

import math
from dataclasses import dataclass
from typing import Literal

from tabml.errors import TabmlError
from tabml.params import GatesParams, SliceGatesParams

Direction = Literal["higher", "lower"]

# Metrics where a smaller value is better; every other known quality metric is higher-better.
_LOWER_SUFFIXES = ("loss", "error", "mse", "mae", "rmse", "brier")
_HIGHER_PREFIXES = ("accuracy", "f1", "roc_auc", "auc", "precision", "recall", "r2", "balanced")


def direction(metric: str) -> Direction | None:
    """Whether a larger or a smaller value of `metric` is better; None if unknown (counts)."""
    name = metric.rsplit(".", 1)[-1].lower()
    if name.endswith(_LOWER_SUFFIXES):
        return "lower"
    if name.startswith(_HIGHER_PREFIXES):
        return "higher"
    return None


def improvement(metric: str, old: float, new: float) -> float | None:
    """`new - old` signed so that positive is better; None when the direction is unknown."""
    sense = direction(metric)
    if sense is None:
        return None
    return new - old if sense == "higher" else old - new


@dataclass(frozen=True)
class GateFailure:
    """One broken gate, with everything a reviewer needs to see why."""

    metric: str
    value: float | None
    rule: str  # "min", "max" or "max_regression"
    threshold: float
    base: float | None = None

    def message(self) -> str:
        if self.value is None:
            return f"{self.metric}: missing from the metrics (gate {self.rule} {self.threshold})"
        base = "" if self.base is None else f" (base {self.base:.6g})"
        limit = {"min": "below the minimum", "max": "above the maximum"}.get(self.rule)
        if limit:
            return f"{self.metric} = {self.value:.6g} is {limit} {self.threshold:.6g}{base}"
        if self.base is None:
            return f"{self.metric}: base value unavailable (max regression {self.threshold:.6g})"
        worse = -(improvement(self.metric, self.base, self.value) or 0.0)
        return (
            f"{self.metric} = {self.value:.6g} regressed by {worse:.6g} from base "
            f"{self.base:.6g} (max regression {self.threshold:.6g})"
        )


class GateError(TabmlError, RuntimeError):
    """One or more metric gates failed; the message lists each one."""

    def __init__(self, failures: list[GateFailure]):
        self.failures = failures
        lines = "\n".join(f"  - {f.message()}" for f in failures)
        super().__init__(f"{len(failures)} metric gate(s) failed:\n{lines}")


def check_absolute(
    metrics: dict[str, float], gates: GatesParams, base: dict[str, float] | None = None
) -> list[GateFailure]:
    """Failures of the absolute limits: `min` (value >= t) and `max` (value <= t)."""
    failures = []
    for rule, limits in (("min", gates.min), ("max", gates.max)):
        for metric, threshold in sorted(limits.items()):
            value = _number(metrics.get(metric))
            # NaN compares False with everything: treat it (and non-numbers) as failing
            unusable = value is None or math.isnan(value)
            too_low = rule == "min" and (unusable or value < threshold)
            too_high = rule == "max" and (unusable or value > threshold)
            if too_low or too_high:
                known = (base or {}).get(metric)
                failures.append(GateFailure(metric, value, rule, threshold, known))
    return failures


def check_regression(
    metrics: dict[str, float], base: dict[str, float] | None, gates: GatesParams
) -> list[GateFailure]:
    """Failures of `max_regression`: worsening beyond the limit against the base values.

    A metric the base does not have (newly added) cannot regress and is skipped; a whole base
    that is unavailable (None) fails every regression gate, since nothing was compared.
    """
    failures = []
    for metric, limit in sorted(gates.max_regression.items()):
        if direction(metric) is None:
            raise ValueError(f"gates.max_regression.{metric}: unknown whether higher is better")
        value = _number(metrics.get(metric))
        if value is None or math.isnan(value):
            failures.append(GateFailure(metric, value, "max_regression", limit))
        elif base is None:
            failures.append(GateFailure(metric, value, "max_regression", limit, None))
        elif base.get(metric) is not None:
            worse = -(improvement(metric, base[metric], value) or 0.0)
            # compare rounded: metrics are stored with 6 decimals, float noise is not a regression
            if round(worse, 9) > limit:
                failures.append(GateFailure(metric, value, "max_regression", limit, base[metric]))
    return failures


def _number(value: object) -> float | None:
    """A metric value as float; None when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def enforce_absolute(metrics: dict[str, float], gates: GatesParams) -> None:
    """Raise GateError if any absolute limit fails (for the package stage)."""
    failures = check_absolute(metrics, gates)
    if failures:
        raise GateError(failures)


def check_slices(slices: dict, gates: SliceGatesParams) -> list[GateFailure]:
    """Failures of the per-slice floors `gates.slices.min` over reports/slices.json.

    Slices with fewer than `min_rows` rows are skipped (a few rows say little); a metric
    missing from a slice that is gated fails.
    """
    failures = []
    for feature, by_slice in slices.items():
        for name, scores in by_slice.items():
            if scores.get("rows", 0) < gates.min_rows:
                continue
            for metric, threshold in sorted(gates.min.items()):
                value = _number(scores.get(metric))
                if value is None or math.isnan(value) or value < threshold:
                    label = f"{metric} on slice {feature}={name} ({scores['rows']} rows)"
                    failures.append(GateFailure(label, value, "min", threshold))
    return failures


def slice_checks(slices: dict, gates: SliceGatesParams) -> int:
    """How many slice gates `check_slices` applies (for "all N gates pass")."""
    gated = sum(s.get("rows", 0) >= gates.min_rows for f in slices.values() for s in f.values())
    return gated * len(gates.min)


def enforce_slices(slices: dict, gates: SliceGatesParams) -> None:
    """Raise GateError if any slice is below its floor (for the package stage)."""
    failures = check_slices(slices, gates)
    if failures:
        raise GateError(failures)
