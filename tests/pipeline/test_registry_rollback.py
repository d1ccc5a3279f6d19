"""Registry and rollback in a real repo copy: GTO tags, metric gate, dvc checkout of v1."""

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import joblib
import pandas as pd
import pytest
import yaml

from tabml.data.profile import load_profile
from tabml.model.features import model_frame
from testkit import make_cmd, run, tool_env
from tests.service.server import start_server

GIT_ID = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
MODEL_FILES = ("models/model.joblib", "models/training_stats.json", "reports/metrics.json")


def sh(repo: Path, *cmd: str, check: bool = True):
    return run(list(cmd), repo, check=check, env={**tool_env(repo), **GIT_ID})


def make(repo: Path, target: str, *args: str, check: bool = True):
    return sh(repo, *make_cmd(target, *args), check=check)


def hashes(repo: Path) -> dict[str, str]:
    return {f: hashlib.sha256((repo / f).read_bytes()).hexdigest() for f in MODEL_FILES}


def predict_in_process(repo: Path) -> list[str]:
    """What the restored model predicts on the test split (scikit-learn, in-process)."""
    model = joblib.load(repo / "models" / "model.joblib")
    test = pd.read_parquet(repo / "data" / "processed" / "test.parquet")
    probabilities = model.predict_proba(model_frame(test, load_profile("penguins").features))
    return [f"{p:.6f}" for p in probabilities.ravel()]


def predict_served(repo: Path, workdir: Path) -> list[dict]:
    """What `make serve` answers for the test split: a real server from models/*.bento.

    The server uses the repo's own BentoML store (as `make serve` does), which holds every
    packaged version: it must serve the archive's model, not the store's latest.
    """
    features = load_profile("penguins", repo / "configs").features.all
    test = pd.read_parquet(repo / "data" / "processed" / "test.parquet")[features]
    records = json.loads(test.to_json(orient="records"))
    server = start_server(repo, workdir, bentoml_home=repo / "bentoml_home")
    try:
        response = httpx.post(f"{server.url}/predict", json={"records": records}, timeout=30)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    # Every answer has its own prediction id: compare the rest.
    return [{k: v for k, v in a.items() if k != "prediction_id"} for a in response.json()]


def set_params(repo: Path, **train) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for key, value in train.items():
        section = params["train"]
        *parents, leaf = key.split(".")
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def retrain_and_commit(repo: Path, message: str, **train) -> None:
    set_params(repo, **train)
    sh(repo, "dvc", "repro")
    sh(repo, "git", "commit", "-qam", message)


@pytest.fixture(scope="module")
def registry(reproduced, tmp_path_factory):
    """v1 (logistic regression) and v2 (random forest) registered, v2 in prod."""
    repo = shutil.copytree(reproduced, tmp_path_factory.mktemp("registry") / "repo", symlinks=True)
    make(repo, "register", "VERSION=v1.0.0")
    served = tmp_path_factory.mktemp("served")
    v1 = {
        "hashes": hashes(repo),
        "card": hashlib.sha256((repo / "reports/model_card.md").read_bytes()).hexdigest(),
        "predictions": predict_in_process(repo),
        "served": predict_served(repo, served / "v1"),
    }
    make(repo, "promote", "VERSION=v1.0.0", "STAGE=prod")
    retrain_and_commit(repo, "random forest", model="random_forest")
    make(repo, "register", "VERSION=v2.0.0")
    make(repo, "promote", "VERSION=v2.0.0", "STAGE=prod")
    v2 = {
        "hashes": hashes(repo),
        "card": hashlib.sha256((repo / "reports/model_card.md").read_bytes()).hexdigest(),
        "predictions": predict_in_process(repo),
        "served": predict_served(repo, served / "v2"),
    }
    return repo, v1, v2


def test_versions_and_stages_are_gto_tags(registry):
    repo, v1, v2 = registry
    tags = sh(repo, "git", "tag").stdout.split()
    assert {"model@v1.0.0", "model@v2.0.0", "model#prod#1", "model#prod#2"} <= set(tags)
    assert "model@v2.0.0" in sh(repo, "gto", "show", "model#prod", "--ref").stdout
    assert v1["hashes"]["models/model.joblib"] != v2["hashes"]["models/model.joblib"]
    assert v1["predictions"] != v2["predictions"]
    assert v1["served"] != v2["served"]


def test_each_version_tag_records_its_model_cards_sha256(registry):
    repo, v1, v2 = registry
    assert v1["card"] != v2["card"]  # another family, another card
    for tag, version in (("model@v1.0.0", v1), ("model@v2.0.0", v2)):
        message = sh(repo, "git", "tag", "-l", "--format=%(contents)", tag).stdout
        assert f"model_card_sha256: {version['card']}" in message, message


def test_rollback_restores_v1_outputs_and_predictions(registry, tmp_path):
    repo, v1, v2 = registry
    head = sh(repo, "git", "rev-parse", "HEAD").stdout

    out = make(repo, "rollback", "VERSION=v1.0.0").stdout

    assert "rolled back to v1.0.0" in out
    assert "models/tabml_service.bento" in out
    assert hashes(repo) == v1["hashes"]
    assert predict_in_process(repo) == v1["predictions"]
    # `make serve` after the rollback serves v1 again: the same answers, to the last digit.
    assert predict_served(repo, tmp_path / "after-rollback") == v1["served"]
    # HEAD stays; the configuration v1 was packaged from is v1's, as the command says.
    assert sh(repo, "git", "rev-parse", "HEAD").stdout == head
    changed = sh(repo, "git", "status", "--porcelain", "--untracked-files=no").stdout
    assert set(changed.split()) == {"M", "dvc.lock", "params.yaml"}
    assert "Roll forward: make rollback VERSION=v2.0.0" in out
    assert "model@v1.0.0" in sh(repo, "gto", "show", "model#prod", "--ref").stdout
    # A rollback state is not "uncommitted changes": rolling forward again needs no FORCE.
    forward = make(repo, "rollback", "VERSION=v2.0.0").stdout
    assert "rolled forward to v2.0.0" in forward
    assert hashes(repo) == v2["hashes"]
    assert sh(repo, "git", "status", "--porcelain", "--untracked-files=no").stdout == ""
    assert "model@v2.0.0" in sh(repo, "gto", "show", "model#prod", "--ref").stdout


