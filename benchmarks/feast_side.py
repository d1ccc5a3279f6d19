"""Feast's side of `benchmarks/feast_parity.py`, run in .bench-venv-feast (Feast pins pandas<3).

`python benchmarks/feast_side.py FOLDER TTL_SECONDS`: reads FOLDER/rows.parquet (row_id, key,
event_timestamp) and FOLDER/entities.parquet (key, event_time, created, f0, f1), registers
them in a throw-away local feature repository (provider `local`, file offline store), runs
`get_historical_features` and writes FOLDER/feast.parquet (row_id, f0, f1) plus the seconds
it took as JSON on stdout. Imports nothing from tabml.
"""

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Float64


def main() -> None:
    folder, ttl = Path(sys.argv[1]), timedelta(seconds=int(sys.argv[2]))
    config = RepoConfig(
        project="parity", provider="local", registry=str(folder / "registry.db"),
        offline_store={"type": "file"},
        online_store={"type": "sqlite", "path": str(folder / "online.db")},
        entity_key_serialization_version=3,
    )  # fmt: skip
    store = FeatureStore(config=config)
    key = Entity(name="key", join_keys=["key"], value_type=ValueType.INT64)
    source = FileSource(
        path=str(folder / "entities.parquet"), timestamp_field="event_time",
        created_timestamp_column="created",
    )  # fmt: skip
    view = FeatureView(
        name="e", entities=[key], ttl=ttl, source=source,
        schema=[Field(name="f0", dtype=Float64), Field(name="f1", dtype=Float64)],
    )  # fmt: skip
    store.apply([key, view])
    rows = pd.read_parquet(folder / "rows.parquet")
    started = time.perf_counter()
    joined = store.get_historical_features(entity_df=rows, features=["e:f0", "e:f1"]).to_df()
    seconds = time.perf_counter() - started
    joined[["row_id", "f0", "f1"]].to_parquet(folder / "feast.parquet")
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
