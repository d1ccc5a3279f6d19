"""A newcomer's own data, end to end: penguins-raw.csv (a date, free text, an identifier).

Bootstrap, `dvc repro`, a real server and `tabml.cli batch`, in temporary repo copies, as
docs/own-data.md tells a user to. penguins-raw passes the default gates of params.yaml, so
the gates are left as they are (one test raises them on purpose, to refuse a package).
"""

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import joblib
import pandas as pd
import pytest
import yaml

from tabml.data.profile import Source, load_profile
from tabml.model.features import model_frame
from testkit import run
from tests.service.server import start_server

pytestmark = pytest.mark.slow

CSV = "data/external/penguins-raw.csv"
LATER = "2012-11-20"  # the data ends in 2009


def own_data(repo: Path, **params) -> str:
    """Copy penguins-raw into the repo, bootstrap it, select it in params.yaml; the output."""
    source = Source(package="palmerpenguins", path="data/penguins-raw.csv").resolve()
    (repo / "data" / "external").mkdir(parents=True, exist_ok=True)
    shutil.copy(source, repo / CSV)
    cmd = ["python", "-m", "tabml.cli", "bootstrap", CSV, "--name", "praw", "--target", "Species"]
    printed = run(cmd, repo).stdout
    values = yaml.safe_load((repo / "params.yaml").read_text())
    values["data"]["profile"] = "praw"
    values["sources"] = [CSV]
    for section, value in params.items():
        values[section] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    run(["git", "add", "-A"], repo)
    return printed


@pytest.fixture(scope="module")
def praw(repo_copy_factory) -> Path:
    repo = repo_copy_factory("praw")
    printed = own_data(repo)
    assert "date features (1): Date Egg -> year, day_of_year" in printed
    assert "Individual ID: free text" in printed
    run(["dvc", "repro"], repo)
    return repo


def records(repo: Path, rows: int) -> pd.DataFrame:
    """Raw rows of the test split, every one laid in a later year than any training row."""
    test = pd.read_parquet(repo / "data/processed/test.parquet").head(rows)
    return test.assign(**{"Date Egg": LATER})


def sklearn_labels(repo: Path, frame: pd.DataFrame) -> list[str]:
    """What the trained scikit-learn pipeline predicts (the independent reference)."""
    features = load_profile("praw", repo / "configs").features
    return joblib.load(repo / "models/model.joblib").predict(model_frame(frame, features)).tolist()


def test_a_record_from_a_later_year_gets_an_answer_and_a_training_range_warning(praw, tmp_path):
    features = load_profile("praw", praw / "configs").features
    frame = records(praw, 3)
    body = json.loads(frame[features.all].to_json(orient="records"))
    server = start_server(praw, tmp_path / "server")
    try:
        answer = httpx.post(f"{server.url}/predict", json={"records": body}, timeout=30)
        bad = {**body[0], "Date Egg": "2012-02-30"}
        refused = httpx.post(f"{server.url}/predict", json={"records": [bad]}, timeout=30)
    finally:
        server.stop()
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert [r["Species"] for r in results] == sklearn_labels(praw, frame)
    for result in results:
        [warning] = [w for w in result["warnings"] if w["feature"] == "Date Egg (year)"]
        assert warning["value"] == 2012 and warning["training_range"][1] == 2009
    assert refused.status_code == 400 and "Date Egg" in refused.text


def test_batch_scores_rows_with_later_dates(praw, tmp_path):
    frame = records(praw, 5)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    db = tmp_path / "p.db"
    cmd = ["python", "-m", "tabml.cli", "batch", str(tmp_path / "rows.csv"), "--db"]
    out = run([*cmd, f"sqlite:///{db}"], praw).stdout
    assert "5 predictions, 0 rejects" in out
    with sqlite3.connect(db) as conn:
        labels = [r[0] for r in conn.execute("SELECT label FROM predictions ORDER BY input_row")]
    assert labels == sklearn_labels(praw, frame)


def test_an_edited_csv_stops_the_pipeline_until_it_is_accepted(praw, tmp_path):
    repo = Path(shutil.copytree(praw, tmp_path / "repo", symlinks=True))
    with (repo / CSV).open("a") as out:
        out.write((repo / CSV).read_text().splitlines()[-1] + "\n")  # one more row
    status = run(["dvc", "status"], repo).stdout
    assert CSV in status and "modified" in status
    stopped = run(["dvc", "repro"], repo, check=False)
    assert stopped.returncode != 0
    [line] = [x for x in stopped.stderr.splitlines() if x.startswith("error: ")]
    assert f"{CSV} changed" in line and "make accept-data" in line
    assert run(["dvc", "status"], repo).stdout != "Data and pipelines are up to date.\n"
    run(["python", "-m", "tabml.cli", "accept-data"], repo)
    run(["dvc", "repro"], repo)
    report = json.loads((repo / "reports/validation/report.json").read_text())
    assert report["rows_read"] == 345
    assert "up to date" in run(["dvc", "status"], repo).stdout


def test_a_refused_package_is_not_served_as_the_new_data_model(reproduced, tmp_path):
    # The session's penguins workspace, then penguins-raw with gates it cannot pass.
    repo = Path(shutil.copytree(reproduced, tmp_path / "repo", symlinks=True))
    gates = yaml.safe_load((repo / "params.yaml").read_text())["gates"]
    gates["min"]["accuracy"] = 0.9999
    own_data(repo, gates=gates)
    refused = run(["dvc", "repro"], repo, check=False)
    assert refused.returncode != 0 and "gate" in refused.stderr
    for cmd in (["serve", "--port", "1"], ["batch", CSV]):
        result = run(["python", "-m", "tabml.cli", *cmd], repo, check=False)
        assert result.returncode == 1, result.stdout
        [line] = result.stderr.strip().splitlines()
        assert "profile 'penguins', target species" in line
        assert "params.yaml selects profile 'praw'" in line and "--stale-ok" in line
    penguins = Source(package="palmerpenguins", path="data/penguins.csv").resolve()
    pd.read_csv(penguins).head(3).to_csv(tmp_path / "penguins.csv", index=False)
    cmd = ["python", "-m", "tabml.cli", "batch", str(tmp_path / "penguins.csv"), "--stale-ok"]
    anyway = run([*cmd, "--db", f"sqlite:///{tmp_path / 'p.db'}"], repo)
    assert "warning: --stale-ok" in anyway.stderr and "3 predictions" in anyway.stdout
