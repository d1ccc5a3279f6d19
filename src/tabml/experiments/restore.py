"""Back to the baseline after `dvc exp run` or `make best APPLY=1`, without committing anything.

Both leave the experiment in the workspace: its params in params.yaml, its dvc.lock, its
outputs. `git add` would make that the new baseline; restoring HEAD's params.yaml and
dvc.lock and then `dvc checkout` (outputs from the DVC cache, as dvc.lock names them) gives
the committed baseline back. The experiment stays in `dvc exp show` (refs under refs/exps),
so `dvc exp apply <name>` can bring it back. Other edits (code, profiles) are left alone.
"""

from dataclasses import dataclass
from pathlib import Path

from tabml.tools import dvc, dvc_json, git

# What `dvc exp run`/`dvc exp apply` change in git's view: the params files and the lock.
PIPELINE_STATE = ("params.yaml", "dvc.lock")


@dataclass(frozen=True)
class Restored:
    """What restoring the baseline did, and what it left alone."""

    commit: str
    restored: list[str]  # files put back to HEAD's version
    kept: list[str]  # other modified files, untouched
    undone: list[str]  # the params changes given up, `key: workspace -> HEAD`


def changed_from_head(paths: list[str] | None = None, root: Path = Path()) -> list[str]:
    """Tracked files whose worktree or index differs from HEAD (all of them when paths=None)."""
    spec = ["--", *paths] if paths else []
    return sorted(filter(None, git(["diff", "--name-only", "HEAD", *spec], root).split("\n")))


def restore_baseline(root: Path = Path()) -> Restored:
    """Put params.yaml and dvc.lock back to HEAD (index and worktree), then `dvc checkout`."""
    commit = git(["rev-parse", "--short", "HEAD"], root).strip()
    restored = changed_from_head(list(PIPELINE_STATE), root)
    # said before they are gone, so an edit that was not an experiment can be redone
    undone = [
        f"{key}: {change.get('new')} -> {change.get('old')}"
        for changes in dvc_json(["params", "diff"], root).values()
        for key, change in sorted(changes.items())
    ]
    if restored:
        git(["restore", "--source=HEAD", "--staged", "--worktree", "--", *restored], root)
    # outputs to what dvc.lock names (a no-op for the ones that already match)
    dvc(["checkout", "--quiet"], root)
    return Restored(commit, restored, changed_from_head(root=root), undone)
