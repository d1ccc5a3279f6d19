"""`make reproduce` from a fresh clone: two registered versions (different params) rebuilt from
their own commit and lock are identical; another scikit-learn minor, or another CPU kernel,
is reported as a diff that names the moved outputs and their stage."""

import json
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tabml.reproduce.resolve import index_unreachable, pins
from tabml.retrain.challenger import set_params
from testkit import make_cmd, run, tool_env

pytestmark = pytest.mark.slow  # four pipeline rebuilds and two environments: ~5 minutes

GIT_ID = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
          "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip


@pytest.fixture(scope="module")
def envs(tmp_path_factory) -> Path:
    """One cache of reproduction environments for the module (as one user's .cache would be)."""
    return tmp_path_factory.mktemp("envs")


def env_for(repo: Path, envs: Path, **extra: str) -> dict[str, str]:
    return {**tool_env(repo), **GIT_ID, "TABML_REPRODUCE_ENVS": str(envs), **extra}


def sh(repo: Path, envs: Path, *cmd: str, check: bool = True, **extra: str):
    return run(list(cmd), repo, check=check, env=env_for(repo, envs, **extra))


@pytest.fixture(scope="module")
def origin(reproduced, tmp_path_factory, envs) -> Path:
    """v1.0.0 (logistic regression, C=1) and v2.0.0 (C=0.25) registered and pushed to a
    local-directory DVC remote (the remote committed in .dvc/config)."""
    base = tmp_path_factory.mktemp("reproduce")
    origin = Path(shutil.copytree(reproduced, base / "origin", symlinks=True))
    # logistic regressions: their fitted arrays are what another BLAS kernel or scikit-learn
    # release moves (the default hgb's trees may not move at all)
    set_params(origin / "params.yaml", ["train.model=logistic_regression"])
    sh(origin, envs, "dvc", "repro", "--quiet")
    sh(origin, envs, "git", "commit", "-qam", "logistic regression C=1")
    sh(origin, envs, *make_cmd("register", "VERSION=v1.0.0"))
    set_params(origin / "params.yaml", ["train.logistic_regression.C=0.25"])
    sh(origin, envs, "dvc", "repro", "--quiet")
    sh(origin, envs, "git", "commit", "-qam", "C=0.25")
    sh(origin, envs, *make_cmd("register", "VERSION=v2.0.0"))
    # As docs/reproduction.md sets it up: the remote committed (for clones) and in the local
    # config, which DVC also applies to tags made before the remote was committed.
    for level in ([], ["--local"]):
        sh(origin, envs, "dvc", "remote", "add", *level, "-d", "shared", str(base / "remote"))
        if not level:
            sh(origin, envs, "git", "commit", "-qm", "a local-directory DVC remote", ".dvc/config")
    pushed = sh(origin, envs, "dvc", "push", "--all-tags")
    assert "failed to collect" not in pushed.stdout + pushed.stderr
    return origin


@pytest.fixture
def clone(origin, tmp_path, envs) -> Path:
    """A fresh `git clone`: no outputs, no DVC cache, only git (with the tags) and the remote.
    The recorded outputs a diff describes can only have come from the remote."""
    sh(tmp_path, envs, "git", "clone", "-q", str(origin), "clone")
    return tmp_path / "clone"


def reproduce(clone: Path, envs: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    cmd = ["python", "-m", "tabml.cli", "reproduce", *args]
    return sh(clone, envs, *cmd, check=False, **extra)


def test_a_fresh_clone_reproduces_both_versions_identically(clone, envs):
    assert not (clone / ".dvc" / "cache").exists() and not (clone / "models").exists()
    env = {k: v for k, v in env_for(clone, envs).items() if k != "TABML_REPRODUCE_ENVS"}
    result = run(make_cmd("reproduce", "ALL=1"), clone, check=False, env=env)  # as typed
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.index("v1.0.0: IDENTICAL") < out.index("v2.0.0: IDENTICAL")  # oldest first
    assert out.count("identical to the recorded sha256 (104 rows)") == 2
    report = json.loads((clone / "reports/reproduce/report.json").read_text())
    assert [(o["label"], o["status"]) for o in report["outcomes"]] == [
        ("v1.0.0", "identical"),
        ("v2.0.0", "identical"),
    ]
    # Two versions, one lock file: one environment, reused by the second.
    builds = re.findall(r"environment (\w+): (\w+)", out)
    assert len(builds) == 2 and builds[0][0] == builds[1][0] and builds[1][1] == "cached"
    assert (clone / ".cache/reproduce/envs" / builds[0][0] / "bin" / "python").exists()
    assert "note:" not in out  # the recorded outputs were fetched from the remote
    assert "v2.0.0 | `" in (clone / "reports/reproduce/report.md").read_text()


def test_another_scikit_learn_minor_is_a_diff_naming_the_moved_outputs(clone, envs):
    locked = pins((clone / "requirements.lock").read_text())["scikit-learn"]
    major, minor = locked.split(".")[:2]
    older = f"scikit-learn<{major}.{minor}"  # the newest release of the previous minor

    result = reproduce(clone, envs, "v1.0.0", "--with", older)

    if result.returncode == 1 and "cannot resolve" in result.stderr and index_unreachable():
        pytest.skip(f"{older} is not in uv's cache and the package index is unreachable")
    assert result.returncode == 3, result.stdout + result.stderr
    assert re.search(
        rf"scikit-learn {re.escape(locked)} -> {major}\.{int(minor) - 1}\.", result.stdout
    )
    assert "(first moved output: models/model.joblib, stage train)" in result.stdout
    # "same fitted numbers" / "fitted arrays moved" compare with the recorded model.joblib,
    # which a fresh clone can only have fetched from the remote
    assert re.search(r"^    train +models/model\.joblib +.*fitted", result.stdout, re.M), (
        result.stdout + result.stderr
    )
    assert re.search(r"^    package +reports/model_card\.md +.*scikit-learn", result.stdout, re.M)
    assert "reproduce: exit 3" in result.stderr


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the kernel pin is x86-64 only")
def test_another_cpu_kernel_is_named_beside_the_outputs_it_moved(clone, envs):
    result = reproduce(clone, envs, "v2.0.0", OPENBLAS_CORETYPE="Nehalem")

    assert result.returncode == 3, result.stdout + result.stderr
    assert (
        "CPU kernel: registered with 'x86_64 openblas Haswell', reproduced with "
        "'x86_64 openblas Nehalem' (OPENBLAS_CORETYPE=Nehalem is set here"
    ) in result.stdout
    moved = re.search(r"^    train +models/model\.joblib +(.*)$", result.stdout, re.M)
    assert moved and "fitted arrays moved:" in moved.group(1)
    assert "model.steps.model.coef_ max |d|" in moved.group(1)
