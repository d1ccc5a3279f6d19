"""Fixtures for the reliability suite: reproduced penguins pipelines in temporary repos."""

import shutil
from pathlib import Path

import pytest

from benchmarks.support import repo_copy
from tests.reliability.helpers import dvc


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repo with the default pipeline reproduced once (cache filled)."""
    repo = repo_copy(tmp_path_factory.mktemp("reproduced"))
    result = dvc(repo, "repro")
    assert result.returncode == 0, result.stdout + result.stderr
    return repo


@pytest.fixture
def repo(reproduced: Path, tmp_path: Path) -> Path:
    """A private copy of the reproduced repo (git history, DVC cache and outputs included)."""
    return Path(shutil.copytree(reproduced, tmp_path / "repo", symlinks=True))
