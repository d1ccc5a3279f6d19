"""A template workspace whose profile has an entity table: penguins with their colony's size.

`colonies` = the penguins rows with an `observed_at` time (January 2024) and the entity table
`data/entities/colonies.csv`, keyed by island: Biscoe has a 2024 value and a fresh one
(yesterday), Dream only a 2024 value (stale online: TTL 30 days), Torgersen none. Shared by
the online lookup test and `make bench-entity-lookup`.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml

from testkit.workspace import template_workspace

RECORD = {"bill_length_mm": 48.6, "bill_depth_mm": 16.0, "flipper_length_mm": 230.0,
          "body_mass_g": 5800.0, "island": "Biscoe", "sex": "male"}  # fmt: skip


def colonies() -> pd.DataFrame:
    fresh = (datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)).isoformat()
    return pd.DataFrame({
        "island": ["Biscoe", "Dream", "Biscoe"],
        "recorded_at": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", fresh],
        "colony_size": [1200.0, 800.0, 1500.0],
    })  # fmt: skip


def colony_workspace(folder: Path) -> Path:
    """The workspace (params select `colonies`), ready for `run_stages`."""
    workspace = template_workspace(folder)
    penguins = yaml.safe_load((workspace / "configs/penguins.yaml").read_text())
    from tabml.data.profile import Source

    raw = pd.read_csv(Source(**penguins["source"]).resolve())
    rows = raw.assign(observed_at=[f"2024-01-{1 + i % 20:02d}T12:00:00Z" for i in range(len(raw))])
    (workspace / "data/external").mkdir(parents=True)
    (workspace / "data/entities").mkdir(parents=True)
    rows.to_csv(workspace / "data/external/rows.csv", index=False)
    colonies().to_csv(workspace / "data/entities/colonies.csv", index=False)
    profile = {**penguins, "name": "colonies", "source": {"path": "data/external/rows.csv"}}
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
