"""The challenger, built apart from the workspace: a git worktree on a `retrain/<data>`
branch that shares the repo's DVC cache and BentoML store.

Nothing here touches the workspace, `prod` or the served model: a run killed at any point
leaves at most this worktree and branch behind, and the next run starts them afresh.
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from tabml import paths
from tabml.data.profile import load_profile
from tabml.errors import TabmlError
from tabml.model.gates import check_limits, dataset_gates
from tabml.params import load_params
from tabml.retrain.harvest import PRODUCTION_FILE, Harvest, harvest
from tabml.tools import dvc, git

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


def set_params(params_file: Path, assignments: list[str]) -> None:
    """`key.sub=value` like `dvc exp run -S` (the value read as YAML), comments kept."""
    yaml = YAML()  # round-trip: the committed params.yaml keeps its comments and layout
    data = yaml.load(params_file.read_text())
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        *parents, leaf = key.strip().split(".")
        section = data
        for part in parents:
            if not sep or part not in section:
                raise ChallengerError(f"--set {assignment!r}: no params.yaml key {key!r}")
            section = section[part]
        if leaf not in section:
            raise ChallengerError(f"--set {assignment!r}: no params.yaml key {key!r}")
        section[leaf] = YAML(typ="safe").load(value)
    with params_file.open("w") as out:
        yaml.dump(data, out)


def prepare(
    root: Path, requests: Path, feedback: Path, assignments: list[str]
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
    return tree, harvest(requests, feedback, profile, tree)


def train(tree: Path, harvested: Harvest, profile: str) -> Challenger:
    """Reproduce the pipeline in the worktree; gate its test metrics; commit on a branch."""
    branch = f"retrain/{harvested.sha256[:12]}"
    try:
        dvc(["repro", "--quiet", "evaluate"], tree)
        failures = gate_failures(tree)
        if failures:  # refused as `make register` would: no package, no commit
            return Challenger(tree, branch, harvested, failures)
        dvc(["repro", "--quiet"], tree)
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
