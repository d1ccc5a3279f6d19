"""The README's and docs/own-data.md's "Use your own data" steps, run as written on other
tabular CSVs: a classification target (the wine data) and a numeric target (made up here)."""

import json
import math
import sys
from pathlib import Path

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_wine
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from tabml.data.profile import load_profile
from tabml.model.features import model_frame
from testkit import run
from tests.service.server import start_server

TOOLS = Path(sys.executable).parent


def make(repo: Path, *args: str):
    # this interpreter's .venv; `-o` keeps make from (re)installing one in the copy
    cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={TOOLS}", *args]
    return run(cmd, repo, check=False)


def test_readme_steps_work_on_the_wine_data(repo_copy_factory):
    repo = repo_copy_factory("own-data")
    # 1. a CSV inside the repository
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    wine["cultivar"] = wine["cultivar"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    (repo / "data" / "external").mkdir(parents=True)
    wine.to_csv(repo / "data" / "external" / "wine.csv", index=False)
    # 2. bootstrap profile + schema
    cmd = ["python", "-m", "tabml.cli", "bootstrap", "data/external/wine.csv"]
    run([*cmd, "--name", "wine", "--target", "cultivar"], repo)
    profile = yaml.safe_load((repo / "configs" / "wine.yaml").read_text())
    assert profile["target"] == "cultivar" and len(profile["features"]["numeric"]) == 13
    # 4. point params.yaml at it
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"] = "wine"
    params["sources"] = ["data/external/wine.csv"]  # DVC notices when the file changes
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # 5. run the pipeline
    run(["git", "add", "-A"], repo)
    run(["dvc", "repro"], repo)
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.8
    assert metrics["test_rows"] == math.ceil(len(wine) * params["split"]["test_size"])
    # 6. the default gates need no tuning: the package stage ran, past the relative gates
    assert (repo / "models" / "tabml_service.bento").is_file()
    assert metrics["roc_auc_ovr"] - metrics["baseline"]["roc_auc_ovr"] >= 0.05

    # the base (main) measured penguins: said, and no regression counted across datasets
    gate = make(repo, "gate", "REPRODUCE_BASE=0")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "the dataset changed: the base uses data.profile=penguins" in gate.stdout
    assert "data.profile=wine" in gate.stdout
    assert "ok: all 4 gates pass" in gate.stdout  # min_lift and every class predicted; no absolute

    # an absolute gate in the profile applies, and its failure names where to change it
    profile["gates"] = {"max": {"log_loss": 0.001}}
    (repo / "configs" / "wine.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    gate = make(repo, "gate", "REPRODUCE_BASE=0")
    assert gate.returncode != 0
    assert f"log_loss = {metrics['log_loss']:.6g} is above the maximum 0.001" in gate.stderr
    assert "set gates.max.log_loss in configs/wine.yaml or params.yaml" in gate.stderr


def _houses(rows: int = 400) -> pd.DataFrame:
    """A made-up numeric target: a price from two measurements, a count and a district."""
    rng = np.random.default_rng(0)
    district = rng.choice(["north", "south", "east"], rows)
    frame = pd.DataFrame({
        "area_m2": rng.uniform(30, 200, rows).round(1),
        "age_years": rng.uniform(0, 80, rows).round(1),
        "rooms": rng.integers(1, 7, rows),
        "district": district,
    })  # fmt: skip
    effect = pd.Series(district).map({"north": 40.0, "south": 0.0, "east": -25.0}).to_numpy()
    price = 2.5 * frame["area_m2"] - 0.8 * frame["age_years"] + 6 * frame["rooms"] + effect
    frame["price_k"] = (price + rng.normal(0, 15, rows) + 100).round(2)
    return frame


def test_own_data_steps_work_on_a_numeric_target(repo_copy_factory, tmp_path):
    repo = repo_copy_factory("own-numeric")
    # 1. the CSV in the repository, bootstrapped with `make bootstrap` (docs/own-data.md)
    houses = _houses()
    (repo / "data" / "external").mkdir(parents=True)
    houses.to_csv(repo / "data" / "external" / "houses.csv", index=False)
    csv = "data/external/houses.csv"
    printed = make(repo, "bootstrap", f"CSV={csv}", "NAME=houses", "TARGET_COLUMN=price_k")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "task: regression (inferred from 'price_k'" in printed.stdout
    assert "numeric features (3): area_m2, age_years, rooms" in printed.stdout
    assert "categorical features (1): district" in printed.stdout
    [hint] = [line for line in printed.stdout.splitlines() if line.startswith("next: ")]
    assert "train.model" not in hint  # the default `auto` serves both tasks
    profile = yaml.safe_load((repo / "configs" / "houses.yaml").read_text())
    assert profile["task"] == "regression" and profile["target"] == "price_k"
    # 3. what the hint says, in params.yaml, then `make repro`
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"] = "houses"
    params["sources"] = [csv]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "add", "-A"], repo)
    repro = make(repo, "repro")
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    assert "up to date" in run(["dvc", "status"], repo).stdout
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    test = pd.read_parquet(repo / "data/processed/test.parquet")
    assert metrics["test_rows"] == len(test)
    assert len(test) == math.ceil(len(houses) * params["split"]["test_size"])
    # scikit-learn's own metrics of the saved pipeline on the test split
    features = load_profile("houses", repo / "configs").features
    pipeline = joblib.load(repo / "models" / "model.joblib")
    predicted = pipeline.predict(model_frame(test, features))
    y = test["price_k"].to_numpy(dtype=np.float64)
    assert metrics["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, predicted)), abs=1e-5)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, predicted), abs=1e-5)
    assert metrics["r2"] == pytest.approx(r2_score(y, predicted), abs=1e-6) and metrics["r2"] > 0.9
    assert abs(metrics["interval_coverage"] - metrics["interval_level"]) <= 0.1
    assert (repo / "models" / "tabml_service.bento").is_file()  # past the regression gates

    # the packaged model answers over HTTP: value and interval, as scikit-learn predicts
    records = json.loads(test[features.all].head(5).to_json(orient="records"))
    server = start_server(repo, tmp_path / "server")
    try:
        response = httpx.post(f"{server.url}/predict", json={"records": records}, timeout=30)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    answers = response.json()
    served = [a["price_k"] for a in answers]
    np.testing.assert_allclose(served, predicted[:5], rtol=1e-5, atol=1e-3)
    assert all(a["interval"][0] < a["price_k"] < a["interval"][1] for a in answers)
