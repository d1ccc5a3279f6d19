"""The production loop's documented sequences, run exactly as the README types them, in
order, in a fresh copy of the repository (testkit.repo_copy, reproduced once per session),
with the registry checked against `gto show` after every step:

- sweep -> best APPLY=1 -> serve (the README's experiment block, on a 2-experiment grid);
- register -> promote -> serve -> monitor (alert) -> harvest -> retrain PROMOTE=0 ->
  retrain (promotion) -> rollback -> serve -> batch -> roll forward -> serve -> monitor
  (the retired version does not alert): the README's continuous-training blocks.

Each README line runs in bash as typed, in the environment a new user has (no virtualenv
active; the copy's `.venv` links to this checkout's). The one change: `make serve PORT=3000`
gets a free port, and between the lines that start a server the test plays the clients
(predictions, and true labels sent with the feedback key).
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.registry import current_in_stage, registered_versions
from testkit import ROOT, VENV_BIN
from tests.pipeline.test_readme import user_env
from tests.service.server import free_port

FEEDBACK_KEY = "labeller-key-0123456789"
SHIFT_MM = 12.0  # bills 12 mm longer than any in training (the monitoring test's shift)
BLOCK = re.compile(r"```bash\n(?P<body>.*?)```", re.S)


def section_commands(heading: str, readme: Path = ROOT / "README.md") -> list[str]:
    """Every command line of the bash blocks under a README `## heading`, comments cut."""
    text = readme.read_text()
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else None]
    lines = [line for m in BLOCK.finditer(section) for line in m["body"].splitlines()]
    return [re.sub(r"\s+#.*$", "", line).strip() for line in lines if line.strip()]


class Workspace:
    """A fresh, reproduced copy the README's commands run in, as a new user runs them."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.env = {**user_env(), "BENTOML_DO_NOT_TRACK": "True", "DVC_NO_ANALYTICS": "1"}
        for name in ("TABML_REQUEST_LOG_DIR", "TABML_FEEDBACK_LOG_DIR", "BENTOML_HOME"):
            self.env.pop(name, None)

    def run(self, line: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", line], cwd=self.repo, env=self.env,
                              capture_output=True, text=True, timeout=900)  # fmt: skip

    def ok(self, line: str) -> str:
        done = self.run(line)
        assert done.returncode == 0, f"{line}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def prod(self) -> str | None:
        """What `gto show` says is in prod, checked against tabml's own answer."""
        done = self.run("source .venv/bin/activate && gto show model#prod --ref")
        nothing = "Cannot find artifact 'model'" in done.stderr  # nothing registered yet
        assert done.returncode == 0 or nothing, done.stderr
        shown = done.stdout.strip().removeprefix("model@") or None
        assert current_in_stage("prod", "model", self.repo) == shown
        return shown

    def serve(self, line: str, env: dict[str, str] | None = None) -> "Served":
        port = free_port()
        command = line.replace("PORT=3000", f"PORT={port}")
        assert command != line, "the README's serve line names PORT=3000"
        log = (self.repo / f"serve-{port}.log").open("w")
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.repo, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**self.env, **(env or {})})  # fmt: skip
        return Served(proc, f"http://127.0.0.1:{port}", self.repo / f"serve-{port}.log").ready()


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self.url, self.log = proc, url, log

    def ready(self, timeout: float = 180) -> "Served":
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server not ready\n" + self.log.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)

    def stop(self) -> None:
        """SIGTERM to the whole group: the workers flush their logs on the way out."""
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def shifted_population(repo: Path) -> tuple[list[dict], list[str]]:
    """Every penguin with a bill length, the bill 12 mm longer, and its true species."""
    profile = load_profile("penguins", repo / "configs")
    frame = pd.read_csv(repo / "data/raw/dataset.csv").dropna(subset=["bill_length_mm"])
    frame = frame.assign(bill_length_mm=frame["bill_length_mm"] + SHIFT_MM)
    frame = frame.sample(frac=1.0, random_state=0)
    records = frame[profile.features.all].astype(object)
    return records.where(records.notna(), None).to_dict("records"), frame[profile.target].tolist()


def traffic(served: Served, records: list[dict], truth: list[str] | None) -> list[dict]:
    """Predictions in requests of 50 and, with `truth`, their labels with the feedback key."""
    answers = []
    with httpx.Client(base_url=served.url, timeout=60) as http:
        for start in range(0, len(records), 50):
            response = http.post("/predict", json={"records": records[start : start + 50]})
            assert response.status_code == 200, response.text
            answers += response.json()
        if truth is not None:
            labels = [{"prediction_id": a["prediction_id"], "label": y}
                      for a, y in zip(answers, truth, strict=True)]  # fmt: skip
            body = {"labels": labels, "source": "field-team"}
            auth = {"Authorization": f"Bearer {FEEDBACK_KEY}"}
            written = http.post("/feedback", json=body, headers=auth)
            assert written.json() == {"accepted": len(labels), "refused": 0}, written.text
    return answers


