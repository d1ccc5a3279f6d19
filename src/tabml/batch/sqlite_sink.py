"""Writing a batch into SQLite in one transaction.

The transaction begins (BEGIN IMMEDIATE: SQLite's write lock, waited for) before the first
row is scored and commits after the last, so a batch is all or nothing and concurrent batches
take turns. `write` is called chunk by chunk in file order: row ids ascend (SQLite appends
them to its rowid B-tree).
"""

import json
from contextlib import ExitStack
from typing import Any

from sqlalchemy.engine import Connection

from tabml.batch import db as batch_db
from tabml.batch.batch_ids import BatchIds
from tabml.batch.explanations import create_explanations_table
from tabml.batch.score_partition import ChunkScores
from tabml.scoring.model import PackagedModel


def create_tables(conn: Connection, model: PackagedModel, explain_top: int | None) -> tuple:
    """`batches`, `prediction_rows` (the task's columns), `rejects` and (with `explain_top`)
    `explanations`."""
    batches, rows, rejects = batch_db.create_schema(conn, model.task.batch_columns())
    explained = create_explanations_table(conn, explain_top) if explain_top else None
    return batches, rows, rejects, explained


def batch_values(batch: BatchIds, plan: Any, model: PackagedModel, git_sha: str | None) -> dict:
    """The `batches` row of a batch, counts and first id aside."""
    return {
        "batch_id": batch.batch_id,
        "input": str(plan.path),
        "input_sha256": plan.sha256,
        "model_version": model.version,
        "git_sha": git_sha,
        "classes": json.dumps(model.task.classes),
        "scored_at": batch.scored_at,
        "started_ms": batch.started_ms,
    }


class SqliteSink:
    """One batch's transaction (use in a `with` block; it commits on a clean exit)."""

    staged = False  # takes arrays, not COPY text

    def __init__(self, url: str, model: PackagedModel, key: str | None, wait_seconds: float):
        self.url, self.model, self.key, self.wait = url, model, key, wait_seconds
        self._stack = ExitStack()

    def __enter__(self) -> "SqliteSink":
        engine = batch_db.connect(self.url, self.wait)
        self._stack.callback(engine.dispose)
        self.conn = self._stack.enter_context(batch_db.writing(engine, self.wait))
        return self

    def __exit__(self, *exc: object) -> bool | None:
        return self._stack.__exit__(*exc)

    def begin(self, values: dict, explain_top: int | None) -> bool:
        """Create the tables and reserve the batch's ids; False if it was already scored."""
        tables = create_tables(self.conn, self.model, explain_top)
        self.batches, self.rows_table, self.rejects, self.explained = tables
        if batch_db.batch_exists(self.conn, self.batches, values["batch_id"]):
            return False
        self.batch_id = values["batch_id"]
        self.first_id = batch_db.reserve_ids(self.conn, self.batches, values)
        return True

    def write(self, scores: ChunkScores) -> None:
        keys = [] if scores.keys is None else [scores.keys]
        columns = [scores.rows + self.first_id, *keys, *scores.outputs]
        omit = () if self.key else ("key",)  # one parameter less to bind per row
        batch_db.insert_columns(self.conn, self.rows_table, columns, omit=omit)
        batch_db.insert_rows(self.conn, self.rejects, scores.rejects)
        if self.explained is not None:
            batch_db.insert_rows(self.conn, self.explained, scores.explanations)

    def finish(self, rows: int, rejected: int) -> None:
        batch_db.finish_batch(self.conn, self.batches, self.batch_id, rows, rejected)
