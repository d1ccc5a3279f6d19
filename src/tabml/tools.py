"""Run dvc and git as subprocesses and read their JSON output (never their tables)."""

import collections
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
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
