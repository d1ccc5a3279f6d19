"""Shared fixtures: the repo root, the penguins profile, and temporary copies of the repo."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tabml import paths
from tabml.scoring.model import load_packaged
from testkit import GOOD_RECORD, ROOT, repo_copy, run


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


@pytest.fixture(scope="session")
def repo_copy_factory(tmp_path_factory):
    """Make fresh temporary copies of the repository."""

    def make(name: str = "repo") -> Path:
        return repo_copy(tmp_path_factory.mktemp(name))

    return make


@pytest.fixture(scope="session")
def reproduced(repo_copy_factory) -> Path:
    """A committed copy of the repo after one real `dvc repro` (shared: copy it to mutate)."""
    repo = repo_copy_factory("repro")
    run(["dvc", "repro"], repo)
    return repo


@pytest.fixture
def repo(reproduced: Path, tmp_path: Path) -> Path:
    """A private copy of the reproduced repo (git history, DVC cache and outputs included)."""
    return Path(shutil.copytree(reproduced, tmp_path / "repo", symlinks=True))


@pytest.fixture
def good_record() -> dict:
    """A valid penguin inside the training range (a Gentoo)."""
    return dict(GOOD_RECORD)


@pytest.fixture(scope="module")
def packaged(request) -> Path:
    """The workspace when it has a packaged model, else the session's reproduced copy."""
    if paths.BENTO_ARCHIVE.exists():
        return Path.cwd()
    return request.getfixturevalue("reproduced")


@pytest.fixture(scope="module")
def model(packaged):
    return load_packaged(packaged / paths.ONNX_MODEL, packaged / paths.BENTO_ARCHIVE)


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (pgserver) for the session, on a Unix socket.

    Its data lives outside pytest's temporary folders: pytest deletes older sessions'
    folders when another session starts (other test runs on the same machine).
    """
    import tempfile

    from testkit.postgres import postgres_server as start

    folder = Path(tempfile.mkdtemp(prefix="tabml-pg-"))
    folder.chmod(0o755)  # pgserver runs the server as its own user when run as root
    try:
        with start(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A fresh, empty database on the session's PostgreSQL server: its libpq URI."""
    from testkit.postgres import fresh_database

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return fresh_database(postgres_server, name)
