"""Metric gates: absolute floors and ceilings, the lift over the majority-class baseline, and
the largest regression allowed vs a base.

Pure functions over plain `{metric: value}` dicts, so `make gate` (workspace vs a base
revision) and the package stage (limits that need no base) share one implementation. The
baseline's values sit in the metrics under `baseline` (`{"baseline": {"accuracy": ..}}` as
the evaluate stage writes it, or `baseline.accuracy` as `dvc metrics diff` flattens it).
"""

import math
from dataclasses import dataclass
from typing import Literal

from tabml.data.profile import DatasetProfile, load_profile
from tabml.errors import TabmlError
from tabml.model.tasks import training_task
from tabml.params import GatesParams, Params, SliceGatesParams, load_params

BASELINE = "baseline"  # section of metrics.json: the majority-class model's metrics

Direction = Literal["higher", "lower"]

# Metrics where a smaller value is better; every other known quality metric is higher-better.
_LOWER_SUFFIXES = ("loss", "error", "mse", "mae", "rmse", "mape", "brier")
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
    rule: str  # "min", "max", "min_lift" or "max_regression"
    threshold: float
    base: float | None = None  # the base revision's value; for min_lift, the baseline's
    where: str = "params.yaml"  # the file(s) where this gate is set

    def message(self) -> str:
        if self.rule == "max_regression" and self.base is None and self.value is not None:
            # nothing to tune: the base's metrics are missing
            return f"{self._what()}; `dvc pull` the base, or let `make gate` reproduce it"
        if self.rule == "every_class_predicted":
            return (
                f"{self._what()}; weight the classes (train.<family>.class_weight: balanced), "
                "add rows of it, or set gates.every_class_predicted: false in params.yaml"
            )
        gate = f"gates.{self.rule}.{self.metric}"
        advice = ""
        if self.rule == "min_lift" and self.metric == "f1_macro":
            advice = " (it barely beats always answering the majority class: weight the classes)"
        return f"{self._what()}{advice}; to change the gate, set {gate} in {self.where}"

    def _what(self) -> str:
        if self.rule == "every_class_predicted":
            return (
                f"the model never predicts {self.metric}, present in the test set "
                f"({self.value:.0f} rows)"
            )
        if self.value is None:
            return f"{self.metric}: missing from the metrics (gate {self.rule} {self.threshold})"
        if self.rule == "min_lift":
            if self.base is None:
                return (
                    f"{self.metric}: no baseline value in the metrics (min lift "
                    f"{self.threshold:.6g}); re-run the evaluate stage (`dvc repro evaluate`)"
                )
            lift = improvement(self.metric, self.base, self.value) or 0.0
            return (
                f"{self.metric} = {self.value:.6g} beats the majority-class baseline "
                f"{self.base:.6g} by {lift:.6g}, less than the minimum lift {self.threshold:.6g}"
            )
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


@dataclass(frozen=True)
class DatasetGates:
    """The gates that apply to one dataset, and where a user changes them."""

    gates: GatesParams
    where: str  # e.g. "configs/penguins.yaml or params.yaml"

    @property
    def count(self) -> int:
        g = self.gates
        counted = len(g.min) + len(g.max) + len(g.min_lift) + len(g.max_regression)
        return counted + g.every_class_predicted


def dataset_gates(params: Params, profile: DatasetProfile) -> DatasetGates:
    """params.yaml's gates for the profile's task, with the profile's absolute ones filled in.

    A number in params.yaml wins per key (`dvc exp run -S gates.min.f1_macro=0.9` must be able
    to change a gate); null there leaves the profile's value, or no gate at all.
    """

    def merged(profile_limits: dict, params_limits: dict) -> dict[str, float]:
        chosen = {**profile_limits, **{k: v for k, v in params_limits.items() if v is not None}}
        return dict(sorted(chosen.items()))

    # The task says which section: a regression profile's metrics (rmse, r2, ...) have theirs.
    task_gates = training_task(profile).gates(params)
    gates = task_gates.model_copy(
        update={
            "min": merged(profile.gates.min, task_gates.min),
            "max": merged(profile.gates.max, task_gates.max),
        }
    )
    return DatasetGates(gates, f"configs/{profile.name}.yaml or params.yaml")


