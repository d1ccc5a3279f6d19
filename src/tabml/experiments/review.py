"""The markdown review of a change: params diff, metrics diff, gates and the plots diff.

Data comes from `dvc params diff --json`, `dvc metrics diff --json` (via base_revision) and
the plot files; the markdown is built by pure functions so tests can check every number.
"""

import json
from pathlib import Path
from typing import Any

from tabml import paths
from tabml.experiments.base_revision import MetricsDiff
from tabml.experiments.plot_summary import area_changes, confusion_changes, top_features
from tabml.experiments.runs import markdown_table
from tabml.model.gates import BASELINE, GateFailure, baseline_value, direction, improvement

MARKER = "<!-- tabml-review -->"  # lets CI find and update its own PR comment
REVIEW_DIR = Path("reports/review")
REPORT = REVIEW_DIR / "report.md"
PLOTS_HTML_DIR = REVIEW_DIR / "plots"


def param_rows(params_diff: dict) -> list[list[Any]]:
    """`dvc params diff --json` as [param, base, workspace] rows, sorted by name."""
    several = len(params_diff) > 1
    rows = []
    for path, changes in params_diff.items():
        for name, change in changes.items():
            label = f"{path}:{name}" if several else name
            rows.append([f"`{label}`", change.get("old"), change.get("new")])
    return sorted(rows, key=lambda r: r[0])


def metric_rows(diff: MetricsDiff, comparable: bool = True) -> list[list[Any]]:
    """[metric, base, workspace, change, change %, verdict] for every workspace metric.

    Not `comparable` (the base measured another dataset): no verdict says better or worse.
    """
    rows = []
    for metric in sorted(diff.new):
        new = diff.new[metric]
        old = None if diff.old is None else diff.old.get(metric)
        if old is None:
            rows.append([metric, None, new, None, None, "no base value"])
            continue
        change = round(new - old, 6)
        relative = f"{100 * change / abs(old):+.2f}%" if old else "n/a"
        verdict = _verdict(metric, old, new) if comparable else "other dataset"
        rows.append([metric, old, new, f"{change:+.6g}", relative, verdict])
    return rows


def _verdict(metric: str, old: float, new: float) -> str:
    better = improvement(metric, old, new)
    if round(new - old, 6) == 0:
        return "unchanged"
    if metric.startswith(f"{BASELINE}."):
        return "baseline changed"  # the test rows changed, not the model
    if better is None:
        return "-"
    return "better" if better > 0 else "worse"


def lift_rows(metrics: dict, min_lift: dict[str, float]) -> list[list[Any]]:
    """[metric, baseline, workspace, lift, min lift] for every metric with a baseline value."""
    rows = []
    for metric in sorted(metrics):
        baseline = baseline_value(metrics, metric)
        if baseline is None or metric.startswith(f"{BASELINE}."):
            continue
        lift = improvement(metric, baseline, metrics[metric])
        shown = None if lift is None else f"{lift:+.6g}"
        rows.append([metric, baseline, metrics[metric], shown, min_lift.get(metric)])
    return rows


def tuned_rows(tuned: dict, hand_set: dict) -> list[list[Any]]:
    """[param, hand-set (params.yaml train), tuned] from models/tuned_params.yaml; [] if untuned.

    `hand_set` is the train section (`Params().train.model_dump()`).
    """
    if not tuned.get("tuned"):
        return []
    family = tuned["model"]
    rows = [["`train.model`", hand_set["model"], family]]
    for name, value in sorted(tuned.get(family, {}).items()):
        rows.append([f"`train.{family}.{name}`", hand_set[family].get(name), value])
    cv = tuned.get("cv", {})
    rows.append([f"CV {cv.get('metric')} ({cv.get('folds')} folds)", None, cv.get("score")])
    return rows


def gate_lines(failures: list[GateFailure], checked: int) -> list[str]:
    if not failures:
        return [f"All {checked} gates pass."]
    return [f"**{len(failures)} of {checked} gates fail:**", ""] + [
        f"- {f.message()}" for f in failures
    ]


