"""Batch scoring's database side (SQLAlchemy Core): tables, the `predictions` view, writes.

Storage is shaped for write speed. `batches` has one row per scored file (model version, git
sha, scored_at and its millisecond `started_ms`, counts) and reserves a contiguous range of
row ids, `first_id` up to `first_id + rows - 1`: input row n of the file is id
`first_id + n`. `prediction_rows` holds only that id (SQLite's rowid: no second index to
maintain), the key, the label and one float per class; rejected rows leave their id unused.
Readers use the view `predictions`, which joins the two by id range and gives every
prediction its batch id, row number, model version, git sha, scored_at and prediction id (a
UUIDv7 derived from the batch and the row, what labels from `make feedback` join on:
`tabml.batch.batch_ids`). SQLite is the embedded default; PostgreSQL is the shared server
(`tabml.batch.postgres_sink`); the view's id is written in the SQL of those two.

Concurrent batches on one SQLite file take turns: each transaction starts with BEGIN
IMMEDIATE (the write lock), waiting for the other writer up to a timeout. Elsewhere a batch
that loses the race for an id range fails whole (nothing written) with a message to rerun.
"""

import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import numpy as np
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
    make_url,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from tabml.batch.batch_ids import check_dialect, prediction_id_sql
from tabml.errors import TabmlError

INSERT_BATCH = 2_000  # rows per executemany call
# Rows per INSERT statement in `insert_columns`, kept under 999 parameters (the limit of the
# oldest SQLite versions; newer ones allow 32,766).
ROWS_PER_INSERT, MAX_PARAMETERS = 100, 999
# SQLite makes a column the rowid only if it is declared exactly INTEGER PRIMARY KEY.
ROW_ID = BigInteger().with_variant(Integer, "sqlite")
# How long a batch waits for another one writing to the same SQLite file (a million rows
# take seconds; a rerun after a timeout is safe, it writes everything or nothing).
WAIT_SECONDS = 600.0
CACHE_KIB = 65536


class SchemaMismatchError(TabmlError, ValueError):
    """The database holds tables this version cannot write to (other classes, older layout)."""


class DatabaseBusyError(TabmlError, RuntimeError):
    """Another batch kept the database locked, or committed the ids this batch had read."""


