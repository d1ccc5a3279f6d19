"""The shape matrix: seeded synthetic tables of every task and feature kind the template claims.

Tasks: binary and multiclass classification, regression; one table per task, each holding
every feature kind:

| kind | column | how it is written |
|---|---|---|
| numeric with gaps | `amount` | floats, ~10% empty |
| categorical with unseen levels | `colour` | red/green/blue, a rare `violet` (seldom trained on) |
| boolean | `member` | True/False |
| integer-coded category | `region` | 1..4 (bootstrap is told `--categorical region`) |
| ISO date | `signup` | 2019-03-04 |
| slash date | `visit` | 2019/03/04 |
| datetime with time and zone | `event` | 2019-03-04T10:15:00+02:00 |
| free text bootstrap drops | `notes` | sentences of 6+ words |
| bytes categories in parquet | `colour` | the parquet variant stores them as BINARY |

Every table's target depends on several features, so a model has something to learn and the
gates pass. `records`, `invalid_records` and `parquet_with_bytes` give what a test sends.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "near", "seven"]


@dataclass(frozen=True)
class Shape:
    name: str
    task: str  # binary, multiclass or regression
    kinds: tuple[str, ...]
    rows: int = 400
    seed: int = 0

    @property
    def columns(self) -> list[str]:
        return [COLUMN[kind] for kind in self.kinds]

    @property
    def categorical(self) -> list[str]:
        """Columns bootstrap is told are categories (an integer-coded one)."""
        return ["region"] if "integer_category" in self.kinds else []

    @property
    def family(self) -> str:
        return "ridge" if self.task == "regression" else "logistic_regression"


COLUMN = {
    "numeric_gaps": "amount",
    "categorical_unseen": "colour",
    "boolean": "member",
    "integer_category": "region",
    "iso_date": "signup",
    "slash_date": "visit",
    "datetime_zone": "event",
    "free_text": "notes",
}
ALL_KINDS = tuple(COLUMN)
# One table per task, each with every feature kind: the whole task x kind matrix in three.
SHAPES = [
    Shape("shape_binary", "binary", ALL_KINDS, seed=0),
    Shape("shape_multiclass", "multiclass", ALL_KINDS, seed=1),
    Shape("shape_regression", "regression", ALL_KINDS, seed=2),
]
# What invalid values look like per kind, and the field error they must give.
INVALID = {
    "numeric_gaps": "lots",
    "categorical_unseen": "mauve",
    "integer_category": 9,
    "iso_date": "2019-02-30",
    "slash_date": "04.03.2019",
    "datetime_zone": "yesterday",
}


def make_table(shape: Shape) -> pd.DataFrame:
    """The table, seeded: the same shape always gives the same rows."""
    rng = np.random.default_rng(shape.seed)
    n = shape.rows
    days = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), "D")
    minutes = pd.to_timedelta(rng.integers(0, 24 * 60, n), "min")
    signal = np.zeros(n)
    columns: dict[str, object] = {}
    for kind in shape.kinds:
        if kind == "numeric_gaps":
            amount = rng.normal(50, 15, n)
            signal += (amount - 50) / 15
            columns["amount"] = np.where(rng.random(n) < 0.1, np.nan, amount.round(2))
        elif kind == "categorical_unseen":
            colour = rng.choice(["red", "green", "blue", "violet"], n, p=[0.4, 0.35, 0.24, 0.01])
            signal += np.select([colour == "red", colour == "blue"], [1.0, -1.0], 0.0)
            columns["colour"] = colour
        elif kind == "boolean":
            member = rng.random(n) < 0.5
            signal += np.where(member, 0.8, -0.8)
            columns["member"] = member
        elif kind == "integer_category":
            region = rng.integers(1, 5, n)
            signal += np.select([region == 1, region == 4], [1.2, -1.2], 0.0)
            columns["region"] = region
        elif kind == "iso_date":
            signal += (days.year - 2019) * 0.9
            columns["signup"] = days.strftime("%Y-%m-%d")
        elif kind == "slash_date":
            signal += np.where(days.dayofyear > 182, 0.7, -0.7)
            columns["visit"] = days.strftime("%Y/%m/%d")
        elif kind == "datetime_zone":
            when = (days + minutes).tz_localize("Europe/Berlin", ambiguous="NaT",
                                                nonexistent="shift_forward")  # fmt: skip
            hours = np.nan_to_num(when.hour.to_numpy(dtype=float), nan=12.0)
            signal += np.where(hours >= 12, 0.6, -0.6)
            text = when.strftime("%Y-%m-%dT%H:%M:%S%z")
            columns["event"] = [
                t[:-2] + ":" + t[-2:] if isinstance(t, str) else None for t in text
            ]  # fmt: skip  (+0100 -> +01:00)
        elif kind == "free_text":
            columns["notes"] = [" ".join(rng.choice(WORDS, rng.integers(6, 10))) for _ in range(n)]
    frame = pd.DataFrame(columns)
    noise = rng.normal(0, 0.5, n)
    if shape.task == "binary":
        frame["y"] = np.where(signal + noise > 0, "yes", "no")
    elif shape.task == "multiclass":
        score = signal + noise
        frame["y"] = np.select([score < -0.7, score > 0.7], ["low", "high"], "mid")
    else:
        frame["y"] = (100 + 10 * signal + noise * 4).round(3)
    return frame


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as API records (JSON types: numbers, text, booleans, null)."""
    return json.loads(frame[columns].to_json(orient="records"))


def invalid_records(shape: Shape, good: dict) -> list[tuple[dict, str]]:
    """(record, the field it must be refused for): one invalid value per checkable kind."""
    found = []
    for kind in shape.kinds:
        if kind in INVALID:
            found.append(({**good, COLUMN[kind]: INVALID[kind]}, COLUMN[kind]))
    return found


def parquet_with_bytes(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` as parquet with its text categories stored as BINARY (bytes), as Hive and
    Spark writers do; booleans stay booleans, integer codes integers."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("colour",):
        if name in table.column_names:
            values = [None if v is None else v.encode() for v in table[name].to_pylist()]
            index = table.schema.get_field_index(name)
            table = table.set_column(index, name, pa.array(values, type=pa.binary()))
    pq.write_table(table, path)
    return path
