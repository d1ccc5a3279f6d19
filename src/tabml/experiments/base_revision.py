"""Metrics of the base revision a change is reviewed against, even when they are not cached.

`dvc metrics diff BASE` reads the base's metrics from the DVC cache (or a pulled remote). A
fresh CI clone has neither, so DVC reports every old value as null. Then, unless told not to,
we reproduce the base: check it out in a temporary `git worktree` that shares this repo's DVC
cache and run `dvc repro` there. The pipeline is deterministic, so the base's outputs land in
the cache under the hashes its dvc.lock names, and every later `dvc metrics/plots diff` sees
them. If the outputs differ from that lock (another platform), we still read the reproduced
metrics file directly and say so.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from tabml import paths, yaml_io
from tabml.experiments.runs import file_key, flatten
from tabml.params import DataParams
from tabml.tools import (
    CommandError,
    dvc,
    dvc_json,
    git,
    resolve_rev,
    temporary_worktree,
)

DEFAULT_BRANCHES = ("main", "origin/main")


@dataclass(frozen=True)
class MetricsDiff:
    """Workspace metrics and the base's (None when the base's metrics are unavailable)."""

    base: str
    commit: str
    new: dict[str, float]
    old: dict[str, float] | None
    source: str  # where the base values came from, for the report


def default_base(root: Path = Path()) -> str:
    """The last commit on main: `main` if it exists locally, else `origin/main`."""
    for name in DEFAULT_BRANCHES:
        if resolve_rev(name, root):
            return name
    raise CommandError("no `main` or `origin/main` to compare against: pass BASE=<rev>")


def _by_file(diff: dict) -> tuple[dict, dict]:
    """Split `dvc metrics diff --json` into flat {metric: old} and {metric: new}."""
    several = len(diff) > 1
    old, new = {}, {}
    for path, metrics in diff.items():
        for name, values in flatten(metrics).items():
            # flatten turns {"acc": {"old":..}} into "acc.old"; regroup by the last part
            metric, part = name.rsplit(".", 1)
            key = file_key(path, metric, several)
            if part == "old":
                old[key] = values
            elif part == "new":
                new[key] = values
    return old, new


def metrics_diff(base: str, root: Path = Path(), reproduce: bool = True, target: str = "evaluate"):
    """Workspace metrics vs `base`; reproduce the base in a temporary worktree if needed."""
    commit = resolve_rev(base, root)
    if commit is None:
        raise CommandError(f"base revision {base!r} does not exist in this git repository")
    diff = dvc_json(["metrics", "diff", "--all", base], root)
    old, new = _by_file(diff)
    new = {k: v for k, v in new.items() if v is not None}
    # The evaluate stage's metrics decide: another stage's file (the tune summary, whose stage
    # is often unchanged) can be in this cache when the base's model metrics are not.
    evaluated, _ = _by_file(
        {path: m for path, m in diff.items() if path == paths.METRICS.as_posix()}
    )
    if any(v is not None for v in evaluated.values()):
        return MetricsDiff(base, commit, new, _present(old), "the DVC cache")
    if not reproduce:
        reason = "not in the DVC cache (run `dvc pull`, or let `make report` reproduce it)"
        return MetricsDiff(base, commit, new, None, f"unavailable: {reason}")
    try:
        reproduced = reproduce_base(commit, root, target)
    except CommandError as err:
        return MetricsDiff(base, commit, new, None, f"unavailable: reproducing it failed: {err}")
    old, _ = _by_file(dvc_json(["metrics", "diff", "--all", base], root))
    if any(v is not None for v in old.values()):
        source = f"reproduced (`dvc repro {target}` in a temporary git worktree)"
        return MetricsDiff(base, commit, new, _present(old), source)
    source = "reproduced in a temporary git worktree; its outputs differ from the base dvc.lock"
    return MetricsDiff(base, commit, new, reproduced, source)


def profile_at(commit: str, root: Path = Path()) -> str | None:
    """`data.profile` in params.yaml at `commit`; None if that params.yaml is unreadable."""
    text = git(["show", f"{commit}:params.yaml"], root, check=False)
    try:
        raw = yaml_io.load(text) if text else None
    except yaml.YAMLError:
        return None
    if not isinstance(raw, dict):
        return None
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    return str(data.get("profile", DataParams().profile))


def dataset_change(base_profile: str | None, profile: str) -> str | None:
    """A sentence saying the base measured another dataset; None when it is the same one."""
    if base_profile is None or base_profile == profile:
        return None
    return (
        f"the dataset changed: the base uses data.profile={base_profile}, the workspace "
        f"data.profile={profile}. Metrics of different datasets are not comparable, so no "
        "regression is counted; the absolute and baseline-lift gates still apply."
    )


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def reproduce_base(commit: str, root: Path = Path(), target: str = "evaluate") -> dict:
    """Run the base's pipeline up to `target` in a temporary worktree sharing our DVC cache."""
    root = Path(root).resolve()
    with temporary_worktree(root, commit, prefix="tabml-base-") as tree:
        dvc(["repro", *([target] if target else [])], tree)
        shown = dvc_json(["metrics", "show"], tree)
    files = next(iter(shown.values()), {}).get("data", {})
    several = len(files) > 1
    return {
        file_key(path, k, several): v
        for path, content in files.items()
        for k, v in flatten(content.get("data", {})).items()
    }
