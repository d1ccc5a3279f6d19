"""Entity features online: a model trained with an entity table, served by a real server that
looks the features up by key, logs them, and refuses unknown keys and stale values."""

import httpx
import pandas as pd
import pytest

from tabml.monitoring.sources import read_request_log
from testkit.entity_workspace import RECORD, colony_workspace
from testkit.workspace import run_stages
from tests.service.server import start_server

pytestmark = pytest.mark.slow


def test_served_entity_features_are_looked_up_logged_and_refused_when_unknown_or_stale(
    tmp_path,
):
    workspace = colony_workspace(tmp_path / "ws")
    run_stages(workspace)
    trained = pd.read_csv(workspace / "data/raw/dataset.csv")
    assert set(trained.colony_size.dropna()) == {1200.0, 800.0}  # 2024 rows: 2024 values
    server = start_server(workspace, tmp_path / "server")
    record = RECORD
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            ok = http.post("/predict", json={"records": [record]})
            assert ok.status_code == 200, ok.text
            stale = http.post("/predict", json={"records": [record, {**record, "island": "Dream"}]})
            assert stale.status_code == 400
            assert stale.json()["detail"][0]["loc"] == ["records", 1, "island"]
            assert "older than ttl" in stale.json()["detail"][0]["msg"]
            unknown = http.post("/predict", json={"records": [{**record, "island": "Torgersen"}]})
            assert unknown.status_code == 400 and "unknown key" in unknown.text
            sent_value = http.post("/predict", json={"records": [{**record, "colony_size": 1.0}]})
            assert sent_value.status_code == 400  # looked up, never taken from the request
    finally:
        server.stop()
    logged = read_request_log(server.request_log).frame
    assert logged.colony_size.tolist() == [1500.0]  # the value the model used, and only it
