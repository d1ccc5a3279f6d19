"""The regression profile end to end: real `dvc exp run`, a real server, the real CLI.

`dvc exp run -S data.profile=penguins_mass` (the default `auto`) in a repo copy, then
`/predict` over HTTP (answers checked against the served OpenAPI document), numeric labels on
`/feedback`, `python -m tabml.cli batch` into SQLite, `make feedback` for the batch rows,
`make monitor` (live rmse, mae and interval coverage checked against scikit-learn), and
`python -m tabml.cli drift`. The fast in-process equivalent is tests/unit/test_regression.py.
"""

import json
import math
import sqlite3

import httpx
import joblib
import jsonschema
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from testkit import make_cmd, run, tool_env
from tests.service.server import start_server

PROFILE = ["-S", "data.profile=penguins_mass"]
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island", "sex"]


def _env(repo):
    return {**tool_env(repo), "PYTHONPATH": str(repo / "src")}  # the copy's own code


def test_regression_profile_end_to_end(repo_copy_factory, tmp_path):
    repo = repo_copy_factory("regression")
    # a classifier family named for a regression profile: one line naming train.model and the task
    named = ["-S", "train.model=logistic_regression"]
    wrong = run(["dvc", "exp", "run", *PROFILE, *named], repo, check=False)
    assert wrong.returncode != 0
    assert "error: train.model is 'logistic_regression', but profile 'penguins_mass' has " in (
        wrong.stdout + wrong.stderr
    )
    assert "Traceback" not in wrong.stdout + wrong.stderr

    # the default `auto` fits either task (set again: the failed run left its -S behind)
    run(["dvc", "exp", "run", *PROFILE, "-S", "train.model=auto"], repo)
    metrics = json.loads((repo / "reports/metrics.json").read_text())
    stats = json.loads((repo / "models/training_stats.json").read_text())["regression"]
    test = pd.read_parquet(repo / "data/processed/test.parquet")
    y = test["body_mass_g"].to_numpy(dtype=np.float64)
    # independent reference: scikit-learn's metrics of the saved pipeline's predictions
    pipeline = joblib.load(repo / "models/model.joblib")
    frame = test[FEATURES].astype({c: np.float32 for c in FEATURES[:3]})
    frame[["island", "sex"]] = frame[["island", "sex"]].fillna("").astype(object)
    predicted = pipeline.predict(frame)
    assert metrics["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, predicted)), abs=1e-5)
    assert metrics["r2"] == pytest.approx(r2_score(y, predicted), abs=1e-6)
    assert metrics["r2"] >= 0.7 and metrics["rmse"] < metrics["baseline"]["rmse"]
    assert abs(metrics["interval_coverage"] - 0.9) <= 0.1
    assert metrics["test_rows"] == len(test) and "accuracy" not in metrics
    plots = repo / "reports/plots"
    assert json.loads((plots / "confusion.json").read_text()) == []
    assert len(json.loads((plots / "predicted_actual.json").read_text())) == len(test)

    half = stats["interval"]["half_width"]
    records = json.loads(test[FEATURES].to_json(orient="records"))
    server = start_server(repo, tmp_path / "server")
    try:
        response = httpx.post(f"{server.url}/predict", json={"records": records}, timeout=30)
        explained = httpx.post(
            f"{server.url}/predict", json={"records": records[:1], "explain": True}
        )
        spec = httpx.get(f"{server.url}/docs.json").json()
        ids = [a["prediction_id"] for a in response.json()]
        labels = [{"prediction_id": i, "label": float(v)} for i, v in zip(ids, y, strict=True)]
        feedback = httpx.post(f"{server.url}/feedback", json={"labels": labels}, timeout=30)
        not_a_number = {"labels": [{"prediction_id": ids[0], "label": "heavy"}]}
        refused = httpx.post(f"{server.url}/feedback", json=not_a_number)
    finally:
        server.stop()  # flushes the request and feedback logs
    assert feedback.status_code == 200 and feedback.json() == {"accepted": len(y), "refused": 0}
    assert refused.status_code == 400 and '"label"' in refused.text
    _check_openapi(spec, response.json())
    # a regression model's value is explained: the contributions add up to it
    assert explained.status_code == 200, explained.text
    (answer,) = explained.json()
    e = answer["explanation"]
    total = (
        e["base_value"] + e["other_features"] + sum(c["contribution"] for c in e["contributions"])
    )
    assert "class" not in e and total == pytest.approx(answer["body_mass_g"], rel=1e-6)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert len(answers) == len(test)
    assert all("probabilities" not in a and {"body_mass_g", "interval", "warnings"} <= set(a)
               for a in answers)  # fmt: skip
    served = np.array([a["body_mass_g"] for a in answers])
    np.testing.assert_allclose(served, predicted, atol=1e-2)
    low, high = np.array([a["interval"] for a in answers]).T
    np.testing.assert_allclose(high - low, 2 * half)
    assert np.mean((low <= y) & (y <= high)) == pytest.approx(metrics["interval_coverage"])

    source = tmp_path / "inputs.csv"
    test.to_csv(source, index=False)
    db = tmp_path / "out.db"
    cli = ["python", "-m", "tabml.cli"]
    batch = run([*cli, "batch", str(source), "--db", f"sqlite:///{db}"], repo, env=_env(repo))
    assert f"{len(test)} predictions, 0 rejects" in batch.stdout
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT prediction, interval_low, interval_high FROM predictions ORDER BY input_row"
        ).fetchall()
    np.testing.assert_array_equal(np.array(rows), np.column_stack([served, low, high]))

    drift = run([*cli, "drift", "--input", str(source), "--out", str(tmp_path / "drift")], repo,
                env=_env(repo))  # fmt: skip
    assert f"drift: {len(test)} rows from {source}; drifted: none" in drift.stdout

    # labels for the batch rows from a file, then `make monitor` over online + batch rows
    with sqlite3.connect(db) as conn:
        batch_ids = [r[0] for r in conn.execute("SELECT prediction_id FROM predictions "
                                                "ORDER BY input_row")]  # fmt: skip
    env = {**tool_env(repo), "TABML_REQUEST_LOG_DIR": str(server.request_log),
           "TABML_FEEDBACK_LOG_DIR": str(server.feedback_log)}  # fmt: skip
    labels_file = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": batch_ids, "label": y}).to_csv(labels_file, index=False)
    imported = run(make_cmd("feedback", f"INPUT={labels_file}"), repo, env=env)
    assert f"feedback: {len(y):,} labels" in imported.stdout
    (tmp_path / "bad.csv").write_text(f"prediction_id,label\n{batch_ids[0]},heavy\n")
    bad = run(make_cmd("feedback", f"INPUT={tmp_path / 'bad.csv'}"), repo, env=env, check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "row 1: label 'heavy' is not a finite number" in bad.stderr

    monitor = make_cmd("monitor", f"DB=sqlite:///{db}", "WINDOW=30d")
    result = run(monitor, repo, env=env)
    # every served and batch row is labelled; the explained record is a prediction too
    labelled = f"{2 * len(y) + 1:,} predictions, {2 * len(y):,} labelled, 0 unmatched"
    assert labelled in result.stdout
    rows = np.array(rows)
    truth, values = np.concatenate([y, y]), np.concatenate([served, rows[:, 0]])
    lows, highs = np.concatenate([low, rows[:, 1]]), np.concatenate([high, rows[:, 2]])
    version = _check_live_errors(repo, truth, values, lows, highs)
    assert version["alert"] == 0 and version["test"]["rmse"] == metrics["rmse"]
    assert abs(version["overall"]["rmse"] - metrics["rmse"]) < 0.01  # the test split, served

    # the online predictions' true values were 1 kg heavier: a corrected file, an alert
    shifted = pd.DataFrame({"prediction_id": ids, "label": y + 1000.0})
    shifted.to_csv(labels_file, index=False)
    run(make_cmd("feedback", f"INPUT={labels_file}"), repo, env=env)
    alert = run([*cli, "monitor", "--db", f"sqlite:///{db}", "--window", "30d"], repo,
                env={**env, **_env(repo)}, check=False)  # fmt: skip
    assert alert.returncode == 3, alert.stdout + alert.stderr  # make would say 2
    _check_live_errors(repo, np.concatenate([y + 1000.0, y]), values, lows, highs)
    [line] = [x for x in alert.stdout.splitlines() if "  ALERT  " in x]
    assert "rmse " in line and "interval_coverage " in line and "> " in line


def _check_openapi(spec: dict, answers: list[dict]) -> None:
    """The served document types a regression answer: a number and a two-number interval."""
    ok = spec["paths"]["/predict"]["post"]["responses"]["200"]
    schema = ok["content"]["application/json"]["schema"]
    item = schema["items"]
    assert item["properties"]["body_mass_g"]["type"] == "number"
    interval = item["properties"]["interval"]
    assert interval["type"] == "array" and interval["items"] == {"type": "number"}
    assert interval["minItems"] == interval["maxItems"] == 2
    assert "probabilities" not in item["properties"] and "enum" not in item["properties"]
    assert {"body_mass_g", "interval", "warnings", "prediction_id"} <= set(item["required"])
    assert "a number, with a 90% prediction interval" in spec["info"]["description"]
    jsonschema.validate(answers, schema)  # the real answers fit the document
    with pytest.raises(jsonschema.ValidationError):  # a classifier's answer does not
        jsonschema.validate([{**answers[0], "body_mass_g": "Gentoo"}], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**answers[0], "interval": [1.0]}], schema)


