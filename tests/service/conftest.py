"""One real BentoML server per test session, started from the session's packaged model.

The bento is the one the `packaged` fixture builds (tests/conftest.py: the template's default
model, built by the stages' entry points in a workspace of its own), never the checkout's, so
the tests always serve the current code. The server gets its own BentoML store (tmp dir).
"""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tests.service.server import Server, server_env, start_server

_env = server_env


@pytest.fixture(scope="session")
def packaged_repo(packaged) -> Path:
    """A workspace whose packaged model matches the current code (the session's)."""
    return packaged


# A newer, broken `tabml_model` in the store: the bento must serve its own model, not `latest`.
DECOY = """
import bentoml
with bentoml.models.create("tabml_model:decoy", metadata={"decoy": "yes"}) as model:
    open(model.path_of("model.onnx"), "wb").write(b"not an onnx model")
"""


@pytest.fixture(scope="session")
def server_process(packaged_repo, tmp_path_factory) -> Server:
    """`make serve`'s server process on a free 127.0.0.1 port, own store and request log."""
    workdir = tmp_path_factory.mktemp("server")
    home = workdir / "bentoml_home"
    subprocess.run([sys.executable, "-c", DECOY], env=_env(BENTOML_HOME=str(home)), check=True)
    server = start_server(packaged_repo, workdir, bentoml_home=home)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server(server_process) -> str:
    """Base URL of the session's server."""
    return server_process.url


@pytest.fixture(scope="session")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server, timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
def test_records(packaged_repo) -> list[dict]:
    """The held-out test split as API records (missing values as null)."""
    features = load_profile("penguins", packaged_repo / "configs").features.all
    frame = pd.read_parquet(packaged_repo / "data/processed/test.parquet")[features]
    return json.loads(frame.to_json(orient="records"))
