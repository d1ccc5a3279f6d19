"""The challenger, built apart from the workspace: a git worktree on a `retrain/<data>`
branch that shares the repo's DVC cache and BentoML store.

Nothing here touches the workspace, `prod` or the served model: a run killed at any point
leaves at most this worktree and branch behind, and the next run starts them afresh.
"""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tabml import paths
from tabml.data.profile import load_profile
from tabml.errors import TabmlError
from tabml.model.gates import check_limits, dataset_gates
from tabml.params import load_params
from tabml.retrain.harvest import PRODUCTION_FILE, Harvest, harvest
from tabml.retrain.overrides import set_params
from tabml.tools import dvc, git, on_stage, stream

# What a retrain commit holds: the harvested data version, its pin, params and the lock.
COMMITTED = ("params.yaml", "dvc.lock", str(PRODUCTION_FILE) + ".dvc")


class ChallengerError(TabmlError, RuntimeError):
    """The challenger could not be built (a setting, or the pipeline failed)."""


@dataclass
class Challenger:
    tree: Path
    branch: str
    harvest: Harvest
    gate_failures: list[str]  # the registry gate on its test metrics; empty when it passes


def gate_failures(tree: Path) -> list[str]:
    """The registry's gate (absolute limits, lift) on the tree's own test metrics."""
    params = load_params(tree / paths.PARAMS)
    profile = load_profile(params.data.profile, tree / paths.CONFIGS)
    metrics = json.loads((tree / paths.METRICS).read_text())
    return [f.message() for f in check_limits(metrics, dataset_gates(params, profile))]


def worktree_dir(root: Path) -> Path:
    """Inside .git (invisible to git status and to DVC), one fixed place: reruns reuse it."""
    common = Path(git(["rev-parse", "--git-common-dir"], root).strip())
    return (root / common).resolve() / "tabml-retrain" / "challenger"


def remove_worktree(root: Path) -> None:
    tree = worktree_dir(root)
    git(["worktree", "remove", "--force", str(tree)], root, check=False)
    shutil.rmtree(tree, ignore_errors=True)
    git(["worktree", "prune"], root, check=False)


def prepare(
    root: Path,
    requests: Path,
    feedback: Path,
    assignments: list[str],
    exclude: tuple[str, ...] = (),
) -> tuple[Path, Harvest]:
    """A fresh worktree at HEAD (sharing the DVC cache), the overrides applied to its
    params.yaml, this harvest in it."""
    root = root.resolve()
    cache = dvc(["cache", "dir"], root).strip()
    remove_worktree(root)  # what a killed run left
    tree = worktree_dir(root)
    tree.parent.mkdir(parents=True, exist_ok=True)
    git(["worktree", "add", "--detach", "--quiet", str(tree), "HEAD"], root)
    dvc(["cache", "dir", "--local", cache], tree)
    dvc(["checkout", "--quiet"], tree, check=False)  # the previous harvest, persisted outputs
    if assignments:
        set_params(tree / paths.PARAMS, assignments)
    profile = load_params(tree / paths.PARAMS).data.profile
    return tree, harvest(requests, feedback, profile, tree, exclude)


def train(
    tree: Path, harvested: Harvest, profile: str, progress: Callable[[str], None] = print
) -> Challenger:
    """Reproduce the pipeline in the worktree; gate its test metrics; commit on a branch."""
    branch = f"retrain/{harvested.sha256[:12]}"
    try:
        running = on_stage(lambda stage: progress(f"challenger: stage {stage} running"))
        stream("dvc", ["repro", "evaluate"], running, tree)
        failures = gate_failures(tree)
        if failures:  # refused as `make register` would: no package, no commit
            return Challenger(tree, branch, harvested, failures)
        stream("dvc", ["repro"], running, tree)
    except TabmlError as err:
        raise ChallengerError(f"the challenger's pipeline failed: {err}") from err
    profile_file = str(paths.CONFIGS / f"{profile}.yaml")
    git(["add", "-f", *COMMITTED, profile_file], tree)
    identity = [] if git(["config", "user.email"], tree, check=False).strip() else [
        "-c", "user.name=tabml retrain", "-c", "user.email=retrain@localhost"]  # fmt: skip
    message = f"Retrain: challenger on production data sha256 {harvested.sha256[:12]}"
    git([*identity, "commit", "--quiet", "--allow-empty", "-m", message], tree)
    git(["branch", "--force", branch, "HEAD"], tree)
    return Challenger(tree, branch, harvested, failures)
