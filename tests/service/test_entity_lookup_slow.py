"""Entity features online: a model trained with an entity table, served by a real server that
looks the features up by key, logs them, and refuses unknown keys and stale values."""

from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest
import yaml

from tabml.monitoring.sources import read_request_log
from testkit.workspace import run_stages, template_workspace
from tests.service.server import start_server

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC).replace(microsecond=0)
# Biscoe: an old value and a fresh one; Dream: only an old one (stale online); Torgersen: none.
COLONIES = pd.DataFrame({
    "island": ["Biscoe", "Dream", "Biscoe"],
    "recorded_at": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z",
                    (NOW - timedelta(days=1)).isoformat()],
    "colony_size": [1200.0, 800.0, 1500.0],
})  # fmt: skip


def _colony_workspace(folder, raw_penguins):
    workspace = template_workspace(folder)
    rows = raw_penguins.assign(
        observed_at=[f"2024-01-{1 + i % 20:02d}T12:00:00Z" for i in range(len(raw_penguins))]
    )
    (workspace / "data/external").mkdir(parents=True)
    (workspace / "data/entities").mkdir(parents=True)
    rows.to_csv(workspace / "data/external/rows.csv", index=False)
    COLONIES.to_csv(workspace / "data/entities/colonies.csv", index=False)
    profile = yaml.safe_load((workspace / "configs/penguins.yaml").read_text())
    profile.update(name="colonies", source={"path": "data/external/rows.csv"})
    profile["features"]["numeric"].append("colony_size")
    profile["entities"] = {"row_time": "observed_at", "tables": [{
        "name": "colony", "source": {"path": "data/entities/colonies.csv"}, "key": "island",
        "timestamp": "recorded_at", "ttl": "P30D", "features": ["colony_size"],
    }]}  # fmt: skip
    (workspace / "configs/colonies.yaml").write_text(yaml.safe_dump(profile))
    schema = yaml.safe_load((workspace / "configs/penguins.schema.yaml").read_text())
    schema["columns"]["colony_size"] = {"dtype": "float64", "nullable": True}
    (workspace / "configs/colonies.schema.yaml").write_text(yaml.safe_dump(schema))
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["data"]["profile"] = "colonies"
    params["sources"] = ["data/external/rows.csv"]
    (workspace / "params.yaml").write_text(yaml.safe_dump(params))
    return workspace


def test_served_entity_features_are_looked_up_logged_and_refused_when_unknown_or_stale(
    tmp_path, raw_penguins
):
    workspace = _colony_workspace(tmp_path / "ws", raw_penguins)
    run_stages(workspace)
    trained = pd.read_csv(workspace / "data/raw/dataset.csv")
    assert set(trained.colony_size.dropna()) == {1200.0, 800.0}  # 2024 rows: 2024 values
    server = start_server(workspace, tmp_path / "server")
    record = {"bill_length_mm": 48.6, "bill_depth_mm": 16.0, "flipper_length_mm": 230.0,
              "body_mass_g": 5800.0, "island": "Biscoe", "sex": "male"}  # fmt: skip
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
