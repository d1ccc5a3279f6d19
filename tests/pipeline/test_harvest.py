"""`make harvest` on real log files: schema rejects, a DVC version per harvest, the profile
pin, and a later harvest that keeps the earlier rows and takes corrected labels."""

import json

import pandas as pd
import pytest
import yaml

from tabml.data.profile import load_profile
from testkit import GOOD_RECORD, run, tool_env

GOOD_RECORD_COLUMNS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
                       "island", "sex"]  # fmt: skip
IDS = [f"01a233d2-fe94-74e4-84bc-e1053e5380{i:02d}" for i in range(5)]


def write_lines(directory, name, lines):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text("".join(json.dumps(line) + "\n" for line in lines))


def prediction(i, **inputs):
    return {"timestamp": f"2026-12-01T10:00:0{i}+00:00", "model_version": "tabml_model:x",
            "inputs": {**GOOD_RECORD, **inputs}, "prediction_id": IDS[i],
            "predicted": "Gentoo", "probabilities": {"Gentoo": 1.0}}  # fmt: skip


def label(i, species, second=0):
    return {"timestamp": f"2026-12-01T11:00:0{second}+00:00", "prediction_id": IDS[i],
            "label": species, "source": "http"}  # fmt: skip


def harvest(repo, logs):
    env = {**tool_env(repo), "TABML_REQUEST_LOG_DIR": str(logs / "requests"),
           "TABML_FEEDBACK_LOG_DIR": str(logs / "feedback")}  # fmt: skip
    return run(["python", "-m", "tabml.cli", "harvest"], repo, env=env)


@pytest.mark.slow
def test_harvests_are_checked_versioned_pinned_and_cumulative(repo, tmp_path):
    logs = tmp_path / "logs"
    write_lines(logs / "requests", "a.jsonl",
                [prediction(0), prediction(1, island="Atlantis"), prediction(2)])  # fmt: skip
    write_lines(logs / "feedback", "a.jsonl", [label(0, "Gentoo"), label(1, "Adelie")])
    first = harvest(repo, logs)
    assert "harvest: 1 labelled production rows" in first.stdout  # the bad one is not kept
    assert f"rejected {IDS[1]}: island" in first.stdout and "Atlantis" in first.stdout
    path = repo / "data/production/labelled.parquet"
    rows = pd.read_parquet(path)
    assert rows["prediction_id"].tolist() == [IDS[0]]  # 2 has no label, 1 is rejected
    dvc_file = yaml.safe_load((repo / "data/production/labelled.parquet.dvc").read_text())
    md5 = dvc_file["outs"][0]["md5"]
    pinned = load_profile("penguins", repo / "configs").production
    assert pinned.path == "data/production/labelled.parquet"
    assert run(["git", "check-ignore", "-q", str(path)], repo, check=False).returncode == 0

    # The request log lost its first file (bounded); a label for 2 arrives, 0 is corrected.
    (logs / "requests" / "a.jsonl").unlink()
    write_lines(logs / "requests", "b.jsonl", [prediction(2), prediction(0)])
    write_lines(logs / "feedback", "b.jsonl", [label(2, "Gentoo", 1), label(0, "Chinstrap", 2)])
    harvest(repo, logs)
    rows = pd.read_parquet(path).set_index("prediction_id")["species"].to_dict()
    assert rows == {IDS[0]: "Chinstrap", IDS[2]: "Gentoo"}
    again = yaml.safe_load((repo / "data/production/labelled.parquet.dvc").read_text())
    assert again["outs"][0]["md5"] != md5  # a new DVC version
    assert load_profile("penguins", repo / "configs").production.sha256 != pinned.sha256
    # Ingest appends the older rows (the features stage copies them into dataset.csv): with a
    # comparison minimum of 1, the newest of the two (ceil(30%) = 1 row) is held out and the
    # older one (id 0, relabelled) is trained on.
    params = repo / "params.yaml"
    params.write_text(
        params.read_text().replace("min_comparison_rows: 100", "min_comparison_rows: 1")
    )
    run(["dvc", "repro", "features"], repo)  # ingest, then the features stage's dataset
    raw = pd.read_csv(repo / "data/raw/dataset.csv")
    assert len(raw) == 344 + 1 and list(raw.columns) == ["species", *GOOD_RECORD_COLUMNS]
    assert raw.iloc[-1]["species"] == "Chinstrap" and raw.iloc[-1]["island"] == "Biscoe"
