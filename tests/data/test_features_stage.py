"""The features stage in a template workspace: a byte copy without entity tables, the join
with them, and a stop on a leaking table."""

import hashlib

import pandas as pd
import pytest
import yaml

from tabml.scoring.entity_join import LeakageError
from testkit.workspace import run_stages, write_params

ROWS = """customer_id,ordered_at,amount,label
1,2024-01-01T10:00:00Z,10.5,yes
2,2024-01-01T11:30:00Z,3.25,no
1,2024-01-02T09:00:00+01:00,7,no
3,2024-01-03T00:00:00Z,1,yes
"""
# customer 1: two values; customer 2: only values after its row; customer 3: too old (ttl 1 day)
TABLE = """customer_id,event_time,created_time,spend_7d
1,2024-01-01T09:00:00Z,2024-01-01T09:00:00Z,100
1,2024-01-02T07:59:00Z,2024-01-02T08:00:00Z,150
2,2024-01-01T12:00:00Z,2024-01-01T12:00:00Z,5
3,2024-01-01T00:00:00Z,{created},9
"""


def _shop(workspace, created="2024-01-01T00:00:00Z"):
    (workspace / "data/external").mkdir(parents=True)
    (workspace / "data/entities").mkdir(parents=True)
    (workspace / "data/external/rows.csv").write_text(ROWS)
    (workspace / "data/entities/customers.csv").write_text(TABLE.format(created=created))
    profile = {
        "name": "shop", "source": {"path": "data/external/rows.csv"}, "target": "label",
        "features": {"numeric": ["amount", "spend_7d"]},
        "entities": {"row_time": "ordered_at", "tables": [{
            "name": "customer", "source": {"path": "data/entities/customers.csv"},
            "key": "customer_id", "timestamp": "event_time", "created": "created_time",
            "ttl": "P1D", "features": ["spend_7d"],
        }]},
    }  # fmt: skip
    (workspace / "configs/shop.yaml").write_text(yaml.safe_dump(profile))
    write_params(workspace, **{"data.profile": "shop", "sources": ["data/external/rows.csv"]})


def test_without_entity_tables_the_rows_are_copied_byte_for_byte(stage_workspace):
    run_stages(stage_workspace, "ingest", "features")
    source, rows = (stage_workspace / f"data/raw/{n}.csv" for n in ("source", "dataset"))
    assert hashlib.md5(rows.read_bytes()).digest() == hashlib.md5(source.read_bytes()).digest()


def test_rows_gain_their_entity_features_as_of_their_time(stage_workspace):
    _shop(stage_workspace)
    run_stages(stage_workspace, "ingest", "features")
    text = (stage_workspace / "data/raw/dataset.csv").read_text()
    assert text.splitlines()[1] == "1,2024-01-01T10:00:00Z,10.5,yes,100.0"  # columns as written
    joined = pd.read_csv(stage_workspace / "data/raw/dataset.csv")
    # row 3 is 08:00Z: the value of 07:59 counts; customer 3's value is older than a day
    # customer 2's only value is after its row; customer 3's is older than a day
    assert joined.spend_7d.fillna(-1).tolist() == [100.0, -1, 150.0, -1]


def test_a_table_written_after_its_rows_stops_the_stage(stage_workspace):
    _shop(stage_workspace, created="2024-01-04T00:00:00Z")  # customer 3's value came late
    (stage_workspace / "configs/shop.yaml").write_text(
        (stage_workspace / "configs/shop.yaml").read_text().replace("P1D", "P7D")
    )
    run_stages(stage_workspace, "ingest")
    with pytest.raises(LeakageError, match=r"'created_time'.*rows \[3\]"):
        run_stages(stage_workspace, "features")
    assert not (stage_workspace / "data/raw/dataset.csv").exists()
