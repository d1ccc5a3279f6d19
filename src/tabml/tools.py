"""Run dvc and git as subprocesses and read their JSON output (never their tables)."""

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tabml.errors import TabmlError


class CommandError(TabmlError, RuntimeError):
    """A dvc or git command failed; the message carries what it printed."""


def _executable(name: str) -> str:
    # Prefer the tool installed next to this interpreter (the locked .venv).
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def run(
    tool: str, args: list[str], cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run `tool args...` in `cwd`, capturing output; raise CommandError on failure."""
    cmd = [_executable(tool), *args]
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip())[-2000:]
        raise CommandError(f"`{tool} {' '.join(args)}` failed (exit {result.returncode}): {output}")
    return result


def dvc(args: list[str], cwd: Path | None = None, check: bool = True) -> str:
    """Stdout of `dvc args...`."""
    return run("dvc", args, cwd, check).stdout


def git(args: list[str], cwd: Path | None = None, check: bool = True) -> str:
    """Stdout of `git args...`."""
    return run("git", args, cwd, check).stdout


def dvc_json(args: list[str], cwd: Path | None = None) -> Any:
    """Parse the JSON that `dvc args... --json` prints (an empty answer is `{}`)."""
    text = dvc([*args, "--json"], cwd).strip()
    return json.loads(text) if text else {}


def resolve_rev(rev: str, cwd: Path | None = None) -> str | None:
    """The full commit hash `rev` names, or None if it names nothing."""
    result = run("git", ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd, False)
    return result.stdout.strip() or None


@contextmanager
def temporary_worktree(root: Path, commit: str, prefix: str = "tabml-") -> Iterator[Path]:
    """A detached git worktree of `commit` in a temporary folder, using `root`'s DVC cache
    (what it reproduces lands there); removed afterwards."""
    cache = dvc(["cache", "dir"], root).strip()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tree = Path(tmp) / "tree"
        git(["worktree", "add", "--detach", "--quiet", str(tree), commit], root)
        try:
            dvc(["cache", "dir", "--local", cache], tree)
            yield tree
        finally:
            git(["worktree", "remove", "--force", str(tree)], root, check=False)
            git(["worktree", "prune"], root, check=False)
