"""The regression profile end to end: real `dvc exp run`, a real server, the real CLI.

`dvc exp run -S data.profile=penguins_mass -S train.model=ridge` in a repo copy, then
`/predict` over HTTP, `python -m tabml.cli batch` into SQLite and `python -m tabml.cli drift`.
The fast in-process equivalent is tests/unit/test_regression.py.
"""

import json
import math
import sqlite3

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_squared_error, r2_score

from testkit import run, tool_env
from tests.service.server import start_server

PROFILE = ["-S", "data.profile=penguins_mass"]
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island", "sex"]


def _env(repo):
    return {**tool_env(repo), "PYTHONPATH": str(repo / "src")}  # the copy's own code


def test_regression_profile_end_to_end(repo_copy_factory, tmp_path):
    repo = repo_copy_factory("regression")
    # the default family is a classifier: one clear line naming train.model and the task
    wrong = run(["dvc", "exp", "run", *PROFILE], repo, check=False)
    assert wrong.returncode != 0
    assert "error: train.model is 'logistic_regression', but profile 'penguins_mass' has " in (
        wrong.stdout + wrong.stderr
    )
    assert "Traceback" not in wrong.stdout + wrong.stderr

    run(["dvc", "exp", "run", *PROFILE, "-S", "train.model=ridge"], repo)
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
    finally:
        server.stop()
    # a regressor has no class probability to explain: a clear 400, not a 500
    assert explained.status_code == 400 and "classification models" in explained.text
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


@pytest.mark.slow
def test_package_refuses_an_interval_far_from_its_level(repo_copy_factory):
    repo = repo_copy_factory("coverage")
    # coverage on the test set is 0.88; a tolerance of 0.001 around 0.9 must refuse it
    strict = ["-S", "train.model=ridge", "-S", "regression.coverage_tolerance=0.001"]
    result = run(["dvc", "exp", "run", *PROFILE, *strict], repo, check=False)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "error: interval_coverage = 0.883 on the test set, nominal level 0.900" in out
    assert not (repo / "models/model.onnx").exists()
