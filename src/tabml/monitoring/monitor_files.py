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
                 "log_loss", "expected_calibration_error",
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
            "alert": int(found["verdict"] == "ALERT"),
            "overall": _summary(found["overall"]),
            "latest_window": _summary(found["windows"][-1]) if found["windows"] else {},
            "test": found["reference"] or {},
        }
    return {"versions": versions, "unmatched_labels": report["join"]["unmatched"],
            "skipped_lines": report["skipped_lines"]}  # fmt: skip


def plot_rows(report: dict) -> dict[str, list[dict]]:
    """Plot data by file name: accuracy over time (measured and estimated), label coverage
    over time, reliability curves; a regression model's errors and interval coverage."""
    accuracy, coverage, reliability, errors, inside = [], [], [], [], []
    for version, found in report["versions"].items():
        for w in found["windows"]:
            for metric in (*_ERRORS, "interval_coverage"):
                if w.get(metric) is not None:
                    (inside if metric == "interval_coverage" else errors).append(
                        {"window": w["start"], "version": version, "metric": metric,
                         "value": round(w[metric], 6)}
                    )  # fmt: skip
            if w.get("accuracy") is not None:
                accuracy.append({"window": w["start"], "version": version, "metric": "measured",
                                 "value": round(w["accuracy"], 6)})  # fmt: skip
            if w.get("estimated_accuracy") is not None:
                accuracy.append({"window": w["start"], "version": version, "metric": "estimated",
                                 "value": round(w["estimated_accuracy"], 6)})  # fmt: skip
            coverage.append({"window": w["start"], "version": version, "metric": "coverage",
                             "value": round(w["coverage"], 6)})  # fmt: skip
        for point in found["overall"].get("reliability", []):
            reliability.append({"version": version, **_rounded(point)})
    return {"accuracy": accuracy, "coverage": coverage, "reliability": reliability,
            "errors": errors, "interval_coverage": inside}  # fmt: skip


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def verdict_lines(report: dict) -> list[str]:
    """One line per version: verdict, what it rests on."""
    return [
        f"{version}  {found['verdict']}  {'; '.join(found['reasons'])}"
        for version, found in report["versions"].items()
    ]


def markdown(report: dict, section: Callable[[str, dict], list[str]]) -> str:
    """report.md: the verdicts, then `section` (the task's) for every version."""
    join = report["join"]
    lines = [
        "# Monitor report",
        "",
        f"Window {report['window']}, since {report['since'] or 'the first prediction'}; "
        f"{report['predictions']:,} predictions ({report['sources']}), "
        f"{join['labels_received']:,} labels received for {join['labelled_ids']:,} ids, "
        f"{join['unmatched']:,} unmatched; {report['skipped_lines']:,} unreadable log lines "
        "skipped.",
        "",
        "```text",
        *verdict_lines(report),
        "```",
    ]
    for version, found in report["versions"].items():
        lines += section(version, found)
    return "\n".join(lines) + "\n"


def _with_interval(window: dict, metric: str) -> str:
    if window.get(metric) is None:
        return "-"
    return f"{window[metric]:.3f} ({window[f'{metric}_low']:.3f}-{window[f'{metric}_high']:.3f})"


def _drift(window: dict) -> str:
    drifted = window["drift"].get("drifted")
    return window["drift"]["status"] + (": " + ", ".join(drifted) if drifted else "")


def classification_section(version: str, found: dict) -> list[str]:
    """A classifier's version: test-set values, limits and one row per window."""
    test = found["reference"] or {}
    limits = ", ".join(f"{m} >= {x['limit']:.3f} ({x['why']})" for m, x in found["limits"].items())
    lines = [
        "",
        f"## {version}: {found['verdict']}",
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
    return lines


def regression_section(version: str, found: dict) -> list[str]:
    """A regression model's version: test-set values, limits and one row per window."""
    test = found["reference"] or {}
    signs = {"max": "<=", "min": ">="}
    limits = ", ".join(
        f"{m} {signs[x['direction']]} {x['limit']:.3f} ({x['why']})"
        for m, x in found["limits"].items()
    )
    lines = [
        "",
        f"## {version}: {found['verdict']}",
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
