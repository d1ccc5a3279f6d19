"""Champion + shadow + canary in one real server (two workers) over HTTP: answers, logs,
labels, the paired report against scikit-learn, and a crashing shadow that changes nothing.

The canary is another model family (random forest) packaged from the session's workspace;
the shadow is the champion's own ONNX model with rules that refuse every island but Biscoe,
so it fails on most requests, as a challenger expecting other inputs would.
"""

import io
import json
import subprocess
import sys
import tarfile
import time

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score, log_loss

from tabml import paths
from tabml.scoring.packaged import read_model
from tabml.serving.challengers import in_share
from testkit.workspace import run_stages, write_params
from tests.service.server import metric_samples, server_env, start_server

ENTITY_ON_CHAMPION = next(f"entity-{i}" for i in range(100) if not in_share(f"entity-{i}", 0.5))


def narrowed_bento(source, target, island: str = "Biscoe") -> str:
    """A copy of `source`'s model (same ONNX) whose rules allow one island, under a new tag."""
    info, onnx_bytes = read_model(source)
    info["version"] = "narrowed00000001"
    for rule in info["metadata"]["domain_rules"]:
        if rule["name"] == "island":
            rule["allowed"] = [island]
    folder = f"./models/{info['name']}/{info['version']}"
    with tarfile.open(target, "w:xz") as tar:
        for name, data in (("model.yaml", yaml.safe_dump(info).encode()),
                           ("model.onnx", onnx_bytes)):  # fmt: skip
            member = tarfile.TarInfo(f"{folder}/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return f"{info['name']}:{info['version']}"


@pytest.fixture(scope="module")
def forest(packaged_repo, tmp_path_factory):
    """The session's workspace with a random forest trained and packaged instead."""
    import shutil

    workspace = tmp_path_factory.mktemp("forest") / "ws"
    shutil.copytree(packaged_repo, workspace, symlinks=True)
    write_params(workspace, **{"train.model": "random_forest"})
    run_stages(workspace, "train", "evaluate", "package")
    return workspace / paths.BENTO_ARCHIVE


def shadow_rows_done(http: httpx.Client, rows: int, timeout: float = 30.0) -> dict:
    """/metrics' challenger counts once the shadow has handled `rows` records (it scores on
    a thread, after the answers)."""
    deadline = time.monotonic() + timeout
    while True:
        found = metric_samples(http, "tabml_challenger_rows_total")
        done = sum(v for k, v in found.items() if "shadow" in k and "load_errors" not in k)
        if done >= rows or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def answer_bytes(response: httpx.Response) -> bytes:
    """The answer's bytes with its prediction ids masked (they are new on every request)."""
    answers = response.json()
    masked = response.content
    for answer in answers:
        masked = masked.replace(answer["prediction_id"].encode(), b"<id>")
    return masked


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_champion_shadow_and_canary_over_http(
    packaged_repo, forest, client, test_records, tmp_path
):
    narrowed = tmp_path / "narrowed.bento"
    narrowed_tag = narrowed_bento(packaged_repo / paths.BENTO_ARCHIVE, narrowed)
    forest_tag = "{name}:{version}".format(**read_model(forest)[0])
    workdir = tmp_path / "server"
    challengers = workdir / "challengers"
    server = start_server(
        packaged_repo, workdir, args=("--shadow", str(narrowed), "--canary", f"{forest}:0.5"),
        TABML_WORKERS="2", TABML_CHALLENGER_LOG_DIR=str(challengers),
    )  # fmt: skip
    truth = pd.read_parquet(packaged_repo / "data/processed/test.parquet")["species"].tolist()
    champion_only, answered, failures = [], [], 0
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for i in range(0, len(test_records), 4):
                body = {"records": test_records[i : i + 4]}
                alone = client.post("/predict", json=body)  # the session's champion-only server
                # An entity outside the canary's share: the champion answers, the shadow scores.
                pinned = http.post("/predict", json=body,
                                   headers={"X-Entity-Key": ENTITY_ON_CHAMPION})  # fmt: skip
                shared = http.post("/predict", json=body)  # the canary answers about half
                failures += sum(r.status_code != 200 for r in (alone, pinned, shared))
                assert answer_bytes(pinned) == answer_bytes(alone)  # byte for byte, but the ids
                champion_only += alone.json()
                answered += shared.json()
            labels = [{"prediction_id": a["prediction_id"], "label": y}
                      for a, y in zip(answered, truth, strict=True)]  # fmt: skip
            assert http.post("/feedback", json={"labels": labels}).status_code == 200
            rows = shadow_rows_done(http, 2 * len(test_records))
    finally:
        server.stop()  # flushes the logs
    assert failures == 0  # the crashing shadow changed no status code
    errors = sum(v for k, v in rows.items() if 'outcome="errors"' in k and "shadow" in k)
    assert errors > 0  # it did crash, counted on /metrics
    by_canary = [i for i, a in enumerate(answered) if a["model_version"] == forest_tag]
    assert 0.3 * len(answered) < len(by_canary) < 0.7 * len(answered)
    assert {a["model_version"] for a in answered} - {forest_tag} == {
        champion_only[0]["model_version"]
    }
    for i, answer in enumerate(answered):  # what the champion answered is the champion's
        if i not in by_canary:
            assert answer["probabilities"] == champion_only[i]["probabilities"]

    out = tmp_path / "monitor"
    done = subprocess.run(
        [sys.executable, "-m", "tabml.cli", "monitor", "--out", str(out)], cwd=packaged_repo,
        env=server_env(TABML_REQUEST_LOG_DIR=str(workdir / "requests"), PYTHONPATH="src",
                       TABML_FEEDBACK_LOG_DIR=str(workdir / "feedback"),
                       TABML_CHALLENGER_LOG_DIR=str(challengers)),
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    report = json.loads((out / "paired.json").read_text())
    pairs = {pair["challenger"]: pair for pair in report["pairs"]}

    # The canary's answers vs the champion's for the same records (scikit-learn on the pairs).
    classes = sorted(champion_only[0]["probabilities"])
    y = [truth[i] for i in by_canary]
    canary_pair = pairs[forest_tag]
    assert canary_pair["pairs"] == len(by_canary)
    for side, answers in (("challenger", [answered[i] for i in by_canary]),
                          ("served", [champion_only[i] for i in by_canary])):  # fmt: skip
        got = {name: m[side] for name, m in canary_pair["metrics"].items()}
        predicted = [a["species"] for a in answers]
        proba = np.array([[a["probabilities"][c] for c in classes] for a in answers])
        assert got["accuracy"] == pytest.approx(accuracy_score(y, predicted))
        assert got["f1_macro"] == pytest.approx(f1_score(y, predicted, average="macro"))
        assert got["log_loss"] == pytest.approx(log_loss(y, proba, labels=classes), rel=1e-5)
    for metric in canary_pair["metrics"].values():
        assert metric["interval"][0] <= metric["difference"] <= metric["interval"][1]

    # The crashing shadow scored only Biscoe's penguins: the champion's own model, so no
    # difference; its errors are in the report's counts and in make monitor's lines.
    biscoe = sum(r["island"] == "Biscoe" for r in test_records)
    shadow_pair = pairs[narrowed_tag]
    assert 0 < shadow_pair["pairs"] <= biscoe
    assert all(m["difference"] == 0 for m in shadow_pair["metrics"].values())
    status = next(v for k, v in report["status"].items() if k.startswith("shadow"))
    # A request the shadow refuses counts all its records as errors (requests of 4 records;
    # twice: the pinned and the shared pass); only the shared pass got labels.
    assert status["errors"] == errors
    assert status["scored"] + status["errors"] == 2 * len(test_records)
    assert status["scored"] == 2 * shadow_pair["pairs"]
    assert "errors" in done.stdout and "paired:" in done.stdout
