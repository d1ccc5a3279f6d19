"""Refuse to queue experiments that would silently miss files (DVC issues 8854, 5801).

A queued experiment runs in a copy of the repo built from git: it sees committed files plus
the workspace's changes to *tracked* files, but never an untracked file. We insist on more:
every file the pipeline needs must be in git's index with no unstaged edit, so what runs is
exactly what `git diff --cached` shows.
"""

from dataclasses import dataclass
from pathlib import Path

from tabml.experiments.restore import PIPELINE_STATE
from tabml.tools import git

# Code and configuration the stages import or read without listing them as deps.
ALWAYS_NEEDED = ("src", "configs")


def pipeline_inputs(root: Path = Path()) -> list[str]:
    """Paths the pipeline needs from git: stage files, params files, deps that no stage makes."""
    from dvc.repo import Repo  # slow import, only when checking

    with Repo(str(root)) as repo:
        stages = list(repo.index.stages)
        made = {str(out.def_path) for stage in stages for out in stage.outs}
        needed = set(ALWAYS_NEEDED)
        for stage in stages:
            needed.add(stage.path_in_repo)
            needed.update(str(dep.def_path) for dep in stage.deps)
    return sorted(needed - made)


@dataclass(frozen=True)
class GitProblems:
    """Needed files that git would not hand to a queued experiment as they are on disk."""

    untracked: list[str]
    unstaged: list[str]

    def __bool__(self) -> bool:
        return bool(self.untracked or self.unstaged)

    def message(self) -> str:
        lines = ["refusing to queue experiments: files the pipeline needs are not staged in git."]
        if self.untracked:
            lines.append("Untracked (a queued experiment would not see them at all):")
            lines += [f"  {p}" for p in self.untracked]
        if self.unstaged:
            lines.append("Modified or deleted but not staged:")
            lines += [f"  {p}" for p in self.unstaged]
        lines.append(
            "Fix: `git add <files>` (or commit them), or remove what the pipeline should not "
            "use; then run the sweep again."
        )
        if set(self.unstaged) & set(PIPELINE_STATE):
            lines.append(
                "If params.yaml/dvc.lock hold a `dvc exp run` (or `make best APPLY=1`) result, "
                "`git add` makes that experiment the baseline of the sweep; to go back to the "
                "committed baseline instead: `make restore-baseline` (the experiment stays in "
                "`dvc exp show`)."
            )
        return "\n".join(lines)


def git_problems(paths: list[str], root: Path = Path()) -> GitProblems:
    """Which of `paths` (files or folders) are untracked or have unstaged changes."""
    existing = [p for p in paths if (root / p).exists() or _tracked(p, root)]
    if not existing:
        return GitProblems([], [])
    spec = ["--", *existing]
    untracked = git(["ls-files", "--others", "--exclude-standard", *spec], root).split("\n")
    unstaged = git(["diff", "--name-only", *spec], root).split("\n")
    return GitProblems(sorted(filter(None, untracked)), sorted(filter(None, unstaged)))


def _tracked(path: str, root: Path) -> bool:
    return bool(git(["ls-files", "--", path], root).strip())
