"""Scoring one partition: checks, the ONNX model and the rows to write. Pure, so any process
(this one, a Dask worker, a retry after a killed worker) gives the same output for it.

A row that breaks a rule, has a non-finite number or too few / too many fields (CSV) is a
reject with its reason; the others are scored. Rows are named by their file row number only:
the database gives them ids when it writes them (`first_id` + row), and their prediction ids
come from the batch (`tabml.batch.batch_ids`).
"""

import json
import math
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tabml.batch.batch_ids import BatchIds
from tabml.batch.explanations import explanation_rows
from tabml.scoring.entity_tables import entity_root, input_rules, join_frame, read_tables
from tabml.scoring.explain import Explainer
from tabml.scoring.model import PackagedModel
from tabml.tables import Partition, read_partition


@dataclass
class ChunkScores:
    """What one chunk writes. `outputs`: one array per column of the task's
    (`Task.batch_columns`: a label and one probability per class, or a value and its interval);
    `keys` None without a key column."""

    read: int
    rows: np.ndarray  # file row numbers of the scored rows, ascending
    keys: list | None
    outputs: list[np.ndarray]
    rejects: list[tuple] = field(default_factory=list)  # (batch_id, row, key, reason, record)
    explanations: list[tuple] = field(default_factory=list)
    staged: bytes | None = None  # PostgreSQL: the scored rows as COPY CSV (then no arrays)


def _json_value(value: object) -> object:
    # JSON has no infinity: keep it as the text pandas reads back (`inf`, `-inf`).
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _record_json(frame: pd.DataFrame, positions: np.ndarray) -> list[str]:
    rows = frame.iloc[positions].astype(object)
    rows = rows.where(rows.notna(), None).to_dict("records")
    return [
        json.dumps({k: _json_value(v) for k, v in r.items()}, default=str, allow_nan=False)
        for r in rows
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def score_chunk(
    frame: pd.DataFrame,
    model: PackagedModel,
    batch: BatchIds,
    first_row: int,
    key: str | None,
    ragged: dict[int, tuple[str, str]] | None = None,
    explain: tuple[Explainer, int] | None = None,
) -> ChunkScores:
    """The rows, rejects and explanations of one chunk whose first row is file row `first_row`.

    `ragged` maps chunk positions of CSV rows with the wrong number of fields to (reason, the
    row's text): the text is their record. Explanations only with `explain` (explainer, top).
    """
    inputs = model.inputs(frame)  # the one input path: checked, normalised, feeds
    problems = inputs.problems
    ragged = ragged or {}
    for i, (reason, _) in ragged.items():
        problems[i] = [reason]  # its cells are shifted or null: only the shape is the reason
    bad = np.zeros(len(frame), dtype=bool)
    bad[list(problems)] = True
    keys = frame[key].astype(object).where(frame[key].notna(), None) if key else None
    positions = sorted(problems)
    records = _record_json(frame, np.array(positions, dtype=int))
    rejects = [
        (batch.batch_id, first_row + i, None if keys is None else _text(keys.iat[i]),
         "; ".join(problems[i]), json.dumps(ragged[i][1]) if i in ragged else record)
        for i, record in zip(positions, records)
    ]  # fmt: skip
    good = inputs.take(~bad) if positions else inputs
    rows = np.flatnonzero(~bad) + first_row
    outputs = model.task.batch_values(model.predict(good))
    good_keys = None if keys is None else [_text(k) for k in keys[~bad]]
    explained = []
    if explain is not None:
        explained = list(explanation_rows(good, rows, explain[0], batch.batch_id, explain[1]))
    return ChunkScores(len(frame), rows, good_keys, outputs, rejects, explained)


def score_partition(
    part: Partition,
    parquet: bool,
    model: PackagedModel,
    batch: BatchIds,
    key: str | None,
    chunk_rows: int,
    explain: tuple[Explainer, int] | None = None,
) -> Iterator[ChunkScores]:
    """Read, check and score a partition chunk by chunk (entity features joined first)."""
    entities = model.metadata.entities
    tables = None if entities is None else read_tables(entities, entity_root())
    # read as pandas categoricals: each distinct value is checked and converted once
    read = input_rules(model.rules, entities)
    categorical = [r.name for r in read if r.kind != "numeric"]
    ragged_rows = np.array(sorted(part.ragged), dtype=np.int64)
    done = 0
    # closing: a failure while scoring a chunk closes the reader at once (a parquet handle)
    with closing(read_partition(part, parquet, chunk_rows, categorical)) as chunks:
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            lo, hi = np.searchsorted(ragged_rows, [done, done + len(chunk)])
            ragged = {int(r) - done: part.ragged[int(r)] for r in ragged_rows[lo:hi]}
            if entities is not None:  # as of each row's time, or now: as the features stage
                chunk = join_frame(chunk, entities, tables)
            yield score_chunk(chunk, model, batch, part.first_row + done, key, ragged, explain)
            done += len(chunk)
