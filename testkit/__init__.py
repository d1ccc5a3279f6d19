"""Helpers shared by the tests and the benchmarks: the tool environment and repo copies.

Both run the project the way `make` does (the locked `.venv/bin` first on PATH, no analytics,
fixed hashing) and never in the working repository: they copy its git-tracked files into a
temporary directory, as a fresh clone would see them.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A valid penguin inside the training range (a Gentoo): the tests' standard request record.
GOOD_RECORD = {
    "island": "Biscoe",
    "bill_length_mm": 48.6,
    "bill_depth_mm": 16.0,
    "flipper_length_mm": 230.0,
    "body_mass_g": 5800.0,
    "sex": "male",
}
# The tools beside the interpreter running the tests or benchmarks: `make`'s locked .venv/bin,
# also when the checkout under test is a copy that has no .venv of its own.
VENV_BIN = Path(sys.executable).parent


def tool_env(cwd: Path | None = None) -> dict[str, str]:
    """The Makefile's environment: the locked venv first on PATH, offline-friendly settings.

    With `cwd`, BentoML's store is that repo's own `bentoml_home/`, as the Makefile sets it.
    """
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(DVC_NO_ANALYTICS="1", PYTHONHASHSEED="0", BENTOML_DO_NOT_TRACK="True")
    env.pop("VIRTUAL_ENV", None)
    if cwd is not None:
        env["BENTOML_HOME"] = str(Path(cwd) / "bentoml_home")
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command in `cwd` with `tool_env(cwd)`, capturing output; on failure show it."""
    env = kwargs.pop("env", None) or tool_env(cwd)
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def repo_copy(dest: Path, source: Path = ROOT) -> Path:
    """Copy the git-tracked files of `source` (working-tree content) into a new git repo."""
    for name in git("ls-files", "-z", cwd=source).split("\0"):
        if name and (source / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("-c", "user.name=tabml", "-c", "user.email=tabml@localhost", "commit", "-qm", "copy",
        cwd=dest)  # fmt: skip
    return dest


# The default gates in params.yaml are set for penguins; the flights model (ROC AUC ~0.65,
# accuracy ~0.76) needs its own, or the package stage refuses it.
FLIGHTS_GATES = {"accuracy": 0.7, "f1_macro": 0.4, "roc_auc_ovr": 0.6}


def flights_gate_args() -> list[str]:
    """`-S` arguments for `dvc exp run` that set the flights gates."""
    return [a for k, v in FLIGHTS_GATES.items() for a in ("-S", f"gates.min.{k}={v}")]


def make_cmd(*args: str) -> list[str]:
    """`make ARGS` for a repo copy that uses this checkout's venv instead of building its own."""
    return ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={VENV_BIN}", *args]
