"""DVC experiments as plain rows: parse `dvc exp show --json`, pick the best, build a sweep grid.

Everything here is pure; `tabml.cli` runs the dvc commands and prints the results.
"""

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from tabml import paths, yaml_io
from tabml.model.gates import direction
from tabml.params import ModelFamily
from tabml.tools import STAGE_LINE

FAMILIES = frozenset(get_args(ModelFamily))

# Executor states of experiments that are not finished yet (`dvc exp show --json`).
PENDING = frozenset({"queued", "running"})


@dataclass(frozen=True)
class Experiment:
    """One row of `dvc exp show`: a baseline commit, the workspace or an experiment."""

    name: str
    rev: str
    state: str  # success | queued | running | failed
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None  # the commit an experiment is based on

    @property
    def label(self) -> str:
        return self.name if self.rev == "workspace" else f"{self.name} ({self.rev[:7]})"


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """`{"train": {"model": "x"}}` -> `{"train.model": "x"}`."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def file_key(path: str, name: str, several: bool) -> str:
    """A metric's or param's name: `file:name` when several files report, except for
    reports/metrics.json (the test metrics gates and rankings use keep their bare names)."""
    return f"{path}:{name}" if several and Path(path) != paths.METRICS else name


def _files(section: dict | None) -> dict[str, Any]:
    """Flatten `{file: {"data": {...}}}`; keys named by `file_key`."""
    readable = {f: v["data"] for f, v in (section or {}).items() if "data" in v}
    several = len(readable) > 1
    return {
        file_key(f, k, several): v for f, data in readable.items() for k, v in flatten(data).items()
    }


def _row(entry: dict, state: str, baseline: str | None = None, name: str | None = None):
    data = entry.get("data") or {}
    if entry.get("error"):
        state = "failed"
    rev = entry["rev"]
    return Experiment(
        name=name or entry.get("name") or (rev if rev == "workspace" else rev[:7]),
        rev=rev,
        state=state,
        params=_files(data.get("params")),
        metrics=_files(data.get("metrics")),
        baseline=baseline,
    )


def parse_exp_show(entries: list[dict]) -> tuple[list[Experiment], list[Experiment]]:
    """Split `dvc exp show --json` into (workspace and baseline commits, experiments)."""
    baselines, experiments = [], []
    for entry in entries:
        baselines.append(_row(entry, "success"))
        for exp in entry.get("experiments") or []:
            state = (exp.get("executor") or {}).get("state") or "success"
            experiments.append(_row(exp["revs"][0], state, entry["rev"], exp.get("name")))
    return baselines, experiments


def rank(experiments: list[Experiment], metric: str, higher_is_better: bool | None = None):
    """Finished experiments that report `metric`, best first (ties: by name)."""
    if higher_is_better is None:
        sense = direction(metric)
        if sense is None:
            raise ValueError(
                f"don't know whether a higher {metric} is better: pass --higher-is-better "
                "or --lower-is-better"
            )
        higher_is_better = sense == "higher"
    scored = [e for e in experiments if e.state == "success" and _number(e.metrics.get(metric))]
    sign = -1.0 if higher_is_better else 1.0
    return sorted(scored, key=lambda e: (sign * float(e.metrics[metric]), e.name))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def varying_params(rows: list[Experiment]) -> list[str]:
    """Params whose value differs between rows (what the sweep actually changed)."""
    keys = sorted({k for row in rows for k in row.params}, key=lambda k: (k != "train.model", k))
    return [k for k in keys if len({repr(row.params.get(k)) for row in rows}) > 1]


def load_grid(path: Path) -> list[list[str]]:
    """The sweep in `path` as one list of `-S key=value` overrides per experiment."""
    spec = yaml_io.load(Path(path).read_text()) or {}
    runs = []
    for family, grid in spec.items():
        names = sorted(grid or {})
        values = [v if isinstance(v, list) else [v] for v in (grid[n] for n in names)]
        for combo in itertools.product(*values):
            overrides = [f"train.model={family}"]
            overrides += [f"train.{family}.{n}={v}" for n, v in zip(names, combo)]
            runs.append(overrides)
    return runs


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub-flavoured markdown table (reads fine in a terminal too)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _param(row: Experiment, key: str) -> Any:
    """A param's value, or "" for another family's hyperparameter (it has no effect)."""
    parts = key.split(".")
    model = row.params.get("train.model")
    # `auto` may fit any family of the task: its sections all count
    other = model != "auto" and parts[1:2] != [model]
    if len(parts) == 3 and parts[0] == "train" and parts[1] in FAMILIES and other:
        return ""
    return row.params.get(key)


def experiments_table(rows: list[Experiment], params: list[str], metrics: list[str]) -> str:
    """Experiments with the chosen params and metrics as columns."""
    body = [
        [r.label, r.state, *(_param(r, p) for p in params), *(r.metrics.get(m) for m in metrics)]
        for r in rows
    ]
    return markdown_table(["experiment", "state", *params, *metrics], body)


def tied_with_best(ranked: list[Experiment], metric: str) -> list[Experiment]:
    """The ranked experiments whose `metric` equals the best one's (ranked order: by name)."""
    if not ranked:
        return []
    best = float(ranked[0].metrics[metric])
    return [e for e in ranked if float(e.metrics[metric]) == best]


