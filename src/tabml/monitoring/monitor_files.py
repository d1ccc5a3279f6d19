"""The monitor report files under reports/monitor/: metrics, windows, DVC plot data, markdown.

- `metrics.json` (`dvc metrics show`): per version, the whole period and its latest window.
- `windows.json`: every window of every version, with drift verdicts and reliability curves.
- `accuracy.json`, `coverage.json`, `reliability.json`; a regression model's `errors.json`
  (rmse, mae) and `interval_coverage.json`: plot data (`dvc plots show`).
- `report.md`: verdicts and a table per version.
"""

from collections.abc import Callable
from pathlib import Path

from tabml import atomic
from tabml.monitoring.contracts import MonitorReport, checked

_SUMMARY_KEYS = ("predictions", "labelled", "coverage", "estimated_accuracy", "accuracy",
                 "accuracy_low", "accuracy_high", "f1_macro", "f1_macro_low", "f1_macro_high",
                 "log_loss", "expected_calibration_error", "roc_auc",
                 # estimated before labels (monitoring/estimates.py), 90% intervals
                 "estimated_accuracy_low", "estimated_accuracy_high", "estimated_f1_macro",
                 "estimated_f1_macro_low", "estimated_f1_macro_high", "estimated_roc_auc",
                 "estimated_roc_auc_low", "estimated_roc_auc_high",
                 # a regression model's (docs/regression.md)
                 "mean_predicted", "rmse", "rmse_low", "rmse_high", "mae", "mae_low", "mae_high",
                 "bias", "interval_coverage", "interval_coverage_low",
                 "interval_coverage_high")  # fmt: skip
_ERRORS = ("rmse", "mae")  # a regression model's errors.json (interval_coverage.json apart)


