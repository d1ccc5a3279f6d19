"""The performance section: per metric a chart over time (measured, estimated, limit,
breaches), label coverage, a table per version, and the calibration the estimates rely on.

A regression model's windows have no estimates (docs/monitoring.md): its charts show
rmse / mae and interval coverage as measured.
"""

from dataclasses import dataclass

from tabml.dashboard import charts, timeline
from tabml.dashboard.collect import Life, Version
from tabml.dashboard.svg import TimeScale, esc, readable_times, utc, utc_text


@dataclass(frozen=True)
class TaskView:
    """What the section shows of a task's monitor report (`MonitorReport.task`)."""

    charts: tuple[tuple[str, str], ...]  # (window metric, chart title), one chart each
    window_tables: bool  # per-version window tables and calibration (a classifier's)


# One entry per task of tabml.monitoring.tasks, looked up by the report's task.
TASK_VIEWS = {
    "classification": TaskView(
        (
            ("accuracy", "Accuracy"),
            ("f1_macro", "Macro F1"),
            ("roc_auc", "ROC AUC (one-vs-rest)"),
        ),
        window_tables=True,
    ),
    "regression": TaskView(
        (("interval_coverage", "Prediction interval coverage"),), window_tables=False
    ),
}
KEY = (
    "Solid line and dark band: measured on labels (95% interval). Dashed line, hollow dots "
    "and light band: estimated from the calibrated probabilities before labels arrive (90% "
    "interval). Dotted line: the alert limit. Red ring: a window that broke the limit. A "
    "window without predictions leaves a gap."
)


def _triple(window: dict, key: str) -> tuple[float, float, float] | None:
    """(value, low, high); a value measured without an interval (ROC AUC) as its own ends."""
    if window.get(key) is None:
        return None
    value = window[key]
    return (value, window.get(f"{key}_low", value), window.get(f"{key}_high", value))


def series(version: Version, metric: str) -> charts.Series | None:
    """The version's windows for `metric`, an empty window (None) inserted at each gap."""
    windows = (version.report or {}).get("windows") or []
    if not windows:
        return None
    starts, ends, measured, estimated, breaches = [], [], [], [], []
    for w in windows:
        if ends and ends[-1] != w["start"]:  # no predictions in between: break the lines
            starts.append(ends[-1]), ends.append(w["start"])
            measured.append(None), estimated.append(None), breaches.append(False)
        starts.append(w["start"]), ends.append(w["end"])
        measured.append(_triple(w, metric))
        estimated.append(_triple(w, f"estimated_{metric}"))
        breaches.append(any(b.startswith(f"{metric} ") for b in w["breaches"]))
    limit = ((version.report.get("limits") or {}).get(metric) or {}).get("limit")
    if not any(measured) and not any(estimated):
        return None
    return charts.Series(
        version.name, version.color, starts, ends, measured, estimated, breaches, limit
    )


def _cell(window: dict, key: str) -> str:
    if window.get(key) is None:
        return "-"
    if window.get(f"{key}_low") is None:
        return f"{window[key]:.3f}"
    return (
        f"{window[key]:.3f} <small>({window[f'{key}_low']:.3f}-{window[f'{key}_high']:.3f})</small>"
    )


def _broken(window: dict) -> str:
    """The metrics a window broke (the full text is the cell's tooltip)."""
    return ", ".join(b.split(" ", 1)[0] for b in window["breaches"]) or "-"