def test_rollback_refuses_uncommitted_lock_changes_unless_forced(registry):
    repo, v1, _ = registry
    lock = repo / "dvc.lock"
    lock.write_text(lock.read_text() + "# local edit\n")

    refused = make(repo, "rollback", "VERSION=v1.0.0", check=False)
    assert refused.returncode != 0
    assert "uncommitted changes" in refused.stderr and "FORCE=1" in refused.stderr
    assert lock.read_text().endswith("# local edit\n")

    make(repo, "rollback", "VERSION=v1.0.0", "FORCE=1")
    assert hashes(repo) == v1["hashes"]
    make(repo, "rollback", "VERSION=v2.0.0")


def test_unknown_version_is_refused(registry):
    repo, _, _ = registry
    result = make(repo, "rollback", "VERSION=v9.9.9", check=False)
    assert result.returncode != 0 and "model@v9.9.9 is not registered" in result.stderr


@pytest.mark.slow  # one more train + evaluate; the gate itself is unit-tested
def test_a_model_failing_the_metric_gate_is_neither_packaged_nor_registered(registry):
    repo, _, _ = registry
    bento = repo / "models/tabml_service.bento"
    packaged = hashlib.sha256(bento.read_bytes()).hexdigest()
    set_params(repo, model="logistic_regression", **{"logistic_regression.C": 0.0001})

    # The package stage enforces the gate: `dvc repro` stops there, the last bento stays.
    result = sh(repo, "dvc", "repro", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "metric gate(s) failed" in output and "below the minimum" in output
    assert hashlib.sha256(bento.read_bytes()).hexdigest() == packaged

    # Nor can the state be registered, before or after committing it.
    result = make(repo, "register", "VERSION=v3.0.0", check=False)
    assert result.returncode != 0 and "uncommitted pipeline changes" in result.stderr
    sh(repo, "git", "commit", "-qam", "crippled model")
    try:
        result = make(repo, "register", "VERSION=v3.0.0", check=False)
        assert result.returncode != 0 and "differ from dvc.lock" in result.stderr
        assert "model@v3.0.0" not in sh(repo, "git", "tag").stdout.split()
    finally:
        sh(repo, "git", "reset", "-q", "--hard", "HEAD~1")
        sh(repo, "dvc", "checkout", "--force")


def test_register_refuses_uncommitted_pipeline_changes(registry):
    repo, _, _ = registry
    set_params(repo, seed=7)
    result = make(repo, "register", "VERSION=v4.0.0", check=False)
    assert result.returncode != 0 and "uncommitted" in result.stderr
    sh(repo, "git", "checkout", "--", "params.yaml")


def test_the_latest_assignment_holds_the_stage_and_a_version_can_return_to_it(registry):
    from tabml.registry import current_in_stage

    repo, _, _ = registry
    for version in ("v1.0.0", "v2.0.0", "v1.0.0", "v2.0.0"):  # back and forth, as gto shows
        out = make(repo, "promote", f"VERSION={version}", "STAGE=prod").stdout
        assert f"model {version} assigned to stage prod" in out
        assert f"model@{version}" in sh(repo, "gto", "show", "model#prod", "--ref").stdout
        assert current_in_stage("prod", "model", repo) == version
    again = make(repo, "promote", "VERSION=v2.0.0", "STAGE=prod").stdout
    assert "already in stage prod" in again


def test_a_registered_version_scores_beside_the_champion_as_a_shadow(registry, tmp_path):
    """`make batch SHADOW=v1.0.0` with v2 in the workspace: v1's bento comes from the DVC
    cache at its tag, and the same rows are written by both models; an unknown version is
    one line before any row is written."""
    repo = registry[0]
    db = tmp_path / "both.db"
    out = make(repo, "batch", "INPUT=data/processed/test.parquet", f"DB=sqlite:///{db}",
               "SHADOW=v1.0.0").stdout  # fmt: skip
    v1_tag = next(
        line.split(": ", 1)[1]
        for line in sh(
            repo, "git", "tag", "-l", "--format=%(contents)", "model@v1.0.0"
        ).stdout.splitlines()
        if line.startswith("model_tag: ")
    )
    assert f"shadow v1.0.0 ({v1_tag})" in out and out.count(" 104 predictions") == 2
    with sqlite3.connect(db) as con:
        versions = dict(con.execute(
            "SELECT model_version, COUNT(*) FROM predictions GROUP BY model_version"
        ).fetchall())  # fmt: skip
    assert versions[v1_tag] == 104 and len(versions) == 2 and sum(versions.values()) == 208
    refused = make(repo, "batch", "INPUT=data/processed/test.parquet", f"DB=sqlite:///{db}",
                   "SHADOW=v9.9.9", check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "error: no registered version 'v9.9.9' (registered: v1.0.0, v2.0.0" in refused.stderr