def tie_message(tied: list[Experiment], metric: str) -> str | None:
    """`3 experiments tie at f1_macro=0.93: a, b, c; picked a (first by name)`, or None."""
    if len(tied) < 2:
        return None
    names = ", ".join(e.name for e in tied)
    value = tied[0].metrics[metric]
    return (
        f"{len(tied)} experiments tie at {metric}={value}: {names}; "
        f"picked {tied[0].name} (first by name)"
    )


def hidden_message(shown: int, ranked: int, unranked: int, metric: str) -> str | None:
    """What the table leaves out: ranked rows beyond the top, and rows that cannot be ranked."""
    parts = []
    if ranked > shown:
        parts.append(f"{ranked - shown} lower-ranked experiment(s) not shown")
    if unranked:
        parts.append(
            f"{unranked} experiment(s) not ranked (unfinished, failed or without {metric})"
        )
    if not parts:
        return None
    return "; ".join(parts) + ": `dvc exp show` lists them all"


@dataclass(frozen=True)
class Progress:
    """How far a sweep is: counts of its experiments by state, the running ones' stages."""

    expected: int
    done: int
    failed: int
    running: int
    queued: int
    stages: tuple[str, ...] = ()  # the stage each running experiment is in, where known

    def line(self, seconds: float) -> str:
        """`sweep: experiment 4 of 8 running (stage train), 3/8 done (1 failed), 4 queued;
        2m05s`, or without a running one `sweep: 3/8 done, 0 running, 5 queued; 2m05s`."""
        minutes, rest = divmod(int(seconds), 60)
        failures = f" ({self.failed} failed)" if self.failed else ""
        done = f"{self.done}/{self.expected} done{failures}"
        if not self.running:
            return f"sweep: {done}, 0 running, {self.queued} queued; {minutes}m{rest:02d}s"
        first = self.done + 1
        which = f"{first}" if self.running == 1 else f"{first}-{self.done + self.running}"
        stages = f" (stage {', '.join(self.stages)})" if self.stages else ""
        return (
            f"sweep: experiment {which} of {self.expected} running{stages}, {done}, "
            f"{self.queued} queued; {minutes}m{rest:02d}s"
        )


RUNS = Path(".dvc/tmp/exps/run")  # one folder per queued experiment DVC is running or ran


def queue_runs(since: float, expected: int, runs: Path = RUNS) -> Progress:
    """How far the queued experiments started after `since` (a `time.time()`) are, read from
    DVC's run folders (`.dvc/tmp/exps/run/<rev>/`: `<rev>.json` gets a return code when the
    run ends, `<rev>.out` its output): no dvc process, no lock, so it answers while the
    queue runs. A running experiment's stage is the last `Running stage` line of its output.
    """
    done = failed = 0
    stages = []
    for info in sorted(Path(runs).glob("*/*.json")):
        try:
            if info.stat().st_mtime < since:
                continue  # an earlier sweep's
            code = json.loads(info.read_text()).get("returncode")
            output = info.with_suffix(".out").read_text(errors="replace") if code is None else ""
        except (OSError, ValueError):
            continue  # a run starting or finishing meanwhile
        if code is None:
            found = STAGE_LINE.findall(output)
            stages.append(found[-1] if found else "starting")
        else:
            done += 1
            failed += code != 0
    running = len(stages)
    return Progress(expected, done, failed, running, max(expected - done - running, 0),
                    tuple(stages))  # fmt: skip
