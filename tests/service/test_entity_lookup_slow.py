"""Entity features after training: a model trained with an entity table, served by a real
server that looks the features up by key, logs them, and refuses unknown keys and stale
values; and `make batch` joining the same table as of each row's time, or as of now."""

import sqlite3

import httpx
import pandas as pd
import pytest

from tabml.monitoring.sources import read_request_log
from tabml.scoring.model import load_packaged
from testkit import make_cmd, run
from testkit.entity_workspace import RECORD, colonies, colony_workspace
from testkit.workspace import run_stages
from tests.service.server import start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    workspace = colony_workspace(tmp_path_factory.mktemp("colonies") / "ws")
    run_stages(workspace)
    return workspace


def test_served_entity_features_are_looked_up_logged_and_refused_when_unknown_or_stale(
    tmp_path, workspace
):
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


def _answers_of(workspace, frame: pd.DataFrame) -> list[tuple]:
    """The packaged model's label and probabilities for rows whose colony_size was joined by
    hand."""
    model = load_packaged(workspace / "models/model.onnx", workspace / "models/tabml_service.bento")
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [
        (a["species"], *(round(a["probabilities"][c], 5) for c in model.task.classes))
        for a in model.score(records)
    ]


@pytest.mark.parametrize("as_of", ["row_time", "now"])
def test_batch_joins_the_entity_table_as_of_each_row_or_now(workspace, tmp_path, as_of):
    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
    rows = pd.read_csv(workspace / "data/external/rows.csv").dropna(subset=features[:4])
    rows = rows.groupby("island").sample(10, random_state=0)[["island", *features, "observed_at"]]
    if as_of == "now":
        rows = rows.drop(columns="observed_at")
    source = tmp_path / "inputs.csv"
    rows.to_csv(source, index=False)
    db = tmp_path / "out.db"
    run(make_cmd("batch", f"INPUT={source}", f"DB=sqlite:///{db}"), workspace)
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT * FROM predictions ORDER BY input_row")
        names = [d[0] for d in found.description]
        got = pd.DataFrame(found.fetchall(), columns=names)
    probabilities = [c for c in names if c.startswith("p_") or c.startswith("proba")]
    got = [(r[0], *(round(x, 5) for x in r[1:])) for r in got[["label", *probabilities]].values]
    # by hand: January 2024 rows see the 2024 values; now sees Biscoe's fresh value, Dream's
    # is older than the 30-day TTL, Torgersen has none
    table = colonies()
    if as_of == "row_time":
        size = {"Biscoe": 1200.0, "Dream": 800.0}
    else:
        size = {"Biscoe": float(table.colony_size.iloc[2])}
    expected = rows[["island", *features]].assign(colony_size=rows.island.map(size))
    assert expected.colony_size.isna().sum() == 10 if as_of == "row_time" else 20
    assert got == _answers_of(workspace, expected)
    assert len(got) == 30 and len({g[0] for g in got}) > 1
    # the join matters: without colony_size the answers differ
    assert got != _answers_of(workspace, expected.assign(colony_size=None))