def load_gates() -> DatasetGates:
    """The gates of the dataset that params.yaml's `data.profile` selects."""
    params = load_params()
    return dataset_gates(params, load_profile(params.data.profile))


def check_absolute(
    metrics: dict[str, float],
    gates: GatesParams,
    base: dict[str, float] | None = None,
    where: str = "params.yaml",
) -> list[GateFailure]:
    """Failures of the absolute limits: `min` (value >= t) and `max` (value <= t)."""
    failures = []
    for rule, limits in (("min", gates.min), ("max", gates.max)):
        for metric, threshold in sorted(limits.items()):
            if threshold is None:  # params.yaml's "no value here" (see dataset_gates)
                continue
            value = _number(metrics.get(metric))
            # NaN compares False with everything: treat it (and non-numbers) as failing
            unusable = value is None or math.isnan(value)
            too_low = rule == "min" and (unusable or value < threshold)
            too_high = rule == "max" and (unusable or value > threshold)
            if too_low or too_high:
                known = (base or {}).get(metric)
                failures.append(GateFailure(metric, value, rule, threshold, known, where))
    return failures


def baseline_value(metrics: dict, metric: str) -> float | None:
    """The majority-class baseline's `metric`, from nested or flattened metrics."""
    section = metrics.get(BASELINE)
    nested = section.get(metric) if isinstance(section, dict) else None
    value = _number(nested if nested is not None else metrics.get(f"{BASELINE}.{metric}"))
    return None if value is None or math.isnan(value) else value


def check_lift(metrics: dict, gates: GatesParams) -> list[GateFailure]:
    """Failures of `min_lift`: a metric must beat the majority-class baseline by the limit.

    Lift is measured in the metric's good direction (log_loss: baseline minus model), so a
    model that does no better than predicting the training class shares has lift 0. The
    limits are set in params.yaml only: they fit any dataset.
    """
    where = "params.yaml"
    failures = []
    for metric, limit in sorted(gates.min_lift.items()):
        if direction(metric) is None:
            raise ValueError(f"gates.min_lift.{metric}: unknown whether higher is better")
        value = _number(metrics.get(metric))
        baseline = baseline_value(metrics, metric)
        if value is None or math.isnan(value):
            failures.append(GateFailure(metric, None, "min_lift", limit, baseline, where))
        elif baseline is None:
            failures.append(GateFailure(metric, value, "min_lift", limit, None, where))
        elif round(improvement(metric, baseline, value) or 0.0, 9) < limit:
            failures.append(GateFailure(metric, value, "min_lift", limit, baseline, where))
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


def check_classes(metrics: dict, gates: GatesParams) -> list[GateFailure]:
    """Failures of `every_class_predicted`: a class with test rows the model never predicts
    (the `per_class` section of a classifier's metrics; older metrics have none)."""
    if not gates.every_class_predicted or not isinstance(metrics.get("per_class"), dict):
        return []
    return [
        GateFailure(f"class {label!r}", scores["support"], "every_class_predicted", 1.0)
        for label, scores in sorted(metrics["per_class"].items())
        if scores.get("support", 0) > 0 and scores.get("predicted", 0) == 0
    ]


def check_limits(metrics: dict, dataset: DatasetGates) -> list[GateFailure]:
    """Failures of every gate that needs no base revision: `min`, `max`, `min_lift` and
    `every_class_predicted`."""
    absolute = check_absolute(metrics, dataset.gates, where=dataset.where)
    return absolute + check_lift(metrics, dataset.gates) + check_classes(metrics, dataset.gates)


def enforce_limits(metrics: dict, dataset: DatasetGates) -> None:
    """Raise GateError if `min`, `max` or `min_lift` fails (for the package stage)."""
    failures = check_limits(metrics, dataset)
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
