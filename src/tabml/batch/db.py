"""Batch scoring's database side (SQLAlchemy Core): tables, the `predictions` view, writes.

Storage is shaped for write speed. `batches` has one row per scored file (model version, git
sha, scored_at, counts) and reserves a contiguous range of row ids, `first_id` up to
`first_id + rows - 1`: input row n of the file is id `first_id + n`. `prediction_rows` holds
only that id (SQLite's rowid: no second index to maintain), the key, the label and one float
per class, and the prediction's id (a UUIDv7, what labels from `make feedback` join on);
rejected rows leave their id unused. Readers use the view `predictions`, which
joins the two by id range and gives every prediction its batch id, row number, model
version, git sha and scored_at. Any SQLAlchemy URL works; SQLite is the embedded default.
"""

import re
from collections.abc import Collection, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from tabml.errors import TabmlError

DEFAULT_URL = "sqlite:///predictions.db"
INSERT_BATCH = 2_000  # rows per executemany call
# SQLite makes a column the rowid only if it is declared exactly INTEGER PRIMARY KEY.
ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class SchemaMismatchError(TabmlError, ValueError):
    """The database holds tables this version cannot write to (other classes, older layout)."""


def proba_column(label: str) -> str:
    """Column name for one class's probability: `proba_<label>` in lowercase snake case."""
    return "proba_" + (re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_") or "class")


def tables(classes: Sequence[str]) -> tuple[MetaData, Table, Table, Table]:
    """`batches`, `prediction_rows` (one float column per class) and `rejects`."""
    meta = MetaData()
    batches = Table(
        "batches",
        meta,
        Column("batch_id", String(64), primary_key=True),
        Column("input", Text, nullable=False),
        Column("input_sha256", String(64), nullable=False),
        Column("model_version", String(128), nullable=False),
        Column("git_sha", String(40)),
        Column("classes", Text, nullable=False),  # JSON list, in proba column order
        Column("rows", Integer, nullable=False),
        Column("rejected", Integer, nullable=False),
        Column("scored_at", String(32), nullable=False),  # ISO 8601, UTC
        # Unique: two writers racing for the same range cannot both commit.
        Column("first_id", ROW_ID, nullable=False, unique=True),
    )
    rows = Table(
        "prediction_rows",
        meta,
        Column("id", ROW_ID, primary_key=True, autoincrement=False),  # first_id + input row
        Column("key", Text),
        Column("label", Text, nullable=False),
        *(Column(proba_column(c), Float, nullable=False) for c in classes),
        # A UUIDv7 (tabml.scoring.prediction_ids), like the service's: labels join on it.
        Column("prediction_id", String(36), nullable=False),
    )
    rejects = Table(
        "rejects",
        meta,
        Column("batch_id", String(64), primary_key=True),
        Column("input_row", Integer, primary_key=True, autoincrement=False),
        Column("key", Text),
        Column("reason", Text, nullable=False),
        Column("record", Text, nullable=False),  # the original row as JSON
    )
    return meta, batches, rows, rejects


def connect(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and synchronous=NORMAL (safe with WAL, faster)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def create_schema(conn: Connection, classes: Sequence[str]) -> tuple[Table, Table, Table]:
    """Create what is missing; refuse tables of an older layout or made for other classes."""
    meta, batches, rows, rejects = tables(classes)
    _refuse_old_layout(conn)
    meta.create_all(conn)
    existing = {c["name"] for c in inspect(conn).get_columns("prediction_rows")}
    missing = sorted({c.name for c in rows.columns} - existing)
    if missing:
        raise SchemaMismatchError(
            f"table prediction_rows lacks columns {missing}: it was made for a model with "
            "other classes; score into another database (DB=...)"
        )
    probas = ", ".join(f"r.{proba_column(c)}" for c in classes)
    # Batches outside, a rowid range inside: SQLite reads each batch's rows by range.
    view = (
        "SELECT b.batch_id, r.id - b.first_id AS input_row, r.key, r.label, "
        f"{probas}, b.model_version, b.git_sha, b.scored_at, r.prediction_id FROM batches b "
        "JOIN prediction_rows r ON r.id BETWEEN b.first_id AND b.first_id + b.rows - 1"
    )
    if "predictions" not in inspect(conn).get_view_names():
        conn.execute(text(f"CREATE VIEW predictions AS {view}"))
    return batches, rows, rejects


def _refuse_old_layout(conn: Connection) -> None:
    """Tables from before the id ranges (rows keyed by batch_id text) cannot take new batches."""
    found = inspect(conn)
    if "prediction_rows" in found.get_table_names():
        columns = {c["name"] for c in found.get_columns("prediction_rows")}
        if "batch_id" in columns:
            raise SchemaMismatchError(
                "this database was written by an older tabml batch layout (prediction_rows "
                "keyed by batch_id; its `predictions` view still reads it): score into a new "
                "database (DB=sqlite:///new.db) or move this one aside"
            )
        if "prediction_id" not in columns:
            raise SchemaMismatchError(
                "this database was written by an older tabml batch layout (no prediction_id "
                "column, so labels cannot be joined to its predictions): score into a new "
                "database (DB=sqlite:///new.db) or move this one aside"
            )


def batch_exists(conn: Connection, batches: Table, batch_id: str) -> bool:
    return conn.execute(batches.select().where(batches.c.batch_id == batch_id)).first() is not None


def reserve_ids(conn: Connection, batches: Table, values: dict[str, Any]) -> int:
    """Insert the batch's row (counts zero until `finish_batch`) and return its first row id.

    Ranges are handed out in commit order, so a writer that read a stale end picks the
    `first_id` of a batch committed since: the unique constraint refuses it (nothing written).
    Readers see the row only on commit, with its final counts.
    """
    end = batches.c.first_id + batches.c.rows
    first_id = conn.execute(select(func.coalesce(func.max(end), 1))).scalar_one()
    conn.execute(batches.insert().values(**values, rows=0, rejected=0, first_id=first_id))
    return first_id


def finish_batch(conn: Connection, batches: Table, batch_id: str, rows: int, rejected: int) -> None:
    """Record the counts; `rows` also closes the batch's id range."""
    update = batches.update().where(batches.c.batch_id == batch_id)
    conn.execute(update.values(rows=rows, rejected=rejected))


def insert_rows(
    conn: Connection, table: Table, rows: Iterable[tuple], omit: Collection[str] = ()
) -> None:
    """Bulk insert tuples in column order, leaving out the columns in `omit` (NULL).

    Positional dialects (SQLite) get the driver's executemany straight, skipping
    SQLAlchemy's per-row parameter processing (~2x faster for a million rows).
    """
    names = [c.name for c in table.columns if c.name not in omit]
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=names))
    rows = iter(rows)
    # Slices of a few thousand tuples: measured ~10% faster than one list per 100k-row chunk
    # (the tuples are used while still in cache and freed at once), and less memory.
    while batch := list(islice(rows, INSERT_BATCH)):
        if conn.dialect.positional:
            conn.exec_driver_sql(sql, batch)
        else:
            conn.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in batch])