def _check_live_errors(repo, truth, values, lows, highs) -> dict:
    """The monitor's overall numbers against scikit-learn and a hand-made coverage."""
    metrics = json.loads((repo / "reports/monitor/metrics.json").read_text())
    ((_, version),) = metrics["versions"].items()
    overall = version["overall"]
    assert overall["labelled"] == len(truth)
    rmse = math.sqrt(mean_squared_error(truth, values))
    assert overall["rmse"] == pytest.approx(rmse, abs=1e-5)
    assert overall["mae"] == pytest.approx(mean_absolute_error(truth, values), abs=1e-5)
    inside = np.mean((lows <= truth) & (truth <= highs))
    assert overall["interval_coverage"] == pytest.approx(inside, abs=1e-6)
    assert overall["rmse_low"] < overall["rmse"] < overall["rmse_high"]
    assert overall["mae_low"] < overall["mae"] < overall["mae_high"]
    return version


@pytest.mark.slow
def test_package_refuses_an_interval_far_from_its_level(repo_copy_factory):
    repo = repo_copy_factory("coverage")
    # a tolerance of 0.001 around 0.9 refuses any coverage but 0.9 itself, which a test
    # set of about 100 rows cannot hit
    strict = ["-S", "train.model=ridge", "-S", "regression.coverage_tolerance=0.001"]
    result = run(["dvc", "exp", "run", *PROFILE, *strict], repo, check=False)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    found = json.loads((repo / "reports/metrics.json").read_text())["interval_coverage"]
    assert abs(found - 0.9) > 0.001
    assert f"error: interval_coverage = {found:.3f} on the test set, nominal level 0.900" in out
    assert not (repo / "models/model.onnx").exists()