@pytest.fixture(scope="module")
def workspace(reproduced, tmp_path_factory) -> Workspace:
    repo = Path(shutil.copytree(reproduced, tmp_path_factory.mktemp("loop") / "repo",
                                symlinks=True))  # fmt: skip
    (repo / ".venv").symlink_to(VENV_BIN.parent)
    return Workspace(repo)


def test_the_readme_covers_the_sequences_these_tests_run():
    assert section_commands("Continuous training") == [
        "make register VERSION=v1.0.0",
        "make promote VERSION=v1.0.0 STAGE=prod",
        "make serve PORT=3000",
        "make monitor",
        "make harvest",
        'make retrain PROMOTE=0 SET="train.hgb.l2_regularization=2.0"',
        'make retrain SET="train.hgb.l2_regularization=2.0"',
        "make registry",
        "make rollback VERSION=v1.0.0",
        "make serve PORT=3000",
        "make batch INPUT=data/processed/test.parquet",
        "make rollback VERSION=v1.1.0",
        "make serve PORT=3000",
        "make monitor",
    ]
    daily = section_commands("The daily loop: change, run, review")
    assert daily[daily.index("make sweep") :][:3] == [
        "make sweep", "make best METRIC=f1_macro APPLY=1", "make serve PORT=3000"]  # fmt: skip


@pytest.mark.slow
def test_register_promote_retrain_rollback_serve_roll_forward_and_monitor(workspace):
    ws, repo = workspace, workspace.repo
    records, truth = shifted_population(repo)
    expected_prod = {
        "make register VERSION=v1.0.0": None,
        "make promote VERSION=v1.0.0 STAGE=prod": "v1.0.0",
        "make monitor": "v1.0.0",
        "make harvest": "v1.0.0",
        'make retrain PROMOTE=0 SET="train.hgb.l2_regularization=2.0"': "v1.0.0",
        'make retrain SET="train.hgb.l2_regularization=2.0"': "v1.1.0",
        "make registry": "v1.1.0",
        "make rollback VERSION=v1.0.0": "v1.0.0",
        "make batch INPUT=data/processed/test.parquet": "v1.0.0",
        "make rollback VERSION=v1.1.0": "v1.1.0",
    }
    tags: dict[str, str] = {}
    monitors = serves = 0
    for line in section_commands("Continuous training"):
        if line.startswith("make serve"):
            served = ws.serve(line, {"TABML_FEEDBACK_KEY": FEEDBACK_KEY})
            prod, serves = ws.prod(), serves + 1
            assert prod == {1: "v1.0.0", 2: "v1.0.0", 3: "v1.1.0"}[serves]
            try:
                # the champion's traffic, labelled; after the rollback v1's answers again;
                # rolled forward, v1.1.0's traffic, labelled
                sent = (records, truth) if serves != 2 else (records[:60], None)
                answers = traffic(served, *sent)
                # a prediction client cannot label: /feedback takes the feedback key only
                assert httpx.post(f"{served.url}/feedback", json={"labels": []},
                                  timeout=10).status_code == 401  # fmt: skip
                header = httpx.post(f"{served.url}/predict", json={"records": records[:1]},
                                    timeout=10).headers  # fmt: skip
            finally:
                served.stop()
            tags.setdefault(prod, answers[0]["model_version"])
            assert {a["model_version"] for a in answers} == {tags[prod]}
            assert header["x-registry-version"] == prod
            assert header["x-model-version"] == tags[prod]
            continue
        done = ws.run(line)
        monitors += line == "make monitor"
        if line == "make monitor" and monitors == 1:
            assert done.returncode == 2 and "Error 3" in done.stderr, done.stdout + done.stderr
            assert re.search(rf"^v1\.0\.0 \({tags['v1.0.0']}\)  ALERT  ", done.stdout, re.M)
            assert "Labels by source: http:field-team 342" in done.stdout
        elif line == "make monitor":
            assert done.returncode == 0, done.stdout + done.stderr
            assert re.search(r"^v1\.0\.0 \(\S+\)  ALERT \(retired: replaced by v1\.1\.0 ",
                             done.stdout, re.M)  # fmt: skip
            assert re.search(r"^v1\.1\.0 \(\S+\)  OK  ", done.stdout, re.M), done.stdout
        else:
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        after = "v1.1.0" if monitors == 2 else expected_prod[line]  # the second monitor
        assert ws.prod() == after, line
        check_step(ws, line, done.stdout, tags)
    # the second retrain registered v1.1.0 (the first decided only), named in the decision
    decision = json.loads((repo / "reports/retrain/decision.json").read_text())
    assert decision["registered"] == {"version": "v1.1.0", "stage": "prod"}
    assert decision["overrides"] == ["train.hgb.l2_regularization=2.0"]
    assert decision["data"]["labels_by_source"] == {"http:field-team": 342}


