"""The flights profile end to end, selected by `dvc exp run -S data.profile=flights`."""

import json
import subprocess
from pathlib import Path

import joblib
import pytest

from testkit import flights_gate_args, repo_copy
from testkit import tool_env as bench_env

pytestmark = pytest.mark.slow

FLIGHTS_ROWS = 336_776
CANCELLED_OR_DIVERTED = 9_430  # rows without arr_delay, hence without a label
LEAKY = {"dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"}


def test_flights_profile_runs_end_to_end(tmp_path: Path) -> None:
    repo = repo_copy(tmp_path)
    run = subprocess.run(
        ["dvc", "exp", "run", "-S", "data.profile=flights", *flights_gate_args()],
        cwd=repo,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr

    report = json.loads((repo / "reports/validation/report.json").read_text())
    assert report["ok"] and report["rows_read"] == FLIGHTS_ROWS
    assert report["rows_missing_target"] == CANCELLED_OR_DIVERTED
    assert report["rows_valid"] == FLIGHTS_ROWS - CANCELLED_OR_DIVERTED

    metrics = json.loads((repo / "reports/metrics.json").read_text())
    assert metrics["test_rows"] == round(0.3 * report["rows_valid"])
    assert metrics["roc_auc_ovr"] > 0.6  # the schedule carries signal; chance is 0.5

    pipeline = joblib.load(repo / "models/model.joblib")
    assert set(pipeline.classes_) == {"on_time", "late"}
    inputs = set(pipeline.feature_names_in_)
    assert inputs == {"month", "day", "hour", "minute", "sched_arr_time", "distance"} | {
        "carrier",
        "origin",
        "dest",
    }
    assert not inputs & LEAKY


def test_flights_weather_profile_joins_the_weather_as_of_each_flight(tmp_path: Path) -> None:
    """The shipped entity-table example: weather at the origin airport within three hours."""
    import pandas as pd

    repo = repo_copy(tmp_path)
    run = subprocess.run(
        ["dvc", "exp", "run", "-S", "data.profile=flights_weather", *flights_gate_args()],
        cwd=repo, env=bench_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rows = pd.read_csv(repo / "data/raw/dataset.csv", usecols=["origin", "time_hour", "temp"])
    # the first EWR flight (10:00Z) gets EWR's 10:00Z observation, 39.02 F (weather.csv)
    first = rows[(rows.origin == "EWR") & (rows.time_hour == "2013-01-01T10:00:00Z")]
    assert first.temp.iloc[0] == 39.02
    assert 0 < rows.temp.isna().sum() < len(rows) // 100  # gaps over three hours are missing
    pipeline = joblib.load(repo / "models/model.joblib")
    assert {"temp", "humid", "precip", "visib"} <= set(pipeline.feature_names_in_)
