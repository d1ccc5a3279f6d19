"""One real BentoML server per test session, started from the exported bento.

The bento is the workspace's `models/tabml_service.bento` when `dvc status` says the pipeline
is up to date; otherwise the pipeline runs in a temporary copy of the working tree first, so
the tests always serve the current code. The server gets its own BentoML store (tmp dir).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.update(BENTOML_DO_NOT_TRACK="True", PYTHONHASHSEED="0", **extra)
    return env


def _up_to_date(repo: Path) -> bool:
    if not (repo / "models/tabml_service.bento").exists():
        return False
    status = subprocess.run(["dvc", "status", "--quiet"], cwd=repo, env=_env(), check=False)
    return status.returncode == 0


def _repro_in_copy(target: Path) -> Path:
    """Copy the working tree's tracked files to `target`, commit, and run `dvc repro`."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run([*git, *args], cwd=target, check=True)
    env = _env(BENTOML_HOME=str(target / "bentoml_home"), PYTHONPATH=str(target / "src"))
    subprocess.run(["dvc", "repro", "--quiet"], cwd=target, env=env, check=True)
    return target


@pytest.fixture(scope="session")
def packaged_repo(tmp_path_factory) -> Path:
    """A repository whose package stage output matches the current code."""
    if _up_to_date(ROOT):
        return ROOT
    return _repro_in_copy(tmp_path_factory.mktemp("repo"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A newer, broken `tabml_model` in the store: the bento must serve its own model, not `latest`.
DECOY = """
import bentoml
with bentoml.models.create("tabml_model:decoy", metadata={"decoy": "yes"}) as model:
    open(model.path_of("model.onnx"), "wb").write(b"not an onnx model")
"""


@pytest.fixture(scope="session")
def server(packaged_repo, tmp_path_factory) -> str:
    """Base URL of `make serve`'s server process, on a free 127.0.0.1 port."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = _env(
        BENTOML_HOME=str(tmp_path_factory.mktemp("bentoml_home")),
        PYTHONPATH=str(packaged_repo / "src"),
    )
    subprocess.run([sys.executable, "-c", DECOY], env=env, check=True)
    archive = packaged_repo / "models/tabml_service.bento"
    cmd = [sys.executable, "-m", "tabml.serve", "--archive", str(archive), "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=packaged_repo, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and its workers (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass  # already exited (the failure above says why)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server, timeout=10) as http:
        yield http
