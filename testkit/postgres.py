"""A real PostgreSQL server for tests and benchmarks (the `pgserver` wheel, Unix socket only).

`postgres_server(folder)` starts one (stopped when the block ends); `fresh_database(server,
name)` creates an empty database on it and returns its libpq URI, what `DB=` takes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def postgres_server(folder: Path) -> Iterator[object]:
    import pgserver

    server = pgserver.get_server(str(folder), cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()


def fresh_database(server, name: str) -> str:
    """A new, empty database `name` (dropped first if it exists); its URI."""
    server.psql(f"DROP DATABASE IF EXISTS {name};")
    server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(name)


ROWS_SQL = (
    "SELECT input_row, label, proba_adelie, proba_chinstrap, proba_gentoo, "
    "substr(prediction_id, 15) FROM predictions ORDER BY input_row"
)
REJECTS_SQL = "SELECT input_row, key, reason, record FROM rejects ORDER BY input_row"


def pg_rows(url: str, sql: str) -> list[tuple]:
    """The rows of a query on the database at `url`."""
    from sqlalchemy import text

    from tabml.batch.postgres_sink import postgres_engine

    engine = postgres_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()