def _rounded(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _summary(metrics: dict) -> dict:
    return {k: _rounded(metrics[k]) for k in _SUMMARY_KEYS if metrics.get(k) is not None}


def metrics_file(report: dict) -> dict:
    """Numbers only (what `dvc metrics show` tabulates), per version."""
    versions = {}
    for version, found in report["versions"].items():
        versions[version] = {
            # a retired version's ALERT is reported, not raised (it no longer serves)
            "alert": int(found["verdict"] == "ALERT" and not found.get("retired")),
            "retired": int(bool(found.get("retired"))),
            "overall": _summary(found["overall"]),
            "latest_window": _summary(found["windows"][-1]) if found["windows"] else {},
            "test": found["reference"] or {},
        }
    return {"versions": versions, "unmatched_labels": report["join"]["unmatched"],
            "skipped_lines": report["skipped_lines"]}  # fmt: skip


def _with_gaps(rows: list[dict], windows: list[dict], fields: tuple[str, ...]) -> list[dict]:
    """`rows` plus, after each window followed by a gap (no predictions in the next window),
    one row whose `fields` are null at that empty window's start: a line breaks there
    instead of joining windows that have no data between them."""
    ends = {w["start"]: w["end"] for w in windows}
    starts = {w["start"] for w in windows}
    filled = list(rows)
    for row in rows:
        end = ends.get(row["window"])
        if end is not None and end not in starts and row["window"] != windows[-1]["start"]:
            gap = {**row, "window": end, **dict.fromkeys(fields)}
            if "breach" in gap:
                gap["breach"] = False
            filled.append(gap)
    return sorted(filled, key=lambda row: row["window"])  # ISO times in UTC: text order


def _accuracy_rows(version: str, found: dict) -> list[dict]:
    """Measured (95% interval) and estimated (90% interval) accuracy per window, with the
    version's accuracy limit and whether the window broke it."""
    limit = (found["limits"].get("accuracy") or {}).get("limit")
    rows = []
    for w in found["windows"]:
        broke = any(b.startswith("accuracy ") for b in w["breaches"])
        for metric, prefix in (("measured", ""), ("estimated", "estimated_")):
            if w.get(f"{prefix}accuracy") is None:
                continue
            low, high = w.get(f"{prefix}accuracy_low"), w.get(f"{prefix}accuracy_high")
            rows.append({"window": w["start"], "version": version, "metric": metric,
                         "value": round(w[f"{prefix}accuracy"], 6),
                         "low": None if low is None else round(low, 6),
                         "high": None if high is None else round(high, 6),
                         "limit": limit, "breach": broke and metric == "measured"})  # fmt: skip
    return _with_gaps(rows, found["windows"], ("value", "low", "high"))


def plot_rows(report: dict) -> dict[str, list[dict]]:
    """Plot data by file name: accuracy over time (measured and estimated, intervals, limit,
    breaches), label coverage over time, reliability curves; a regression model's errors
    and interval coverage. Windows without predictions get a null row (a break in the line)."""
    accuracy, coverage, reliability, errors, inside = [], [], [], [], []
    for version, found in report["versions"].items():
        windows = found["windows"]
        own_errors, own_inside, own_coverage = [], [], []
        for w in windows:
            for metric in (*_ERRORS, "interval_coverage"):
                if w.get(metric) is not None:
                    (own_inside if metric == "interval_coverage" else own_errors).append(
                        {"window": w["start"], "version": version, "metric": metric,
                         "value": round(w[metric], 6)}
                    )  # fmt: skip
            own_coverage.append({"window": w["start"], "version": version, "metric": "coverage",
                                 "value": round(w["coverage"], 6)})  # fmt: skip
        accuracy += _accuracy_rows(version, found)
        for rows, target in ((own_errors, errors), (own_inside, inside),
                             (own_coverage, coverage)):  # fmt: skip
            target += _with_gaps(rows, windows, ("value",))
        for point in found["overall"].get("reliability", []):
            reliability.append({"version": version, **_rounded(point)})
    return {"accuracy": accuracy, "coverage": coverage, "reliability": reliability,
            "errors": errors, "interval_coverage": inside}  # fmt: skip


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def version_name(version: str, found: dict) -> str:
    """`v1.0.0 (tabml_model:abc)`: the registry version beside the model tag, when known."""
    name = found.get("registry_version")
    return f"{name} ({version})" if name else version


def _retired(report: dict, found: dict) -> str:
    if not found.get("retired"):
        return ""
    by = found["replaced_by"]
    by = version_name(by, report["versions"].get(by, {}))
    return f" (retired: replaced by {by}; reported, not alerted on)"


def verdict_lines(report: dict) -> list[str]:
    """One line per version: verdict, what it rests on."""
    return [
        f"{version_name(version, found)}  {found['verdict']}{_retired(report, found)}  "
        f"{'; '.join(found['reasons'])}"
        for version, found in report["versions"].items()
    ]


def labels_line(report: dict) -> str:
    """`Labels by source: http 312, file:labels.csv 1,000; left out: http (312 labels).`"""
    by_source = ", ".join(f"{k} {v:,}" for k, v in report["labels_by_source"].items())
    line = f"Labels by source: {by_source or 'none'}"
    if report["excluded_sources"]:
        line += (
            f"; left out: {', '.join(report['excluded_sources'])} "
            f"({report['excluded_labels']:,} labels)"
        )
    return line + "."


def markdown(report: dict, section: Callable[[str, dict], list[str]]) -> str:
    """report.md: the verdicts, then `section` (the task's) for every version, under a
    heading naming the version (`version_name`), its verdict and whether it retired."""
    join = report["join"]
    lines = [
        "# Monitor report",
        "",
        f"Window {report['window']}, since {report['since'] or 'the first prediction'}; "
        f"{report['predictions']:,} predictions ({report['sources']}), "
        f"{join['labels_received']:,} labels received for {join['labelled_ids']:,} ids, "
        f"{join['unmatched']:,} unmatched, {join.get('before_since', 0):,} for predictions "
        f"before the window; {report['skipped_lines']:,} unreadable log lines skipped. "
        + labels_line(report),
        "",
        "```text",
        *verdict_lines(report),
        "```",
    ]
    for version, found in report["versions"].items():
        title = f"{version_name(version, found)}: {found['verdict']}{_retired(report, found)}"
        lines += section(title, found)
    return "\n".join(lines) + "\n"


def _estimated(window: dict, metric: str) -> str:
    key = f"estimated_{metric}"
    if window.get(f"{key}_low") is None:
        return "-"
    return f"{window[key]:.3f} ({window[f'{key}_low']:.3f}-{window[f'{key}_high']:.3f})"


def estimates_section(found: dict) -> list[str]:
    """A classifier's estimated metrics per window beside the measured ones, and whether
    the calibration they rely on held on the newest labelled window."""
    trust = found.get("estimates") or {}
    lines = [
        "",
        "Estimated from the calibrated probabilities (90% interval), measured where labels "
        f"arrived. Estimates {trust.get('status', 'unchecked').upper()}: "
        f"{trust.get('reason', 'not computed')}.",
        "",
        "| window start | labelled | accuracy est. | measured | macro F1 est. | measured | "
        "ROC AUC est. | measured | calibration check |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in found["windows"]:
        check = w.get("calibration_check") or {}
        lines.append(
            f"| {w['start']} | {w['labelled']:,} | {_estimated(w, 'accuracy')} | "
            f"{_fmt(w.get('accuracy'))} | {_estimated(w, 'f1_macro')} | "
            f"{_fmt(w.get('f1_macro'))} | {_estimated(w, 'roc_auc')} | {_fmt(w.get('roc_auc'))} "
            f"| {check.get('status', '-')} |"
        )
    return lines


def _with_interval(window: dict, metric: str) -> str:
    if window.get(metric) is None:
        return "-"
    return f"{window[metric]:.3f} ({window[f'{metric}_low']:.3f}-{window[f'{metric}_high']:.3f})"


def _drift(window: dict) -> str:
    drifted = window["drift"].get("drifted")
    return window["drift"]["status"] + (": " + ", ".join(drifted) if drifted else "")


def classification_section(title: str, found: dict) -> list[str]:
    """A classifier's version under `title`: test-set values, limits, one row per window,
    then the estimated metrics beside the measured ones (`estimates_section`)."""
    test = found["reference"] or {}
    limits = ", ".join(f"{m} >= {x['limit']:.3f} ({x['why']})" for m, x in found["limits"].items())
    lines = [
        "",
        f"## {title}",
        "",
        f"Test set: accuracy {_fmt(test.get('accuracy'))}, macro F1 "
        f"{_fmt(test.get('f1_macro'))}, log loss {_fmt(test.get('log_loss'))}. "
        f"Limits: {limits or 'none'}.",
        "",
        "| window start | predictions | coverage | accuracy (95% CI) | estimated | "
        "macro F1 (95% CI) | log loss | ECE | drift |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in found["windows"]:
        accuracy = f"{_fmt(w.get('accuracy'))} ({_fmt(w.get('accuracy_low'))}-" \
            f"{_fmt(w.get('accuracy_high'))})" if "accuracy" in w else "-"  # fmt: skip
        f1 = f"{_fmt(w.get('f1_macro'))} ({_fmt(w.get('f1_macro_low'))}-" \
            f"{_fmt(w.get('f1_macro_high'))})" if "f1_macro" in w else "-"  # fmt: skip
        mark = " **breach**" if w["breaches"] else ""
        lines.append(
            f"| {w['start']}{mark} | {w['predictions']:,} | {_fmt(w['coverage'], '.1%')} | "
            f"{accuracy} | {_fmt(w.get('estimated_accuracy'))} | {f1} | "
            f"{_fmt(w.get('log_loss'))} | {_fmt(w.get('expected_calibration_error'))} | "
            f"{_drift(w)} |"
        )
    return lines + estimates_section(found)


def regression_section(title: str, found: dict) -> list[str]:
    """A regression model's version under `title`: test-set values, limits and one row per
    window."""
    test = found["reference"] or {}
    signs = {"max": "<=", "min": ">="}
    limits = ", ".join(
        f"{m} {signs[x['direction']]} {x['limit']:.3f} ({x['why']})"
        for m, x in found["limits"].items()
    )
    lines = [
        "",
        f"## {title}",
        "",
        f"Test set: rmse {_fmt(test.get('rmse'))}, mae {_fmt(test.get('mae'))}, r2 "
        f"{_fmt(test.get('r2'))}, interval coverage {_fmt(test.get('interval_coverage'))} at "
        f"level {_fmt(test.get('interval_level'), 'g')}. Limits: {limits or 'none'}.",
        "",
        "| window start | predictions | labelled | rmse (95% CI) | mae (95% CI) | bias | "
        "interval coverage (95% CI) | mean predicted | drift |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in found["windows"]:
        mark = " **breach**" if w["breaches"] else ""
        lines.append(
            f"| {w['start']}{mark} | {w['predictions']:,} | {_fmt(w['coverage'], '.1%')} | "
            f"{_with_interval(w, 'rmse')} | {_with_interval(w, 'mae')} | "
            f"{_fmt(w.get('bias'))} | {_with_interval(w, 'interval_coverage')} | "
            f"{_fmt(w.get('mean_predicted'))} | {_drift(w)} |"
        )
    return lines


def write_report(
    report: dict, out_dir: Path, section: Callable[[str, dict], list[str]]
) -> list[str]:
    """Write every report file into `out_dir` (`section`: the task's per version); return the
    verdict lines."""
    out_dir = Path(out_dir)
    windows = _rounded(report)
    checked(MonitorReport, windows, str(out_dir / "windows.json"))  # what readers validate
    atomic.write_json(out_dir / "metrics.json", metrics_file(report))
    atomic.write_json(out_dir / "windows.json", windows)
    for name, rows in plot_rows(report).items():
        atomic.write_json(out_dir / f"{name}.json", rows)
    atomic.write_text(out_dir / "report.md", markdown(report, section))
    return verdict_lines(report)
