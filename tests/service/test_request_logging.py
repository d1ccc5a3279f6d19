"""The served model logs every scored input, and `make drift` reads that log."""

import json
import subprocess
import sys

import httpx
import pandas as pd
import pytest

from tabml.monitoring.sources import read_request_log
from tests.service.server import server_env, start_server


@pytest.fixture(scope="module")
def logging_server(packaged_repo, tmp_path_factory):
    """A server of its own, so that its request log holds exactly what this module sends."""
    server = start_server(packaged_repo, tmp_path_factory.mktemp("logging-server"))
    yield server
    server.stop()


def test_every_scored_input_is_logged_and_drift_reads_the_log(
    logging_server, packaged_repo, test_records, tmp_path
):
    batches = [test_records[i : i + 7] for i in range(0, 70, 7)]
    with httpx.Client(base_url=logging_server.url, timeout=10) as http:
        for batch in batches:
            assert http.post("/predict", json={"records": batch}).status_code == 200
        # Rejected requests are not scored, so they are not logged.
        bad = {**test_records[0], "island": "Atlantis"}
        assert http.post("/predict", json={"records": [bad]}).status_code == 400
    logging_server.stop()  # graceful: the shutdown hook flushes what is still queued

    read = read_request_log(logging_server.request_log)
    logged = read.frame
    assert read.skipped == 0
    sent = [record for batch in batches for record in batch]
    assert len(logged) == len(sent) == 70
    assert logged["model_version"].str.startswith("tabml_model:").all()
    features = list(sent[0])
    expected = pd.DataFrame(sent)[features].fillna({"sex": ""})
    assert logged[features].fillna({"sex": ""}).to_dict("records") == expected.to_dict("records")

    out = tmp_path / "drift"
    result = subprocess.run(
        [sys.executable, "-m", "tabml.cli", "drift", "--out", str(out), "--no-fail-on-drift"],
        cwd=packaged_repo, capture_output=True, text=True,
        env=server_env(TABML_REQUEST_LOG_DIR=str(logging_server.request_log)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"70 rows from {logging_server.request_log}/" in result.stdout
    assert json.loads((out / "metrics.json").read_text())["rows"] == 70
