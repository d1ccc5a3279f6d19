"""The shape matrix end to end, as a user runs it: every generated table (testkit/shapes.py)
through `bootstrap` -> `dvc repro` -> `/predict` over HTTP on a real server (with and without
`"explain": true`) -> batch (CSV and parquet with BINARY categories) -> feedback -> `make
monitor`.

Asserted for each table: no 5xx and no traceback anywhere (commands, server log); online,
batch and in-process scikit-learn agree within the parity tolerance; explanations add up to
the answers; invalid values get field errors naming the field (400) and batch rejects. The
in-process twin (every table, seconds) is tests/model/test_shape_matrix.py.
"""

import json
import sqlite3

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from tabml.model.features import model_frame
from tabml.monitoring.contracts import read_monitor_report
from testkit import make_cmd, run, shapes, tool_env
from tests.service.server import start_server

pytestmark = pytest.mark.slow
# Values of every JSON type, sent in every field: none may get a 5xx.
ODD_VALUES = [True, 1e308, -1, 0, "", "\U0001f4a5", [], {}, None, "1e5", 3.5, "2019-02-30"]


def _env(repo, server=None) -> dict:
    env = {**tool_env(repo), "PYTHONPATH": str(repo / "src")}  # the copy's own code
    if server is not None:
        env.update(TABML_REQUEST_LOG_DIR=str(server.request_log),
                   TABML_FEEDBACK_LOG_DIR=str(server.feedback_log))  # fmt: skip
    return env


def _no_traceback(*results) -> None:
    for result in results:
        text = result if isinstance(result, str) else result.stdout + result.stderr
        assert "Traceback" not in text, text[-3000:]


@pytest.mark.parametrize("shape", shapes.SHAPES, ids=lambda s: s.name)
def test_a_table_of_this_shape_goes_all_the_way(shape, repo_copy_factory, tmp_path):
    repo = repo_copy_factory(shape.name)
    frame = shapes.make_table(shape)
    csv = f"data/external/{shape.name}.csv"
    (repo / "data/external").mkdir(parents=True, exist_ok=True)
    frame.to_csv(repo / csv, index=False)
    categorical = [a for c in shape.categorical for a in ("--categorical", c)]
    cmd = ["python", "-m", "tabml.cli", "bootstrap", csv, "--name", shape.name, "--target", "y"]
    booted = run([*cmd, *categorical], repo, env=_env(repo))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"], params["sources"] = shape.name, [csv]
    params["train"]["model"] = shape.family
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "add", "-A"], repo)
    repro = run(["dvc", "repro"], repo, env=_env(repo))
    _no_traceback(booted, repro)

    profile = yaml.safe_load((repo / f"configs/{shape.name}.yaml").read_text())
    features = [*profile["features"]["numeric"], *profile["features"]["categorical"],
                *profile["features"].get("dates", {})]  # fmt: skip
    test = pd.read_parquet(repo / "data/processed/test.parquet")
    records = shapes.records(test, features)
    server = start_server(repo, tmp_path / "server")
    try:
        answered = httpx.post(f"{server.url}/predict", json={"records": records}, timeout=60)
        explained = httpx.post(
            f"{server.url}/predict", json={"records": records[:10], "explain": 2}, timeout=60
        )
        refused = [
            (field, httpx.post(f"{server.url}/predict", json={"records": [record]}))
            for record, field in shapes.invalid_records(shape, records[0])
        ]
        odd = [{**records[0], name: value} for name in features for value in ODD_VALUES]
        statuses = {httpx.post(f"{server.url}/predict", json={"records": [r]}).status_code
                    for r in odd}  # fmt: skip
    finally:
        server.stop()  # flushes the request log
    _no_traceback(server.output.read_text())
    assert max(statuses) < 500, statuses  # any value of any JSON type: an answer or a 400
    assert answered.status_code == 200, answered.text
    assert explained.status_code == 200, explained.text
    for field, response in refused:
        assert response.status_code == 400, (field, response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [field]
    answers = answered.json()

    # online == in-process scikit-learn, within the parity tolerance; explanations add up
    pipeline = joblib.load(repo / "models/model.joblib")
    from tabml.data.profile import load_profile

    X = model_frame(test, load_profile(shape.name, repo / "configs").features)
    if shape.task == "regression":
        online = np.array([a["y"] for a in answers])
        np.testing.assert_allclose(online, pipeline.predict(X), rtol=1e-5, atol=1e-3)
        values = [a["y"] for a in explained.json()]
    else:
        assert [a["y"] for a in answers] == pipeline.predict(X).tolist()
        proba = [list(a["probabilities"].values()) for a in answers]
        np.testing.assert_allclose(proba, pipeline.predict_proba(X), atol=1e-5)
        values = [a["probabilities"][a["y"]] for a in explained.json()]
    for value, answer in zip(values, explained.json(), strict=True):
        e = answer["explanation"]
        total = e["base_value"] + e["other_features"]
        total += sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(value, rel=1e-5, abs=1e-6)

    # batch: the CSV and the parquet with BINARY categories give the online answers
    test[features].to_csv(tmp_path / "batch.csv", index=False)
    shapes.parquet_with_bytes(test[features], tmp_path / "batch.parquet")
    db = tmp_path / "out.db"
    cli = ["python", "-m", "tabml.cli", "batch"]
    for source in ("batch.csv", "batch.parquet"):
        scored = run([*cli, str(tmp_path / source), "--db", f"sqlite:///{db}"], repo,
                     env=_env(repo))  # fmt: skip
        _no_traceback(scored)
        assert f"{len(test)} predictions, 0 rejects" in scored.stdout
    predicted = "prediction" if shape.task == "regression" else "label"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT input, {predicted}, prediction_id FROM predictions p "
            "JOIN batches b USING (batch_id) ORDER BY input, input_row"
        ).fetchall()
    by_file = {}
    for source, value, pid in rows:
        by_file.setdefault(source, []).append((value, pid))
    assert len(by_file) == 2
    for found in by_file.values():
        assert [v for v, _ in found] == [a["y"] for a in answers]

    # feedback for every online and batch prediction, then the monitor's verdicts
    ids = [a["prediction_id"] for a in answers] + [pid for f in by_file.values() for _, pid in f]
    truth = test["y"].tolist() * 3
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": ids, "label": truth}).to_csv(labels, index=False)
    imported = run(make_cmd("feedback", f"INPUT={labels}"), repo, env=_env(repo, server))
    monitor = run(make_cmd("monitor", f"DB=sqlite:///{db}", "WINDOW=30d"), repo,
                  env=_env(repo, server), check=False)  # fmt: skip
    _no_traceback(imported, monitor)
    assert monitor.returncode in (0, 3), monitor.stdout + monitor.stderr  # 3: an alert
    assert f"{len(ids):,} labelled, 0 unmatched" in monitor.stdout
    report = read_monitor_report(repo / "reports/monitor/windows.json")
    assert report.task == ("regression" if shape.task == "regression" else "classification")
    assert json.loads((repo / "reports/monitor/metrics.json").read_text())["versions"]
