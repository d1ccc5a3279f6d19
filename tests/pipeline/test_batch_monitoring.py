"""Batch predictions close the loop too: `make batch`, `make feedback`, `make monitor`."""

import json
import sqlite3

import pandas as pd

from testkit import make_cmd, run, tool_env


def test_labels_for_batch_predictions_are_joined_by_make_monitor(repo, tmp_path):
    test = pd.read_parquet(repo / "data/processed/test.parquet")
    source, db = tmp_path / "inputs.csv", tmp_path / "out.db"
    test.to_csv(source, index=False)
    run(make_cmd("batch", f"INPUT={source}", f"DB=sqlite:///{db}"), repo)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT input_row, prediction_id FROM predictions").fetchall()
    truth = test["species"].astype(str).tolist()
    labels = pd.DataFrame({"prediction_id": [pid for _, pid in rows],
                           "label": [truth[row] for row, _ in rows]})  # fmt: skip
    labels.to_csv(tmp_path / "labels.csv", index=False)
    # One label for an id no prediction has: kept, and reported as unmatched.
    stranger = "01890a5d-ac96-774b-bcce-b302099a8057,Adelie\n"
    with open(tmp_path / "labels.csv", "a") as file:
        file.write(stranger)
    env = {**tool_env(repo), "TABML_REQUEST_LOG_DIR": str(tmp_path / "no-requests")}
    imported = run(make_cmd("feedback", f"INPUT={tmp_path / 'labels.csv'}"), repo, env=env)
    assert f"feedback: {len(rows) + 1:,} labels" in imported.stdout

    result = run(make_cmd("monitor", f"DB=sqlite:///{db}"), repo, env=env)
    assert f"{len(rows):,} predictions, {len(rows):,} labelled, 1 unmatched" in result.stdout
    metrics = json.loads((repo / "reports/monitor/metrics.json").read_text())
    ((tag, version),) = metrics["versions"].items()
    assert version["overall"]["labelled"] == len(rows)
    stage = json.loads((repo / "reports/metrics.json").read_text())
    # The batch rows are the test split: live accuracy is the evaluate stage's accuracy.
    assert abs(version["overall"]["accuracy"] - stage["accuracy"]) < 1e-6
    assert version["test"]["accuracy"] == stage["accuracy"] and version["alert"] == 0
    shown = run(["dvc", "metrics", "show", "reports/monitor/metrics.json"], repo)
    assert f"versions.{tag}.overall.accuracy" in shown.stdout  # DVC reads the metrics file


def test_a_bad_labels_file_is_one_error_line(repo, tmp_path):
    (tmp_path / "labels.csv").write_text("prediction_id,label\nnot-an-id,Adelie\n")
    result = run(make_cmd("feedback", f"INPUT={tmp_path / 'labels.csv'}"), repo, check=False)
    assert result.returncode != 0
    assert "error: " in result.stderr and "row 1: prediction_id 'not-an-id'" in result.stderr
    assert "Traceback" not in result.stderr