def check_step(ws: Workspace, line: str, out: str, tags: dict[str, str]) -> None:
    """What each README step must have done, beyond its exit code and the registry."""
    repo = ws.repo
    status = ws.ok("git status --porcelain --untracked-files=no")
    if line == "make harvest":
        # the harvest stays in the workspace: the retrain accepts it as it is
        assert {p.split()[-1] for p in status.splitlines()} == {"configs/penguins.yaml"} and (
            repo / "data/production/labelled.parquet.dvc"
        ).exists()
    elif line.startswith("make retrain PROMOTE=0"):
        assert "not promoted (--no-promote)" in out and re.search(r"retrain \[\dm\d\ds\]: ", out)
        assert "challenger: stage train running" in out
        decision = json.loads((repo / "reports/retrain/decision.json").read_text())
        assert decision["verdict"] == "promote" and decision["registered"] is None
    elif line.startswith("make retrain"):
        assert "registered v1.1.0" in out and status == ""  # HEAD is the winner's commit
        head = ws.ok("git rev-parse HEAD").strip()
        assert {v.version: v.commit for v in registered_versions(repo)}["v1.1.0"] == head
        assert ws.ok("grep -c '    l2_regularization: 2.0' params.yaml").strip() == "1"
    elif line == "make registry":
        assert re.search(r"model\s+│\s+v1\.1\.0\s+│\s+v1\.1\.0", out), out
    elif line == "make rollback VERSION=v1.0.0":
        assert (
            "rolled back to v1.0.0" in out and "Roll forward: make rollback VERSION=v1.1.0" in out
        )
        changed = {p.split()[-1] for p in status.splitlines()}
        assert {"params.yaml", "dvc.lock", "configs/penguins.yaml"} <= changed
        assert ws.ok("grep -c '    l2_regularization: 1.0' params.yaml").strip() == "1"
    elif line.startswith("make batch"):
        assert f"(v1.0.0 ({tags['v1.0.0']}))" in out, out
        with sqlite3.connect(repo / "predictions.db") as db:
            rows = set(db.execute("SELECT DISTINCT model_version, git_sha FROM predictions"))
        v1 = {v.version: v.commit for v in registered_versions(repo)}["v1.0.0"]
        assert rows == {(tags["v1.0.0"], v1)}  # the model and commit actually scored
    elif line == "make rollback VERSION=v1.1.0":
        assert "rolled forward to v1.1.0" in out and status == ""


@pytest.mark.slow
def test_sweep_then_best_apply_then_serve(reproduced, tmp_path):
    repo = Path(shutil.copytree(reproduced, tmp_path / "repo", symlinks=True))
    (repo / ".venv").symlink_to(VENV_BIN.parent)
    ws = Workspace(repo)
    # the grid is configuration: two experiments instead of sweep.yaml's eight
    (repo / "sweep.yaml").write_text("logistic_regression:\n  C: [0.02, 1.0]\n")
    ws.ok("git commit -qm 'a small grid' sweep.yaml")
    daily = section_commands("The daily loop: change, run, review")
    sweep, best, serve = daily[daily.index("make sweep") :][:3]
    out = ws.ok(sweep)
    assert ws.prod() is None
    assert re.search(r"^sweep: queued experiment 2 of 2: ", out, re.M)
    assert re.search(r"^sweep: experiment [12] of 2 running \(stage \w+\)", out, re.M), out
    out = ws.ok(best)
    assert ws.prod() is None
    winner = re.search(r"^best: (\S+) f1_macro=(\S+)", out, re.M)
    assert f"best: {winner[1]} is packaged" in out
    metrics = json.loads((repo / "reports/metrics.json").read_text())
    assert metrics["f1_macro"] == float(winner[2])
    served = ws.serve(serve)
    try:
        body = {"records": shifted_population(repo)[0][:5]}
        answer = httpx.post(f"{served.url}/predict", json=body, timeout=30)
    finally:
        served.stop()
    assert ws.prod() is None
    assert answer.status_code == 200, answer.text
    bento = json.loads(ws.ok(
        "source .venv/bin/activate && python -c \"import json; from tabml.scoring.packaged "
        "import read_model; i, _ = read_model('models/tabml_service.bento'); "
        "print(json.dumps({'tag': i['name'] + ':' + i['version'], 'metrics': "
        "i['metadata']['metrics']}))\""))  # fmt: skip
    assert answer.json()[0]["model_version"] == bento["tag"]
    assert bento["metrics"]["f1_macro"] == float(winner[2])  # the served model is the winner