def windows_table(version: Version) -> str:
    rows = []
    for w in reversed(version.report["windows"]):
        check = (w.get("calibration_check") or {}).get("status", "-")
        drift = w["drift"]["status"] + (
            ": " + ", ".join(w["drift"]["drifted"]) if w["drift"].get("drifted") else ""
        )
        mark = ' class="breach-row"' if w["breaches"] else ""
        cells = [utc_text(w["start"]), f"{w['predictions']:,}", f"{w['coverage']:.0%}"]
        rows.append(
            f"<tr{mark}>"
            + "".join(f"<td>{esc(c)}</td>" for c in cells)
            + "".join(
                f"<td>{_cell(w, k)}</td>"
                for k in (
                    "accuracy",
                    "estimated_accuracy",
                    "f1_macro",
                    "estimated_f1_macro",
                    "roc_auc",
                    "estimated_roc_auc",
                )
            )
            + f"<td>{esc(check)}</td><td>{esc(drift)}</td>"
            + f'<td title="{esc("; ".join(w["breaches"]))}">{esc(_broken(w))}</td></tr>'
        )
    head = [
        "window start (UTC)",
        "predictions",
        "labelled",
        "accuracy (95%)",
        "est. (90%)",
        "macro F1 (95%)",
        "est. (90%)",
        "ROC AUC",
        "est. (90%)",
        "calibration check",
        "drift",
        "breaches",
    ]
    return (
        '<div class="scroll"><table class="windows"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def version_block(version: Version) -> str:
    report = version.report
    test = report.get("reference") or {}
    limits = ", ".join(
        f"{m} &ge; {x['limit']:.3f} ({esc(x['why'])})"
        for m, x in (report.get("limits") or {}).items()
    )
    trust = report.get("estimates") or {}
    tested = ", ".join(f"{k} {v:.3f}" for k, v in sorted(test.items()) if isinstance(v, float))
    return (
        f'<details class="version" open><summary><span class="swatch" style="background:'
        f'{version.color}"></span><strong>{esc(version.name)}</strong> <code>'
        f'{esc(version.tag)}</code>: <span class="verdict-{esc(report["verdict"][:2])}">'
        f"{esc(report['verdict'])}</span></summary>"
        f"<p>{esc(readable_times('; '.join(report['reasons'])))}</p>"
        f"<p>Test set: {esc(tested) or '-'}. Limits: {limits or 'none'}.</p>"
        f"<p>Estimates: <strong>{esc(trust.get('status', 'not computed'))}</strong>"
        f"{' - ' + esc(readable_times(trust['reason'])) if trust.get('reason') else ''}.</p>"
        + windows_table(version)
        + "</details>"
    )


def calibration_block(life: Life) -> str:
    """A reliability curve per version (its labelled predictions) with its ECE."""
    cards = []
    for version in life.versions.values():
        overall = (version.report or {}).get("overall") or {}
        if not overall.get("reliability"):
            continue
        ece = overall.get("expected_calibration_error")
        trust = (version.report.get("estimates") or {}).get("status", "unchecked")
        chart = charts.reliability_chart(version.name, version.color, overall["reliability"])
        cards.append(
            f'<figure class="card">{chart}'
            f"<figcaption>{esc(version.name)}: ECE {ece:.3f} on "
            f"{overall['labelled']:,} labelled predictions; estimates "
            f"<strong>{esc(trust)}</strong></figcaption></figure>"
        )
    if not cards:
        return "<p>No labelled predictions yet: no calibration to show.</p>"
    return (
        "<p>A calibrated model's dots lie on the diagonal: its confidence is how often it "
        "is right. The estimates above assume this; where labels arrived, each window's "
        "calibration check compares the estimate with what the labels measured.</p>"
        '<div class="cards">' + "".join(cards) + "</div>"
    )


def performance_section(life: Life, scale: TimeScale | None) -> str:
    monitored = [v for v in life.versions.values() if v.report]
    if scale is None or not monitored:
        return (
            '<section id="performance"><h2>Performance</h2><p>No monitor report yet: '
            "<code>make monitor</code> writes <code>reports/monitor/</code>.</p></section>"
        )
    view = TASK_VIEWS[(life.reports.monitor or {}).get("task", "classification")]
    parts = [timeline.legend(life), f'<p class="key">{KEY}</p>']
    for metric, title in view.charts:
        drawn = [s for v in monitored if (s := series(v, metric)) is not None]
        if drawn:
            parts.append(
                f'<figure class="chart" id="chart-{metric}">'
                f"{charts.metric_chart(title, drawn, scale, metric)}</figure>"
            )
    coverage = [
        (
            v.name,
            v.color,
            [w["start"] for w in v.report["windows"]],
            [w["end"] for w in v.report["windows"]],
            [w["coverage"] for w in v.report["windows"]],
        )
        for v in monitored
    ]
    parts.append(f'<figure class="chart">{charts.coverage_chart(coverage, scale)}</figure>')
    monitor = life.reports.monitor
    parts.append(
        f"<p>Window {esc(monitor['window'])} (UTC), since "
        f"{esc(utc_text(monitor['since']) if monitor.get('since') else 'the first prediction')}; "
        f"{monitor['predictions']:,} predictions ({esc(monitor['sources'])}).</p>"
    )
    if view.window_tables:
        parts += [
            "<h3>Per version and window</h3>",
            *(version_block(v) for v in sorted(monitored, key=_last_start, reverse=True)),
            "<h3>Calibration</h3>",
            calibration_block(life),
        ]
    return '<section id="performance"><h2>Performance</h2>' + "".join(parts) + "</section>"


def _last_start(version: Version) -> str:
    windows = version.report["windows"]
    return utc(windows[-1]["start"]).isoformat() if windows else ""
