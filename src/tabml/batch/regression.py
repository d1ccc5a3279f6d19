"""Batch scoring of a regression model: the output columns and their tables.

`prediction_rows` holds `prediction`, `interval_low` and `interval_high` instead of a label
and one probability per class; `batches`, `rejects`, the id ranges, the prediction ids and
the `predictions` view work exactly as for classification (`tabml.batch.db`).
"""

import numpy as np
import pandas as pd
from sqlalchemy import Column, Float, MetaData, String, Table, Text, inspect, text
from sqlalchemy.engine import Connection

from tabml.batch import db as batch_db
from tabml.scoring.packaged import PackagedModel

VALUE_COLUMNS = ("prediction", "interval_low", "interval_high")


def is_regression(model: PackagedModel) -> bool:
    return model.metadata.get("task") == "regression"


def regression_outputs(model: PackagedModel, frame: pd.DataFrame) -> list[np.ndarray]:
    """Prediction, interval low and interval high columns (float64) for the rows of `frame`."""
    values = model.classifier.predict(model.classifier.feeds_from_frame(frame))
    values = values.astype(np.float64).reshape(-1)
    half_width = float(model.metadata["prediction_interval"]["half_width"])
    return [values, values - half_width, values + half_width]


def regression_rows_table() -> Table:
    """`prediction_rows` of a regression model: id, key, the value columns, prediction id."""
    return Table(
        "prediction_rows",
        MetaData(),
        Column("id", batch_db.ROW_ID, primary_key=True, autoincrement=False),
        Column("key", Text),
        *(Column(name, Float, nullable=False) for name in VALUE_COLUMNS),
        # A UUIDv7, like the classifier's rows: `make monitor` joins labels on it.
        Column("prediction_id", String(36), nullable=False),
    )


def create_regression_schema(conn: Connection) -> tuple[Table, Table, Table]:
    """Create what is missing; refuse tables made for a classifier (or an older layout)."""
    _, batches, _, rejects = batch_db.tables([])
    rows = regression_rows_table()
    batch_db._refuse_old_layout(conn)
    for table in (batches, rows, rejects):
        table.create(conn, checkfirst=True)
    existing = {c["name"] for c in inspect(conn).get_columns("prediction_rows")}
    missing = sorted(set(VALUE_COLUMNS) - existing)
    if missing:
        raise batch_db.SchemaMismatchError(
            f"table prediction_rows lacks columns {missing}: it was made for a classification "
            "model; score into another database (DB=...)"
        )
    if "prediction_id" not in existing:
        raise batch_db.SchemaMismatchError(
            "this database was written by an older tabml batch layout (regression rows without "
            "a prediction_id column, so labels cannot be joined to its predictions): score "
            "into a new database (DB=sqlite:///new.db) or move this one aside"
        )
    view = (
        "SELECT b.batch_id, r.id - b.first_id AS input_row, r.key, r.prediction, "
        "r.interval_low, r.interval_high, b.model_version, b.git_sha, b.scored_at, "
        "r.prediction_id "
        "FROM batches b "
        "JOIN prediction_rows r ON r.id BETWEEN b.first_id AND b.first_id + b.rows - 1"
    )
    if "predictions" not in inspect(conn).get_view_names():
        conn.execute(text(f"CREATE VIEW predictions AS {view}"))
    return batches, rows, rejects
