"""Run dvc and git as subprocesses and read their JSON output (never their tables)."""

import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
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


# How `dvc repro` announces a stage (also in a queued experiment's output file).
STAGE_LINE = re.compile(r"^Running stage '([^']+)'", re.M)


def on_stage(report: Callable[[str], None]) -> Callable[[str], None]:
    """A `stream` line handler that calls `report(stage)` as each stage starts."""

    def handle(line: str) -> None:
        found = STAGE_LINE.match(line)
        if found:
            report(found.group(1))

    return handle


def stream(
    tool: str, args: list[str], on_line: Callable[[str], None], cwd: Path | None = None
) -> None:
    """Run `tool args...`, handing each line it prints (stdout and stderr) to `on_line` as
    it comes (progress of a long command); raise CommandError on failure."""
    cmd = [_executable(tool), *args]
    tail: collections.deque[str] = collections.deque(maxlen=40)
    with subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        for line in proc.stdout:
            tail.append(line)
            on_line(line.rstrip("\n"))
        code = proc.wait()
    if code != 0:
        output = "".join(tail).strip()[-2000:]
        raise CommandError(f"`{tool} {' '.join(args)}` failed (exit {code}): {output}")


def start_workers(tool: str, args: list[str], cwd: Path | None = None) -> None:
    """Run a command that leaves worker processes behind (`dvc queue start`), its output in a
    file: the workers inherit its stdout and stderr, and a pipe would stay open (and `run`
    wait) until the last of them exits."""
    import tempfile

    with tempfile.TemporaryFile("w+") as output:
        cmd = [_executable(tool), *args]
        done = subprocess.run(cmd, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        code = done.returncode
        if code != 0:
            output.seek(0)
            text = output.read().strip()[-2000:]
            raise CommandError(f"`{tool} {' '.join(args)}` failed (exit {code}): {text}")


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
