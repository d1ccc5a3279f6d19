"""`make monitor`: read predictions and labels, join them, report per version and window.

The one place that does I/O for the monitor: the sources (`sources`), the join (`join`),
the numbers (`live_report`) and the files (`monitor_files`) are separate modules.
"""

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from tabml.batch.database_url import shown
from tabml.monitoring import alerts, join, monitor_files, sources
from tabml.monitoring.compact import compact_frame, concat_frames
from tabml.monitoring.model_versions import default_store, packaged_model, store_models
from tabml.monitoring.tasks import monitor_task
from tabml.params import GatesParams, Params
from tabml.scoring.task import task_for


@dataclass
class MonitorInputs:
    """Where the monitor reads from."""

    requests: Path
    feedback: Path
    archive: Path
    db: str | None = None
    bentoml_home: Path | None = None
    exclude_sources: tuple[str, ...] = ()  # label sources left out (`http` also `http:x`)
    names: dict[str, str] = field(default_factory=dict)  # model tag -> registry version
    in_stage: frozenset[str] = frozenset()  # model tags of the versions in a stage (prod)


@dataclass
class MonitorResult:
    report: dict
    lines: list[str] = field(default_factory=list)

    @property
    def alert(self) -> bool:
        """A version that still serves alerts (a retired one's alert is only reported)."""
        return any(
            v["verdict"] == alerts.ALERT and not v["retired"]
            for v in self.report["versions"].values()
        )


def retired_versions(joined: pd.DataFrame, keep: frozenset[str]) -> dict[str, str]:
    """Versions that no longer serve: another version's predictions all came after their
    last one (it replaced them). Version -> the one that replaced it. A version in `keep`
    (in a stage) is never retired."""
    times = joined.groupby(join.version_labels(joined["model_version"]), observed=True)
    spans = times["timestamp"].agg(["min", "max"])
    found = {}
    for version, span in spans.iterrows():
        later = spans[(spans["min"] > span["max"]) & (spans.index != version)]
        if len(later) and version not in keep:
            found[str(version)] = str(later["min"].idxmin())
    return found


def run_monitor(
    inputs: MonitorInputs,
    params: Params,
    out_dir: Path,
    window: str | None = None,
    since: str | None = None,
    gates: GatesParams | None = None,
) -> MonitorResult:
    """Join, compute and write `out_dir`; the verdict lines are in the result.

    `gates`: the dataset's gates (`tabml.model.gates.load_gates`; default: params.yaml's
    section for the model's task): a classifier's live metrics have their `min` as floors,
    a regression model's errors their `max` as ceilings.
    """
    length = join.parse_window(window or params.monitor.window)
    now = pd.Timestamp.now(tz="UTC")
    start = join.parse_since(since, now) if since else None
    current, metadata = packaged_model(inputs.archive)
    task = task_for(metadata)  # the packaged model's: what its predictions and labels are
    monitored = monitor_task(task)
    # Compact frames (ids as numbers, texts as categoricals): ten million rows in 2 GiB.
    online = sources.read_request_log(inputs.requests, task, compact=True)
    batch, batch_note = sources.read_batch_predictions(inputs.db, task)
    batch.frame = compact_frame(batch.frame)
    labels = sources.read_feedback_log(
        inputs.feedback, numeric=monitored.numeric_labels, compact=True
    )
    by_source = sources.labels_by_source(labels.frame)
    left_out = sources.excluded(labels.frame["source"], inputs.exclude_sources)
    if left_out.any():
        labels.frame = labels.frame[~left_out].reset_index(drop=True)
    online_rows, batch_rows = len(online.frame), len(batch.frame)
    frames = [f for f in (online.frame, batch.frame) if len(f)] or [online.frame]
    predictions = frames[0] if len(frames) == 1 else concat_frames(frames)
    online.frame = batch.frame = None  # the rows live on in `predictions` only
    if predictions.empty:
        raise sources.MonitorInputError(
            f"no predictions in {inputs.requests}/ or the batch database "
            f"({batch_note or shown(inputs.db)}): serve some traffic, or pass DB=<url> of a "
            "batch-scored database"
        )
    newest = join.newest_labels(labels.frame)
    labels.frame = None  # freed before the join: ten million rows need the room
    joined, counts = join.join_labels(predictions, newest)
    predictions = newest = None  # joined holds what is needed from them
    if start is not None:
        # Labels of predictions made before SINCE are outside the window, not unmatched.
        before = (joined["timestamp"] < start).to_numpy()
        outside = int((before & joined["label"].notna().to_numpy()).sum())
        counts = replace(counts, matched=counts.matched - outside, before_since=outside)
        joined = joined[~before].reset_index(drop=True)
        if joined.empty:
            raise sources.MonitorInputError(f"no predictions since {start.isoformat()}")
    seen = joined["model_version"].dropna().unique().tolist()
    models = {**store_models(inputs.bentoml_home or default_store(), seen), current: metadata}
    versions = monitored.versions(joined, models, task, length, params, gates)
    retired = retired_versions(joined, inputs.in_stage)
    for tag, found in versions.items():
        found["registry_version"] = inputs.names.get(tag)
        found["retired"] = tag in retired
        found["replaced_by"] = retired.get(tag)
    report = {
        "task": task.name,
        "window": window or params.monitor.window,
        "since": start.isoformat() if start is not None else None,
        "predictions": len(joined),
        "sources": f"{online_rows:,} online from {inputs.requests}/, "
        + (f"{batch_rows:,} batch from {shown(inputs.db)}" if batch_note is None else batch_note),
        "skipped_lines": online.skipped + labels.skipped,
        "labels_by_source": by_source,
        "excluded_sources": list(inputs.exclude_sources),
        "excluded_labels": int(left_out.sum()),
        "join": asdict(counts),
        "versions": versions,
    }
    return MonitorResult(report, monitor_files.write_report(report, out_dir, monitored.section))
