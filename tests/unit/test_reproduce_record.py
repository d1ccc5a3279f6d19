"""What registering records for `make reproduce` (in the GTO tag), the registered versions in
order, the CPU-kernel probe and the environments' cache key."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tabml.reproduce import kernel
from tabml.reproduce.envs import env_key
from tabml.reproduce.record import ReproductionRecord, parse_record
from tabml.reproduce.versions import VersionError, find_version, registered_versions
from testkit import git

RECORD = ReproductionRecord(
    answers_sha256="0123456789" * 6 + "0123",  # all digits: must stay text, not a number
    answers_rows=104,
    onnx_sha256="ab" * 32,
    kernel="x86_64 openblas Haswell",
    python="3.11.7",
    lock_sha256="cd" * 32,
)
MESSAGE = f"""Registering artifact model version v1.0.0

model_card_sha256: {"ef" * 32}

reproduction:
{chr(10).join(f"  {k}: {v}" for k, v in RECORD.model_dump().items())}
"""


def test_the_record_in_a_tag_message_reads_back_exactly():
    assert parse_record(MESSAGE) == RECORD
    assert parse_record(MESSAGE + "\nsomething after\n") == RECORD


@pytest.mark.parametrize(
    "message",
    ["Registering artifact model version v1.0.0", MESSAGE.replace("  answers_rows: 104\n", "")],
    ids=["no record (registered before)", "a field missing"],
)
def test_a_tag_without_a_complete_record_has_none(message):
    assert parse_record(message) is None


def test_the_environment_key_follows_the_lock_content():
    assert env_key("a==1\n") == env_key("a==1\n")
    assert env_key("a==1\n") != env_key("a==2\n")


def probe_in(env: dict) -> dict:
    script = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
    out = subprocess.run([sys.executable, "-c", script, kernel.__file__], env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the kernel pin is x86-64 only")
def test_the_kernel_probe_sees_the_pin_and_an_override():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    pinned = probe_in(env)
    assert pinned["kernel"] == f"x86_64 openblas {kernel.PINNED}"
    assert pinned["coretype"] == kernel.PINNED and pinned["python"] == platform.python_version()
    # Nehalem (SSE4.2) runs on any x86-64 CPU of the last 15 years and is not the pinned kernel.
    other = probe_in({**env, "OPENBLAS_CORETYPE": "Nehalem"})
    assert other["kernel"] == "x86_64 openblas Nehalem" and other["coretype"] == "Nehalem"


def gto(repo: Path, *args: str) -> None:
    tool = Path(sys.executable).parent / "gto"
    subprocess.run([str(tool), *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def registry(tmp_path) -> Path:
    """A git repo with model versions v0.2.0, v0.10.0 (same second), v0.3.0 and v0.1.0
    (deregistered), registered in that order."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "dvc.yaml").write_text("artifacts:\n  model:\n    path: m\n    type: model\n")
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    git(*identity, "add", "dvc.yaml", cwd=repo)
    git(*identity, "commit", "-qm", "one", cwd=repo)
    for version in ("v0.2.0", "v0.10.0", "v0.3.0", "v0.1.0"):
        message = MESSAGE if version == "v0.2.0" else f"plain {version}"
        git(*identity, "commit", "-q", "--allow-empty", "-m", version, cwd=repo)
        # GTO dates versions by the tag's creation time: pin it, seconds apart except one pair
        seconds = {"v0.2.0": 10, "v0.10.0": 10, "v0.3.0": 20, "v0.1.0": 30}[version]
        date = f"2020-01-01T00:00:{seconds:02d}+00:00"
        tag = ["git", *identity, "tag", "-a", f"model@{version}", "-m", message]
        subprocess.run(tag, cwd=repo, check=True, env={**os.environ, "GIT_COMMITTER_DATE": date})
    gto(repo, "deprecate", "model", "v0.1.0")  # deregisters the version
    return repo


def test_registered_versions_oldest_first_without_deregistered_ones(registry):
    versions = registered_versions(registry)
    # v0.2.0 and v0.10.0 share a second: SemVer orders them (0.2 < 0.10), not the text.
    assert [v.version for v in versions] == ["v0.2.0", "v0.10.0", "v0.3.0"]
    assert versions[0].record == RECORD and versions[1].record is None
    head = git("rev-parse", "model@v0.3.0^{commit}", cwd=registry).strip()
    assert versions[2].commit == head


def test_an_unknown_version_lists_the_registered_ones(registry):
    with pytest.raises(VersionError, match=r"v9\.9\.9 is not a registered version .*v0\.3\.0"):
        find_version("v9.9.9", registry)
