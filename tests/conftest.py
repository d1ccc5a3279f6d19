"""Shared fixtures: the repo root, the penguins profile, and temporary copies of the repo."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _run_from_repo_root():
    # Stage code resolves paths against the working directory, as DVC runs it.
    previous = Path.cwd()
    os.chdir(ROOT)
    yield
    os.chdir(previous)


@pytest.fixture(scope="session")
def profile():
    from tabml.data.profile import load_profile

    return load_profile("penguins")


@pytest.fixture(scope="session")
def schema(profile):
    from tabml.data.schema import load_schema

    return load_schema(profile)


@pytest.fixture(scope="session")
def raw_penguins(profile) -> pd.DataFrame:
    return pd.read_csv(profile.source.resolve())


def tool_env(cwd: Path = ROOT) -> dict[str, str]:
    """Environment for subprocesses in repo `cwd`: this interpreter first, offline settings."""
    env = dict(os.environ)
    env["BENTOML_HOME"] = str(Path(cwd) / "bentoml_home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(DVC_NO_ANALYTICS="1", BENTOML_DO_NOT_TRACK="True", PYTHONHASHSEED="0")
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capturing output; on unexpected failure show what it printed."""
    env = kwargs.pop("env", None) or tool_env(cwd)
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def copy_repo(destination: Path) -> Path:
    """Copy the git-tracked files (as a fresh clone would see them) and commit them."""
    tracked = run(["git", "ls-files", "-z"], ROOT).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    run(["git", "init", "-q", "-b", "main"], destination)
    run(["git", "add", "-A"], destination)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], destination)
    return destination


@pytest.fixture(scope="session")
def repo_copy_factory(tmp_path_factory):
    """Make fresh temporary copies of the repository."""

    def make(name: str = "repo") -> Path:
        return copy_repo(tmp_path_factory.mktemp(name))

    return make


@pytest.fixture(scope="session")
def reproduced(repo_copy_factory) -> Path:
    """A committed copy of the repo after one real `dvc repro` (shared: copy it to mutate)."""
    repo = repo_copy_factory("repro")
    run(["dvc", "repro"], repo)
    return repo


@pytest.fixture
def good_record() -> dict:
    """A valid penguin inside the training range (a Gentoo)."""
    return {
        "island": "Biscoe",
        "bill_length_mm": 48.6,
        "bill_depth_mm": 16.0,
        "flipper_length_mm": 230.0,
        "body_mass_g": 5800.0,
        "sex": "male",
    }