def plot_sections(base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Numbers behind the plots: changed confusion cells, curve areas, top features."""
    lines = []
    if new.get("confusion") is not None:
        changes = confusion_changes(base.get("confusion"), new["confusion"])
        lines += ["### Confusion matrix: changed cells", ""]
        lines.append(
            markdown_table(["actual", "predicted", "base", "workspace", "change"], changes)
            if changes
            else "No cell changed."
        )
    for key, x, y, title in (
        ("roc", "fpr", "tpr", "ROC curve"),
        ("precision_recall", "recall", "precision", "Precision-recall curve"),
    ):
        if new.get(key) is not None:
            rows = area_changes(base.get(key), new[key], x, y)
            lines += ["", f"### {title}: area per class (on the plotted 51-point grid)", ""]
            unchanged = all(r[3] is not None and round(r[3], 6) == 0 for r in rows)
            table = markdown_table(["class", "base", "workspace", "change"], rows)
            lines.append("No class's area changed." if unchanged else table)
    if new.get("importance") is not None:
        rows = top_features(base.get("importance"), new["importance"])
        headers = ["feature", "rank", "base rank", "importance", "base importance"]
        lines += ["", "### Top features", "", markdown_table(headers, rows)]
    return lines


def render(
    diff: MetricsDiff,
    params_diff: dict,
    failures: list[GateFailure],
    gates_checked: int,
    plots: tuple[dict, dict],
    plots_html: str | None,
    dataset_change: str | None = None,
    min_lift: dict[str, float] | None = None,
    tuned: list[list[Any]] | None = None,
) -> str:
    """The whole review as markdown.

    `dataset_change` says the base measured another dataset; `tuned` rows (tuned_rows) add a
    tuned-parameters table.
    """
    base_name = f"`{diff.base}` ({diff.commit[:7]})"
    lines = [MARKER, f"# Review: workspace vs {base_name}", ""]
    lines.append(f"Base metrics: {diff.source}.")
    if dataset_change:
        lines += ["", f"**Note:** {dataset_change[0].upper()}{dataset_change[1:]}"]
    lines += ["", "## Gates (profile and params.yaml `gates`)", ""]
    lines += gate_lines(failures, gates_checked)
    lines += ["", "## Parameters changed", ""]
    rows = param_rows(params_diff)
    lines.append(markdown_table(["param", "base", "workspace"], rows) if rows else "None.")
    if tuned:
        lines += ["", "## Tuned parameters (models/tuned_params.yaml)", ""]
        lines.append(markdown_table(["param", "hand-set", "tuned"], tuned))
    lines += ["", "## Metrics", ""]
    headers = ["metric", "base", "workspace", "change", "change %", "verdict"]
    lines.append(markdown_table(headers, metric_rows(diff, comparable=not dataset_change)))
    lifts = lift_rows(diff.new, min_lift or {})
    if lifts:
        lines += ["", "## Lift over the majority-class baseline (same test rows)", ""]
        headers = ["metric", "baseline", "workspace", "lift", "min lift"]
        lines.append(markdown_table(headers, lifts))
    directions = ", ".join(
        f"{m} ({direction(m)} is better)"
        for m in sorted(diff.new)
        if direction(m) and not m.startswith(f"{BASELINE}.")
    )
    lines += ["", f"Directions: {directions}.", "", "## Plots", ""]
    if plots_html:
        lines.append(
            f"All plots, base and workspace overlaid: `{plots_html}` (self-contained HTML, "
            "no CDN; in CI it is the `review` artifact of the run)."
        )
    lines += ["", *plot_sections(*plots)]
    return "\n".join(lines).rstrip() + "\n"


PLOT_FILES = {
    "confusion": paths.CONFUSION_PLOT,
    "roc": paths.ROC_PLOT,
    "precision_recall": paths.PR_PLOT,
    "importance": paths.IMPORTANCE_PLOT,
}


def read_plots(commit: str | None, root: Path = Path()) -> dict[str, Any]:
    """Plot data of the workspace (commit None) or of a commit via the DVC cache; gaps skipped."""
    from dvc.api import DVCFileSystem

    fs = None if commit is None else DVCFileSystem(str(root), rev=commit)
    data = {}
    for key, path in PLOT_FILES.items():
        try:
            text = (root / path).read_text() if fs is None else fs.read_text(str(path))
            loaded = json.loads(text)
        except Exception:  # missing from the cache or the workspace: that section is skipped
            continue
        if loaded != []:  # the other task's plots are empty lists (docs/regression.md)
            data[key] = loaded
    return data


def write_report(markdown: str, root: Path = Path()) -> Path:
    """Write the review atomically (imported here: tabml.atomic pulls in pandas, slow to load)."""
    from tabml import atomic

    return atomic.write_text(root / REPORT, markdown)
