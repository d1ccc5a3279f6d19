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
