"""Batch scoring of a regression model: the output columns and their tables.

`prediction_rows` holds `prediction`, `interval_low` and `interval_high` instead of a label
and one probability per class; `batches`, `rejects`, the id ranges, the prediction ids and
the `predictions` view work exactly as for classification (`tabml.batch.db`).
"""

import numpy as np
import pandas as pd
from sqlalchemy import Column, Float, MetaData, Table, Text, inspect
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
    """`prediction_rows` of a regression model: id, key, the value columns."""
    return Table(
        "prediction_rows",
        MetaData(),
        Column("id", batch_db.ROW_ID, primary_key=True, autoincrement=False),
        Column("key", Text),
        *(Column(name, Float, nullable=False) for name in VALUE_COLUMNS),
    )


def create_regression_schema(conn: Connection) -> tuple[Table, Table, Table]:
    """Create what is missing; refuse tables made for a classifier (or an older layout)."""
    _, batches, _, rejects = batch_db.tables([])
    rows = regression_rows_table()
    batch_db.refuse_unwritable(conn)
    for table in (batches, rows, rejects):
        table.create(conn, checkfirst=True)
    existing = {c["name"] for c in inspect(conn).get_columns("prediction_rows")}
    missing = sorted(set(VALUE_COLUMNS) - existing)
    if missing:
        raise batch_db.SchemaMismatchError(
            f"table prediction_rows lacks columns {missing}: it was made for a classification "
            "model; score into another database (DB=...)"
        )
    batch_db.create_view(conn, "r.key, " + ", ".join(f"r.{name}" for name in VALUE_COLUMNS))
    return batches, rows, rejects
