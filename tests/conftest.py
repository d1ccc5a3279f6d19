"""Shared fixtures and the test tiers.

Tiers (docs/testing.md): a test's tier is the most expensive of its own marker and the tiers
of the fixtures it uses (`FIXTURE_TIERS`), decided here and nowhere else.

- quick (no marker): pure functions and the in-process runtime: `make test-quick`;
- integration: adds stages run in process on temporary workspaces, child processes (the CLI),
  real servers, PostgreSQL and computations of seconds: `make test` runs quick + integration;
- slow: whole `dvc repro` / `dvc exp` flows, the README, Dask clusters, the retrain loop, big
  data and load tests: `make test-slow`.

Every test runs in a hermetic workspace (testkit/workspace.py): the template's committed
profiles and the code's default params, never the checkout's params.yaml, data, models or
reports. The packaged model of the tests (`packaged`, `model`) is built once per session from
those, by the stages' own entry points.
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tabml import paths
from tabml.scoring.model import load_packaged
from testkit import GOOD_RECORD, repo_copy, run
from testkit.workspace import run_stages, template_workspace

TIERS = ("quick", "integration", "slow")
# Fixtures that make any test using them (directly or through another fixture) at least this
# expensive. A fixture not listed costs nothing worth a tier.
FIXTURE_TIERS = {
    "reproduced": "slow",  # a real `dvc repro` in a copy of the repository
    "repo_copy_factory": "slow",  # copies are made for real DVC runs
    "postgres_server": "integration",
    "server_process": "integration",
    "packaged_repo": "integration",  # the workspace a real server serves
    "stage_workspace": "integration",
    "packaged_copy": "integration",
    "run_tune_stage": "integration",  # the tune stage in a child process
}


def tier_of(item: pytest.Item) -> str:
    """The tier of a collected test: its marker or its most expensive fixture."""
    found = {m.name for m in item.iter_markers() if m.name in TIERS}
    found |= {FIXTURE_TIERS[name] for name in item.fixturenames if name in FIXTURE_TIERS}
    return max(found, key=TIERS.index, default="quick")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # before `-m` selects: a fixture's tier becomes the test's marker
    for item in items:
        tier = tier_of(item)
        if tier != "quick":
            item.add_marker(tier)


@pytest.fixture(autouse=True, scope="session")
def _run_in_a_template_workspace(tmp_path_factory):
    # Stage code resolves paths against the working directory, as DVC runs it: the tests'
    # is the template as shipped, so the checkout's own params, data and models stay unseen.
    previous = Path.cwd()
    os.chdir(template_workspace(tmp_path_factory.mktemp("template"), everything=True))
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


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    """A workspace with the template's default model packaged: every stage's outputs
    (data/, models/, reports/), built once per session by the stages' entry points."""
    workspace = template_workspace(tmp_path_factory.mktemp("packaged"))
    run_stages(workspace)
    return workspace


@pytest.fixture(scope="session")
def model(packaged):
    return load_packaged(packaged / paths.ONNX_MODEL, packaged / paths.BENTO_ARCHIVE)


@pytest.fixture
def packaged_copy(packaged, tmp_path) -> Path:
    """A private copy of the session's packaged workspace: change it, rerun its stages."""
    return Path(shutil.copytree(packaged, tmp_path / "packaged", symlinks=True))


@pytest.fixture
def stage_workspace(tmp_path) -> Path:
    """A template workspace of this test's own (default params): run stages in it with
    `testkit.workspace.run_stages`, after changing what the test is about."""
    return template_workspace(tmp_path / "workspace")


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
