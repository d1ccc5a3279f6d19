"""`make drift` and `make monitor` on a request log with one bad entry among good ones.

Both read the log with the same tolerant reader (`tabml.monitoring.log_lines`): every entry
that is not a usable record is skipped and counted, never an error, and a prediction logged
twice counts once in both. The commands run as `make drift` / `make monitor` run them.
"""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabml.cli import app
from tabml.scoring.prediction_ids import new_ids
from tabml.scoring.task import Classification
from tabml.serving.request_log import make_record, write_batch
from testkit import tool_env

pytestmark = pytest.mark.integration  # the drift and monitor CLIs as child processes

GOOD = 200


def _good_log(directory: Path, raw_penguins) -> list[dict]:
    rows = raw_penguins.drop(columns=["species", "year"]).dropna().head(GOOD)
    ids = new_ids(len(rows))
    logged = Classification(["Adelie"]).logged
    records = [
        make_record(r, "v1", None, {"prediction_id": i, "species": "Adelie",
                                     "probabilities": {"Adelie": 1.0}}, "species", logged)
        for r, i in zip(rows.to_dict("records"), ids, strict=True)
    ]  # fmt: skip
    write_batch(records, directory)
    return records


def _line(record: dict, **changes) -> bytes:
    return (json.dumps({**record, **changes}) + "\n").encode()


def _bad_entry(directory: Path, kind: str, record: dict) -> int:
    """Add one bad entry of `kind` to the log; the number of entries it makes."""
    file = directory / f"99990101T000000000000-1-{kind}.jsonl"
    if kind == "torn_line":
        file.write_bytes(_line(record, prediction_id="x")[:40])
    elif kind == "directory":
        file.mkdir()
    elif kind == "random_bytes":
        file.write_bytes(random.Random(0).randbytes(4096).replace(b"\n", b" "))
    elif kind == "bad_timestamp":
        file.write_bytes(_line(record, timestamp="yesterday") + _line(record, timestamp=5))
        return 2
    elif kind == "inputs_null":
        file.write_bytes(_line(record, inputs=None) + _line(record, inputs=[1, 2]))
        return 2
    elif kind == "not_an_object":
        file.write_bytes(b'[1, 2]\n"text"\nnull\n')
        return 3
    elif kind == "symlink":
        os.symlink("/dev/zero", file)  # followed, it would never end
    elif kind == "dangling_symlink":
        os.symlink(directory / "nowhere.jsonl", file)
    elif kind == "named_pipe":
        os.mkfifo(file)  # opened, it would wait for a writer for ever
    return 1


KINDS = ["torn_line", "directory", "random_bytes", "bad_timestamp", "inputs_null",
         "not_an_object", "symlink", "dangling_symlink", "named_pipe"]  # fmt: skip


def _run(packaged: Path, logs: Path, *args: str) -> subprocess.CompletedProcess:
    env = tool_env(packaged)
    env.update(TABML_REQUEST_LOG_DIR=str(logs), TABML_FEEDBACK_LOG_DIR=str(logs.parent / "fb"))
    return subprocess.run([sys.executable, "-m", "tabml.cli", *args], cwd=packaged, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture
def in_packaged(packaged, tmp_path, monkeypatch) -> Path:
    """The CLI's working directory and logs, for commands run in this process."""
    monkeypatch.chdir(packaged)
    monkeypatch.setenv("TABML_REQUEST_LOG_DIR", str(tmp_path / "requests"))
    monkeypatch.setenv("TABML_FEEDBACK_LOG_DIR", str(tmp_path / "feedback"))
    return tmp_path / "requests"


@pytest.mark.parametrize("kind", KINDS)
def test_drift_skips_and_counts_each_kind_of_bad_entry(in_packaged, tmp_path, raw_penguins,
                                                       kind):  # fmt: skip
    # `python -m tabml.cli drift`, in this process (the subprocess test below runs them all).
    logs = in_packaged
    records = _good_log(logs, raw_penguins)
    bad = _bad_entry(logs, kind, records[0])
    out = tmp_path / "drift"
    result = CliRunner().invoke(app, ["drift", "--out", str(out), "--no-fail-on-drift"])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"drift: {GOOD} rows from {logs}/ ({bad} unreadable log entries skipped)" in (
        result.output
    )
    assert json.loads((out / "metrics.json").read_text())["rows"] == GOOD


def test_drift_and_monitor_commands_skip_and_count_every_bad_entry(tmp_path, packaged,
                                                                  raw_penguins):  # fmt: skip
    logs = tmp_path / "requests"
    records = _good_log(logs, raw_penguins)
    bad = sum(_bad_entry(logs, kind, records[0]) for kind in KINDS)
    out = tmp_path / "drift"
    result = _run(packaged, logs, "drift", "--out", str(out), "--no-fail-on-drift")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert f"drift: {GOOD} rows from {logs}/ ({bad} unreadable log entries skipped)" in (
        result.stdout
    )
    result = _run(packaged, logs, "monitor", "--out", str(tmp_path / "monitor"))
    assert result.returncode in (0, 3) and "Traceback" not in result.stderr, result.stderr
    assert f"{bad:,} bad lines skipped" in result.stdout


def test_drift_counts_a_prediction_logged_twice_once_as_monitor_does(tmp_path, packaged,
                                                                    raw_penguins):  # fmt: skip
    logs = tmp_path / "requests"
    _good_log(logs, raw_penguins)
    (copy,) = logs.glob("*.jsonl")
    (logs / f"9{copy.name[1:]}").write_bytes(copy.read_bytes())  # a copied log file
    out = tmp_path / "drift"
    result = _run(packaged, logs, "drift", "--out", str(out), "--no-fail-on-drift")
    assert result.returncode == 0, result.stderr
    assert f"{GOOD} rows from {logs}/ ({GOOD} duplicated predictions dropped)" in result.stdout
    result = _run(packaged, logs, "monitor", "--out", str(tmp_path / "monitor"))
    report = json.loads((tmp_path / "monitor" / "windows.json").read_text())
    assert report["predictions"] == GOOD and report["join"]["duplicate_predictions"] == GOOD