def tables(outputs: Sequence[tuple[str, str]]) -> tuple[MetaData, Table, Table, Table]:
    """`batches`, `prediction_rows` (id, key and the task's `outputs`: name and "text" or
    "float", `tabml.scoring.task.Task.batch_columns`) and `rejects`."""
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
        # Unix milliseconds of the start, in every prediction id of the batch.
        Column("started_ms", BigInteger, nullable=False),
        # Unique: two writers racing for the same range cannot both commit.
        Column("first_id", ROW_ID, nullable=False, unique=True),
    )
    kinds = {"text": Text, "float": Float}
    rows = Table(
        "prediction_rows",
        meta,
        Column("id", ROW_ID, primary_key=True, autoincrement=False),  # first_id + input row
        Column("key", Text),
        *(Column(name, kinds[kind], nullable=False) for name, kind in outputs),
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


def connect(url: str, wait_seconds: float = WAIT_SECONDS) -> Engine:
    """An engine for `url`; SQLite gets WAL, synchronous=NORMAL (safe with WAL, faster), a
    64 MiB page cache, a busy timeout of `wait_seconds` and transactions that take the write
    lock when they begin.
    """
    sqlite = make_url(url).get_backend_name() == "sqlite"
    args = {"timeout": wait_seconds}
    engine = create_engine(url, **({"connect_args": args} if sqlite else {}))
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # no implicit BEGIN: `_begin` issues it
            cursor = dbapi_connection.cursor()
            _switch_to_wal(cursor, wait_seconds)
            cursor.execute("PRAGMA synchronous=NORMAL")
            # A million rows fill ~100 MB of pages: the default 2 MB cache spills mid-write.
            cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A deferred BEGIN reads the id ranges first and fails on its first write if
            # another batch committed meanwhile; IMMEDIATE waits for that batch instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _switch_to_wal(cursor: Any, wait_seconds: float) -> None:
    """PRAGMA journal_mode=WAL, retried: switching a new file's journal needs an exclusive
    lock and, unlike other statements, does not wait for it (another batch switching at the
    same moment gets `database is locked` at once)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def writing(engine: Engine, wait_seconds: float = WAIT_SECONDS) -> Iterator[Connection]:
    """`engine.begin()`, with a lock that outlasts the wait, or a lost race, as one line."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.begin() as conn:
            yield conn
    except OperationalError as err:
        if "locked" not in str(err) and "busy" not in str(err):
            raise
        raise DatabaseBusyError(
            f"database {where} stayed locked by another writer for {wait_seconds:g} s; "
            "nothing was written: rerun when it has finished"
        ) from None
    except IntegrityError:
        raise DatabaseBusyError(
            f"database {where}: another batch committed rows while this one was scoring; "
            "nothing was written: rerun (a file already scored is then skipped)"
        ) from None


def create_schema(
    conn: Connection, outputs: Sequence[tuple[str, str]]
) -> tuple[Table, Table, Table]:
    """Create what is missing; refuse tables of an older layout or made for another model
    (other classes, or the other task)."""
    meta, batches, rows, rejects = tables(outputs)
    refuse_unwritable(conn)
    meta.create_all(conn)
    existing = {c["name"] for c in inspect(conn).get_columns("prediction_rows")}
    missing = sorted({c.name for c in rows.columns} - existing)
    if missing:
        raise SchemaMismatchError(
            f"table prediction_rows lacks columns {missing}: it was made for a model with "
            "other classes or of another task; score into another database (DB=...)"
        )
    create_view(conn, ", ".join(["r.key", *(f"r.{name}" for name, _ in outputs)]))
    return batches, rows, rejects


def create_view(conn: Connection, row_columns: str) -> None:
    """The `predictions` view (if missing): `row_columns` of `prediction_rows r`, with the
    batch's columns and the prediction id of each row."""
    row = "r.id - b.first_id"
    prediction_id = prediction_id_sql(conn.dialect.name, "b.started_ms", row, "b.batch_id")
    # Batches outside, a rowid range inside: SQLite reads each batch's rows by range.
    view = (
        f"SELECT b.batch_id, {row} AS input_row, {row_columns}, b.model_version, b.git_sha, "
        f"b.scored_at, {prediction_id} AS prediction_id FROM batches b "
        "JOIN prediction_rows r ON r.id BETWEEN b.first_id AND b.first_id + b.rows - 1"
    )
    if "predictions" not in inspect(conn).get_view_names():
        conn.execute(text(f"CREATE VIEW predictions AS {view}"))


def refuse_unwritable(conn: Connection) -> None:
    """Refuse, before creating anything, a database other than SQLite or PostgreSQL, and
    tables of an older layout, which cannot take new batches (their `predictions` view still
    reads them): rows keyed by batch_id text, rows without prediction ids, or ids stored per
    row."""
    check_dialect(conn.dialect.name)
    found = inspect(conn)
    names = found.get_table_names()
    if "prediction_rows" not in names:
        return
    rows = {c["name"] for c in found.get_columns("prediction_rows")}
    batches = {c["name"] for c in found.get_columns("batches")} if "batches" in names else set()
    if "batch_id" in rows:
        why = "prediction_rows keyed by batch_id"
    elif "prediction_id" in rows:
        why = "a prediction_id stored in every row"
    elif "started_ms" not in batches:
        why = "no prediction_id column, so labels cannot be joined to its predictions"
    else:
        return
    raise SchemaMismatchError(
        f"this database was written by an older tabml batch layout ({why}; its `predictions` "
        "view still reads it): score into a new database (DB=sqlite:///new.db) or move this "
        "one aside"
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


def insert_rows(conn: Connection, table: Table, rows: Iterable[tuple]) -> None:
    """Bulk insert tuples in column order, one row per statement (rejects, explanations).

    SQLite's driver gets executemany straight, skipping SQLAlchemy's per-row parameter
    processing (~2x faster for a million rows).
    """
    names = [c.name for c in table.columns]
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=names))
    rows = iter(rows)
    # Slices of a few thousand tuples: measured ~10% faster than one list per 100k-row chunk
    # (the tuples are used while still in cache and freed at once), and less memory.
    while batch := list(islice(rows, INSERT_BATCH)):
        conn.exec_driver_sql(sql, batch)


def insert_columns(
    conn: Connection, table: Table, columns: Sequence, omit: Collection[str] = ()
) -> None:
    """Insert equal-length columns (numpy arrays or lists) as rows in column order, leaving
    out the columns in `omit`, with up to `ROWS_PER_INSERT` rows per INSERT statement.

    SQLite binds the same values either way but steps one statement per 100 rows instead of
    one per row: a million rows of a classifier measured ~40% faster than one row per
    statement (`executemany`, 1.24 s against 0.75 s with the commit).
    """
    names = [c.name for c in table.columns if c.name not in omit]
    count = len(columns[0]) if columns else 0
    if not count:
        return
    grid = np.empty((count, len(names)), dtype=object)
    for j, column in enumerate(columns):  # Python ints, floats and str: what sqlite3 binds
        grid[:, j] = column.tolist() if isinstance(column, np.ndarray) else column
    quote = conn.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    row = "(" + ", ".join("?" * len(names)) + ")"
    per = max(1, min(ROWS_PER_INSERT, MAX_PARAMETERS // len(names)))
    full = count - count % per
    block = per * (INSERT_BATCH // per or 1)  # rows bound while still in cache, as above
    many = head + ", ".join([row] * per)
    for start in range(0, full, block):
        values = grid[start : min(start + block, full)].reshape(-1, per * len(names))
        conn.exec_driver_sql(many, list(map(tuple, values.tolist())))
    if full < count:
        rest = count - full
        conn.exec_driver_sql(head + ", ".join([row] * rest), tuple(grid[full:].ravel().tolist()))
