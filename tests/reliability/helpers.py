"""Helpers shared by the reliability tests: real `dvc` calls and workspace checks."""

import subprocess
from pathlib import Path

from testkit import tool_env as bench_env


def dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """Run a real `dvc` command in `repo`; the caller checks the return code."""
    return subprocess.run(
        ["dvc", *args], cwd=repo, env=bench_env(), capture_output=True, text=True, timeout=600
    )


def stray_temp_files(repo: Path) -> list[Path]:
    """Temporary files left by the atomic writers (`.<name>.*.tmp`) outside git and venv."""
    skip = {".git", ".venv"}
    return [p for p in repo.rglob("*.tmp") if not skip.intersection(p.relative_to(repo).parts)]
