"""Batch explanations (`make batch EXPLAIN=1`): the `explanations` table, one row per prediction.

A row holds the batch id and input row (join with the `predictions` view on both), the
predicted class (null for a regression model, whose value is explained), the base value,
the `top` largest contributions as `explain_<i>_feature` / `explain_<i>_contribution` and
the sum of the others (`tabml.scoring.explain` says what they guarantee). Without the flag
nothing here runs and the table is not created.
"""

from collections.abc import Iterator

import numpy as np
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Connection

from tabml.batch.db import SchemaMismatchError
from tabml.scoring.explain import Explainer
from tabml.scoring.inputs import Inputs

# Records per onnxruntime call: each one is 2**features rows (64 for the penguins).
EXPLAIN_ROWS = 2_000


def explanations_table(top: int) -> Table:
    """`explanations` with `top` feature/contribution column pairs."""
    pairs = []
    for i in range(1, top + 1):
        pairs += [Column(f"explain_{i}_feature", Text), Column(f"explain_{i}_contribution", Float)]
    return Table(
        "explanations",
        MetaData(),
        Column("batch_id", String(64), primary_key=True),
        Column("input_row", Integer, primary_key=True, autoincrement=False),
        Column("class", Text),  # a classifier's explained class (a regression model: null)
        Column("base_value", Float, nullable=False),
        *pairs,
        Column("other_features", Float, nullable=False),
    )


def create_explanations_table(conn: Connection, top: int) -> Table:
    """Create the table if missing; refuse one made with another number of contributions."""
    table = explanations_table(top)
    table.metadata.create_all(conn)
    existing = {c["name"] for c in inspect(conn).get_columns("explanations")}
    if existing != {c.name for c in table.columns}:
        raise SchemaMismatchError(
            f"table explanations holds another number of contributions than --explain-top "
            f"{top}: use the same top, or score into another database (DB=...)"
        )
    return table


def explanation_rows(
    good: Inputs, input_rows: np.ndarray, explainer: Explainer, batch_id: str, top: int
) -> Iterator[tuple]:
    """Rows (in table column order) explaining each row of `good` (the chunk's valid rows)."""
    features, head = explainer.features, explainer.model.task.explanation_head
    for start in range(0, good.rows, EXPLAIN_ROWS):
        part = good.take(_window(good.rows, start, EXPLAIN_ROWS))
        predicted, base, contrib = explainer.contributions(part)
        order = explainer.ranking(contrib)
        shown = np.take_along_axis(contrib, order[:, :top], axis=1)
        others = contrib.sum(axis=1) - shown.sum(axis=1)
        for r in range(part.rows):
            pairs = []
            for j, value in zip(order[r, :top], shown[r], strict=True):
                pairs += [features[j], float(value)]
            pairs += [None, None] * (top - len(order[r, :top]))  # fewer features than top
            explained = head(int(predicted[r])).get("class")
            yield (batch_id, int(input_rows[start + r]), explained,
                   float(base[r]), *pairs, float(others[r]))  # fmt: skip


def _window(rows: int, start: int, length: int) -> np.ndarray:
    mask = np.zeros(rows, dtype=bool)
    mask[start : start + length] = True
    return mask
