"""Writing a batch into PostgreSQL: chunks `COPY`'d into staging, one transaction moves them.

`DB=postgresql://user:password@host:5432/dbname` (a SQLAlchemy URL or a libpq URI, e.g.
`postgresql://postgres@/postgres?host=/run/postgresql`) uses psycopg 3.

The batch runs in one transaction on one connection. Its chunks (in any order) are `COPY`'d
as CSV into temporary staging tables (`LIKE prediction_rows`, `LIKE rejects`, ...: private to
the connection, dropped at commit); the CSV text is made where the chunk was scored (a Dask
worker or this process) by pyarrow's writer, whose floats read back exactly. At the end the
batch takes `batches`' lock (SHARE ROW EXCLUSIVE: one batch moves at a time, readers go on),
checks again that it was not scored meanwhile, takes the next free id range and moves the
staged rows in with `INSERT ... SELECT`; then commits. Concurrent batches score side by side
and take turns only for the move, so, unlike SQLite, none waits for another's scoring and
none loses a race for ids; the same file twice is scored once (the second is "already
scored"). Any failure rolls everything back: nothing staged survives the connection.
"""

import io
from contextlib import ExitStack
from dataclasses import replace

import numpy as np
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from tabml.batch import db as batch_db
from tabml.batch.score_partition import ChunkScores
from tabml.scoring.model import PackagedModel

SCHEMA_LOCK = 0x7461626D6C  # pg_advisory_xact_lock key: "tabml", while tables are created


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def postgres_engine(url: str) -> Engine:
    """An engine on psycopg 3 for a `postgresql://` URL that names no driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed)


def csv_bytes(columns: list) -> bytes:
    """Columns (arrays or lists, None for NULL) as headerless CSV for `COPY ... (FORMAT csv)`.

    Strings are quoted ("" is an empty string), a NULL is an empty unquoted field, and floats
    are written in their shortest exact form (they read back as the same float64).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    arrays = [
        pa.array(c) if isinstance(c, np.ndarray) else pa.array(c, type=_arrow_type(c))
        for c in columns
    ]
    table = pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))])
    out = io.BytesIO()
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False))
    return out.getvalue()


def _arrow_type(values: list):
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int}:
        return pa.int64() if kinds else pa.string()
    return pa.float64() if kinds <= {float, int} else pa.string()


def stage_chunk(scores: ChunkScores) -> ChunkScores:
    """The chunk with its scored rows as COPY text instead of arrays (made where it was scored).

    Columns: input row, key (only with a key column), outputs.
    """
    keys = [] if scores.keys is None else [scores.keys]
    columns = [scores.rows.astype(np.int64), *keys, *scores.outputs]
    staged = csv_bytes(columns) if len(scores.rows) else b""
    return replace(scores, rows=scores.rows[:0], keys=None, outputs=[], staged=staged)


class AlreadyScored(Exception):
    """Another run committed the same batch while this one was scoring."""


class PostgresSink:
    """One batch's transaction on PostgreSQL (use in a `with` block; commits on a clean exit)."""

    staged = True  # takes chunks made by `stage_chunk`

    def __init__(self, url: str, model: PackagedModel, key: str | None, wait_seconds: float):
        self.url, self.model, self.key, self.wait = url, model, key, wait_seconds
        self._stack = ExitStack()

    def __enter__(self) -> "PostgresSink":
        engine = postgres_engine(self.url)
        self._stack.callback(engine.dispose)
        self.engine = engine
        return self

    def __exit__(self, *exc: object) -> bool | None:
        return self._stack.__exit__(*exc)

    def begin(self, values: dict, explain_top: int | None) -> bool:
        """Create missing tables; False if the batch was already scored, else open staging."""
        from tabml.batch.sqlite_sink import create_tables

        with self.engine.begin() as conn:
            conn.execute(select(text(f"pg_advisory_xact_lock({SCHEMA_LOCK})")))
            tables = create_tables(conn, self.model, explain_top)
            if batch_db.batch_exists(conn, tables[0], values["batch_id"]):
                return False
        self.batches, self.rows_table, self.rejects, self.explained = tables
        self.values = values
        self.conn: Connection = self._stack.enter_context(batch_db.writing(self.engine, self.wait))
        self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(self.wait * 1000)}ms'")
        self.staging = {}
        for table in (self.rows_table, self.rejects, self.explained):
            if table is not None:
                name = f"staging_{table.name}"
                self.conn.exec_driver_sql(
                    f"CREATE TEMP TABLE {name} (LIKE {table.name}) ON COMMIT DROP"
                )
                self.staging[table.name] = name
        names = [c.name for c in self.rows_table.columns]
        self.row_columns = names if self.key else [n for n in names if n != "key"]
        return True

    def _copy(self, table: str, columns: list[str], data: bytes) -> None:
        import psycopg

        cursor = self.conn.connection.driver_connection.cursor()
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        try:
            with cursor.copy(sql) as copy:
                copy.write(data)
        except psycopg.Error as err:  # as SQLAlchemy's own errors: one line from the CLI
            raise OperationalError(sql, None, err) from err

    def write(self, scores: ChunkScores) -> None:
        if scores.staged:
            self._copy(self.staging[self.rows_table.name], self.row_columns, scores.staged)
        for table, rows in ((self.rejects, scores.rejects), (self.explained, scores.explanations)):
            if rows and table is not None:
                columns = [list(c) for c in zip(*rows, strict=True)]
                names = [c.name for c in table.columns]
                self._copy(self.staging[table.name], names, csv_bytes(columns))

    def finish(self, rows: int, rejected: int) -> None:
        """Move the staged batch in (AlreadyScored: another run committed it meanwhile)."""
        conn = self.conn
        try:
            conn.exec_driver_sql("LOCK TABLE batches IN SHARE ROW EXCLUSIVE MODE")
        except OperationalError as err:
            raise batch_db.DatabaseBusyError(
                f"database {self.engine.url.render_as_string(hide_password=True)}: another batch "
                f"held the batches table for {self.wait:g} s; nothing was written: rerun"
            ) from err
        if batch_db.batch_exists(conn, self.batches, self.values["batch_id"]):
            raise AlreadyScored(self.values["batch_id"])
        first_id = batch_db.reserve_ids(conn, self.batches, self.values)
        batch_db.finish_batch(conn, self.batches, self.values["batch_id"], rows, rejected)
        names = [c.name for c in self.rows_table.columns]
        rest = ", ".join(names[1:])
        conn.exec_driver_sql(
            f"INSERT INTO {self.rows_table.name} ({', '.join(names)}) SELECT id + {first_id:d}, "
            f"{rest} FROM {self.staging[self.rows_table.name]}"
        )
        for table in (self.rejects, self.explained):
            if table is not None:
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} SELECT * FROM {self.staging[table.name]}"
                )
