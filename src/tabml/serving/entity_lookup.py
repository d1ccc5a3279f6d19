"""Online entity features: each key's latest value, loaded once, filled into the records.

At start the service reads every entity table the model declares (`ModelMetadata.entities`)
and keeps, per key, the value with the latest event time (the features stage's tie-break:
the later `created` time, then the row written last). Small tables live in a dict; above
`IN_MEMORY_KEYS` keys, in an SQLite file (one indexed lookup per key and request). A request
names the key; the service fills the table's features from it before scoring, so the request
log records the values the model used. An unknown key, or a value older than the table's TTL
where it says `on_stale: refuse`, is a 400 naming the record and the key field.
"""

import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tabml.scoring.entities import EntityJoin, EntityTable
from tabml.scoring.entity_tables import entity_root, read_table

IN_MEMORY_KEYS = 1_000_000


def _plain(value: object) -> object:
    """A JSON-able Python value: NaN and NA as None, numpy scalars as Python numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def latest_values(spec: EntityTable, root: Path) -> dict[str, tuple[int, list]]:
    """key -> (event time in UTC nanoseconds, the features' values) of its latest row."""
    table = read_table(spec, spec.source.location(root))
    table = table.sort_values(spec.time_columns, kind="stable")
    latest = table.drop_duplicates(spec.key, keep="last")
    times = pd.DatetimeIndex(latest[spec.timestamp]).as_unit("ns").asi8
    values = latest[spec.features].astype(object).to_numpy().tolist()
    keys = latest[spec.key].astype(str).tolist()
    return {
        k: (int(t), [_plain(v) for v in row]) for k, t, row in zip(keys, times, values, strict=True)
    }


class SqliteValues:
    """The same mapping in an SQLite file, for tables with more keys than fit a dict."""

    def __init__(self, values: dict[str, tuple[int, list]]) -> None:
        folder = tempfile.mkdtemp(prefix="tabml-entities-")
        self.db = sqlite3.connect(os.path.join(folder, "values.db"), check_same_thread=False)
        self.db.execute("CREATE TABLE latest (key TEXT PRIMARY KEY, at INTEGER, vals TEXT)")
        rows = ((k, t, json.dumps(v)) for k, (t, v) in values.items())
        self.db.executemany("INSERT INTO latest VALUES (?, ?, ?)", rows)
        self.db.commit()

    def get(self, key: str) -> tuple[int, list] | None:
        found = self.db.execute("SELECT at, vals FROM latest WHERE key = ?", (key,)).fetchone()
        return None if found is None else (found[0], json.loads(found[1]))


class EntityStore:
    """Every declared table's latest values; `fill` completes records in place."""

    def __init__(
        self, entities: EntityJoin, root: Path, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.clock, self.tables = clock, []
        for spec in entities.tables:
            values = latest_values(spec, root)
            store = values if len(values) <= IN_MEMORY_KEYS else SqliteValues(values)
            ttl = None if spec.ttl is None else int(spec.ttl.total_seconds() * 1e9)
            self.tables.append((spec, store, ttl))

    def fill(self, records: list[dict]) -> list[dict]:
        """Add each table's features to each record; the problems as pydantic-style errors."""
        now, problems = self.clock(), []
        for i, record in enumerate(records):
            for spec, store, ttl in self.tables:
                key = record.get(spec.key)
                found = None if key is None else store.get(str(key))
                if found is None:
                    msg = f"unknown key {key!r}: no {spec.name} value for it"
                elif ttl is not None and now - found[0] > ttl and spec.on_stale == "refuse":
                    at = pd.Timestamp(found[0], tz="UTC").isoformat()
                    msg = f"the latest {spec.name} value of {key!r} is from {at}, older than ttl"
                else:
                    record.update(zip(spec.features, found[1], strict=True))
                    continue
                problems.append({"loc": ["records", i, spec.key], "msg": msg,
                                 "type": "entity_lookup"})  # fmt: skip
        return problems


def entity_store(entities: EntityJoin | None) -> EntityStore | None:
    """The service's store (None without entity tables), read from TABML_ENTITY_ROOT or '.'."""
    if entities is None:
        return None
    return EntityStore(entities, entity_root())
