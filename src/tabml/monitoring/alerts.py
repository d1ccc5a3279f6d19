"""Alert rules of `make monitor`: per-window limit checks and the N-of-M rule per version.

A window is judged when it holds at least `min_labelled` labelled predictions. It breaks a
limit when the *upper* end of a metric's 95% interval lies below the limit, i.e. when the
live metric is below it beyond sampling noise. A metric's limit is the higher of its floor
(`monitor.min`, by default the gates' `min`) and the model's own test-set value minus
`monitor.max_drop`. A version alerts when at least N (`alert_windows`) of its last M
(`of_windows`) judged windows break a limit.

A regression model's limits point the other way for its errors: rmse and mae break a
ceiling when the *lower* end of their interval is above it (`regression_limits`), and the
interval coverage a floor below its nominal level.

The gates' floors are the dataset's (its profile's `gates`, overridden per key by
params.yaml's `gates.min`): `make monitor` passes them in (`tabml.model.gates`, which this
folder may not import).
"""

from tabml.params import MonitorParams

LIVE_METRICS = ("accuracy", "f1_macro")  # the metrics with an interval in every window
REGRESSION_METRICS = ("rmse", "mae")  # lower is better: limits are ceilings
ALERT, OK, NO_VERDICT = "ALERT", "OK", "NO VERDICT"
ALERT_EXIT_CODE = 3


def metric_limits(
    reference: dict | None, limits: MonitorParams, gate_floors: dict[str, float | None]
) -> dict[str, dict]:
    """Per live metric: the limit and why (`floor` or `test - drop`)."""
    floors = gate_floors if limits.min is None else limits.min
    found = {}
    for metric in LIVE_METRICS:
        candidates = []
        if floors.get(metric) is not None:  # null: no floor for that metric
            candidates.append((floors[metric], f"floor {floors[metric]:g}"))
        if reference and metric in reference and metric in limits.max_drop:
            drop = limits.max_drop[metric]
            value = reference[metric] - drop
            candidates.append((value, f"test {reference[metric]:.3f} - {drop:g}"))
        if candidates:
            limit, why = max(candidates)
            found[metric] = {"limit": round(limit, 6), "why": why}
    return found


def regression_limits(
    reference: dict | None,
    limits: MonitorParams,
    gate_ceilings: dict[str, float | None],
    level: float | None,
) -> dict[str, dict]:
    """A regression model's limits: rmse and mae ceilings, the interval coverage floor.

    A ceiling is the lower of `monitor.regression.max` (default: the dataset's gate ceilings)
    and the test-set value x (1 + `max_rise`); the coverage floor is the interval's nominal
    `level` minus `coverage_drop`. Each limit says its direction (`max`: above it breaks).
    """
    settings = limits.regression
    ceilings = gate_ceilings if settings.max is None else settings.max
    found = {}
    for metric in REGRESSION_METRICS:
        candidates = []
        if ceilings.get(metric) is not None:
            candidates.append((ceilings[metric], f"ceiling {ceilings[metric]:g}"))
        if reference and metric in reference and metric in settings.max_rise:
            rise = settings.max_rise[metric]
            value = reference[metric] * (1 + rise)
            candidates.append((value, f"test {reference[metric]:.3f} + {rise:.0%}"))
        if candidates:
            limit, why = min(candidates)
            found[metric] = {"limit": round(limit, 6), "why": why, "direction": "max"}
    if level is not None:
        floor = level - settings.coverage_drop
        why = f"nominal {level:g} - {settings.coverage_drop:g}"
        found["interval_coverage"] = {"limit": round(floor, 6), "why": why, "direction": "min"}
    return found


def breaches(window: dict, limits: dict[str, dict]) -> list[str]:
    """What a judged window breaks, in words; empty when it keeps every limit.

    A floor (the default direction, `min`) breaks when the metric's whole 95% interval is
    below it; a ceiling (`max`) when the whole interval is above it.
    """
    broken = []
    for metric, limit in limits.items():
        low, high = window[f"{metric}_low"], window[f"{metric}_high"]
        interval = f"{metric} {window[metric]:.3f} (95% CI {low:.3f}-{high:.3f})"
        if limit.get("direction", "min") == "max":
            if low > limit["limit"]:
                broken.append(f"{interval} > {limit['limit']:.3f} ({limit['why']})")
        elif high < limit["limit"]:
            broken.append(f"{interval} < {limit['limit']:.3f} ({limit['why']})")
    return broken


def version_verdict(windows: list[dict], limits: MonitorParams) -> tuple[str, list[str]]:
    """ALERT, OK or NO VERDICT for one version's windows (in time order), with the reasons."""
    judged = [w for w in windows if w["judged"]]
    if not judged:
        return NO_VERDICT, [f"no window has {limits.min_labelled} labelled predictions yet"]
    last = judged[-limits.of_windows :]
    bad = [w for w in last if w["breaches"]]
    if len(bad) >= limits.alert_windows:
        reasons = [f"window {w['start']}: {'; '.join(w['breaches'])}" for w in bad]
        return ALERT, [f"{len(bad)} of the last {len(last)} judged windows", *reasons]
    return OK, [f"{len(bad)} of the last {len(last)} judged windows break a limit"]
