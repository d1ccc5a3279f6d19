"""`make monitor`'s paired comparison: the served model and each challenger (shadow, canary, or
the champion scored off the answer's path) on the same labelled requests.

Reads the request log (what was answered), the challenger log (`logs/challengers/`, written by
`tabml.serving.challengers`: the same line format under the same prediction ids) and the
feedback log; a label counts for every model that scored its request. Writes
`reports/monitor/paired.json`, with the challengers' own counts (scored, errors, timeouts,
dropped, load errors) from their status files.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tabml import atomic
from tabml.monitoring import join, sources
from tabml.monitoring.paired_stats import ClassPairs, class_metrics, paired_bootstrap, value_metrics
from tabml.monitoring.tasks import monitor_task
from tabml.scoring.task import Task
from tabml.serving.challengers import STATUS

PAIRED_FILE = "paired.json"


def challenger_status(directory: Path) -> dict[str, dict]:
    """Per role and challenger, counts summed over the workers' status files."""
    summed: dict[str, dict] = {}
    for file in sorted((Path(directory) / STATUS).glob("*.json")):
        try:
            found = json.loads(file.read_text())
        except (OSError, ValueError):
            continue  # being replaced, or not ours
        for role, status in found.items() if isinstance(found, dict) else ():
            key = f"{role} {status.get('name')}"
            into = summed.setdefault(key, {"load_errors": 0, "load_error": None})
            for name, value in status.items():
                if isinstance(value, int) and name != "load_errors":
                    into[name] = into.get(name, 0) + value
            if status.get("load_error"):
                into["load_errors"] += 1
                into["load_error"] = status["load_error"]
    return summed


def _pairs_of(champion: pd.DataFrame, other: pd.DataFrame, task: Task, numeric: bool):
    """(pairs compared, per metric the paired comparison) of two models' labelled predictions."""
    both = champion.merge(other.drop(columns="label"), on="prediction_id", suffixes=("_s", "_c"))
    if numeric:
        truth = both["label"].to_numpy(np.float64)
        values = [both[f"predicted_{s}"].to_numpy(np.float64) for s in ("s", "c")]
        metrics = paired_bootstrap(lambda rows: value_metrics(truth, *values, rows), len(both))
        return len(both), metrics
    classes = list(task.classes)
    code = {name: i for i, name in enumerate(classes)}
    truth = both["label"].astype(str).map(code)
    keep = truth.notna().to_numpy()  # a label that is no class of the model: not comparable
    both, truth = both[keep], truth[keep].to_numpy(np.int64)
    columns = list(task.logged_columns())  # proba_<class>, in the classes' order

    def side(suffix: str) -> tuple[np.ndarray, np.ndarray]:
        labels = both[f"predicted_{suffix}"].astype(str).map(code).fillna(-1).to_numpy(np.int64)
        proba = both[[f"{c}_{suffix}" for c in columns]].to_numpy(np.float64)
        return labels, proba[np.arange(len(both)), truth]

    (served_labels, served_p), (challenger_labels, challenger_p) = side("s"), side("c")
    pairs = ClassPairs(truth, served_labels, challenger_labels, served_p, challenger_p,
                       len(classes))  # fmt: skip
    return len(truth), paired_bootstrap(lambda rows: class_metrics(pairs, rows), len(truth))


def paired_report(
    requests: Path,
    challengers: Path,
    feedback: Path,
    task: Task,
    names: dict[str, str],
    champion: str,
) -> dict:
    """The `champion` (the served model tag) against every other model that scored the same
    labelled requests: a shadow, a canary (whose answers the champion scored off the path)."""
    numeric = monitor_task(task).numeric_labels
    keep = ["prediction_id", "model_version", "predicted", *task.logged_columns()]
    served = sources.read_request_log(requests, task).frame
    other = sources.read_request_log(challengers, task).frame
    labels = sources.read_feedback_log(feedback, numeric=numeric).frame
    report = {"champion": champion, "champion_registry_version": names.get(champion),
              "pairs": [], "status": challenger_status(challengers)}  # fmt: skip
    if served.empty or other.empty or labels.empty:
        return report
    # A label counts for every model that scored its request: joined once per request (the
    # answered prediction), then given to each model's prediction of that request.
    answered, _ = join.join_labels(served[["prediction_id"]].copy(), labels)
    answered = answered[answered["label"].notna()].drop_duplicates("prediction_id")
    if pd.api.types.is_float_dtype(answered["label"]):
        answered = answered[np.isfinite(answered["label"].to_numpy())]
    every = pd.concat([served[keep], other[keep]], ignore_index=True)
    every = every[every["prediction_id"].notna()]  # lines from before prediction ids
    every = every.drop_duplicates(["prediction_id", "model_version"], keep="last")
    every = every.merge(answered, on="prediction_id")
    mine = every[every["model_version"] == champion].drop(columns="model_version")
    for version, theirs in every[every["model_version"] != champion].groupby(
        "model_version", observed=True
    ):
        count, metrics = _pairs_of(mine, theirs.drop(columns="model_version"), task, numeric)
        if count:
            report["pairs"].append({"challenger": version, "registry_version": names.get(version),
                                    "pairs": count, "metrics": metrics})  # fmt: skip
    return report


def write(report: dict, out_dir: Path) -> Path:
    return atomic.write_json(Path(out_dir) / PAIRED_FILE, report)


def _name(tag: str, registry_version: str | None) -> str:
    return f"{registry_version} ({tag})" if registry_version else tag


def lines(report: dict) -> list[str]:
    """What `make monitor` prints: each pair's differences, each challenger's counts."""
    found = []
    for pair in report["pairs"]:
        shown = ", ".join(
            f"{name} {m['difference']:+.4f} [{m['interval'][0]:+.4f}, {m['interval'][1]:+.4f}]"
            for name, m in pair["metrics"].items()
        )
        champion = _name(report["champion"], report["champion_registry_version"])
        found.append(
            f"paired: {_name(pair['challenger'], pair['registry_version'])} - {champion} on "
            f"{pair['pairs']:,} labelled requests: {shown}"
        )
    for key, counts in report["status"].items():
        loaded = f", LOAD FAILED: {counts['load_error']}" if counts.get("load_error") else ""
        found.append(
            f"challenger {key}: {counts.get('scored', 0):,} scored, {counts.get('errors', 0):,} "
            f"errors, {counts.get('timeouts', 0):,} timeouts, {counts.get('dropped', 0):,} "
            f"dropped{loaded}"
        )
    return found
