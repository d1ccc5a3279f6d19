"""Batch scoring into a real PostgreSQL server (pgserver): rows, rejects, reruns, races."""

import itertools
import sqlite3
import threading
import uuid

import pandas as pd
import pytest

from tabml.batch.score import score_file
from tabml.tables import TableError
from testkit.postgres import REJECTS_SQL, ROWS_SQL, pg_rows


def penguins(raw_penguins: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    return raw_penguins.sample(n, replace=True, random_state=seed).reset_index(drop=True)


def test_postgres_gets_the_rows_and_rejects_sqlite_gets(
    tmp_path, model, raw_penguins, postgres_url
):
    rows = penguins(raw_penguins, 3_000)
    rows.loc[7, "island"] = "Atlantis"
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    with source.open("a") as out:
        out.write("Adelie,Dream,1,2\n")  # too few fields: a reject
    result = score_file(source, postgres_url, model, chunk_rows=500, partition_bytes=20_000)
    assert (result.rows, result.skipped) == (3_001, False) and result.rejected >= 2
    db = tmp_path / "same.db"
    reference = score_file(source, f"sqlite:///{db}", model, chunk_rows=700)
    assert reference.batch_id == result.batch_id and reference.rejected == result.rejected
    with sqlite3.connect(db) as conn:
        expected_rows = conn.execute(ROWS_SQL).fetchall()
        expected_rejects = conn.execute(REJECTS_SQL).fetchall()
    assert pg_rows(postgres_url, ROWS_SQL) == expected_rows  # floats read back exactly
    assert pg_rows(postgres_url, REJECTS_SQL) == expected_rejects
    assert [r[0] for r in expected_rejects if r[2].startswith("island")] == [7]
    assert expected_rejects[-1][2] == "4 fields where the header has 8"


def test_a_rerun_is_a_no_op_and_a_failure_writes_nothing(
    tmp_path, model, raw_penguins, postgres_url
):
    source = tmp_path / "in.csv"
    penguins(raw_penguins, 2_000).to_csv(source, index=False)
    first = score_file(source, postgres_url, model, partition_bytes=30_000)
    again = score_file(source, postgres_url, model, partition_bytes=30_000)
    assert not first.skipped and again.skipped and again.batch_id == first.batch_id
    broken = tmp_path / "broken.csv"
    text_rows = source.read_text().splitlines()
    text_rows.insert(1_500, '"unclosed,quote')  # a parse error late in the file
    broken.write_text("\n".join(text_rows) + "\n")
    with pytest.raises(TableError):
        score_file(broken, postgres_url, model, partition_bytes=30_000)
    assert pg_rows(postgres_url, "SELECT count(*), sum(rows) FROM batches") == [(1, 2_000)]
    assert pg_rows(postgres_url, "SELECT count(*) FROM predictions") == [(2_000,)]


def test_concurrent_runs_take_turns_and_score_a_file_once(
    tmp_path, model, raw_penguins, postgres_url
):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    penguins(raw_penguins, 4_000, seed=1).to_csv(a, index=False)
    penguins(raw_penguins, 3_000, seed=2).to_csv(b, index=False)
    score_file(b, postgres_url, model)  # the tables exist; the three runs below race
    c = tmp_path / "c.csv"
    penguins(raw_penguins, 2_500, seed=3).to_csv(c, index=False)
    results, errors = [], []

    def run(path):
        try:
            results.append(score_file(path, postgres_url, model, partition_bytes=20_000))
        except Exception as err:  # shown by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(p,)) for p in (a, a, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted((r.rows, r.skipped) for r in results) == [
        (0, True),
        (2_500, False),
        (4_000, False),
    ]
    ranges = pg_rows(postgres_url, "SELECT first_id, rows FROM batches ORDER BY first_id")
    assert [r for _, r in ranges] in ([3_000, 4_000, 2_500], [3_000, 2_500, 4_000])
    for (first, rows), (following, _) in itertools.pairwise(ranges):
        assert first + rows == following  # contiguous, disjoint id ranges
    counts = pg_rows(postgres_url, "SELECT batch_id, count(*) FROM predictions GROUP BY batch_id")
    assert sorted(n for _, n in counts) == [2_500, 3_000, 4_000]


EDGE_ROWS = [0, 1, 65_535, 65_536, 2**30 - 1, 2**30, 2**31 + 12_345, 2**42 - 1]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_views_prediction_id_is_the_uuidv7_of_batch_start_row_and_batch_id(
    database, tmp_path, postgres_url
):
    """The SQL of each database against ids built by Python's `uuid` from the RFC 9562 fields
    (48 bits of time, version 7, 42 counter bits = the row, variant 0b10, 32 bits of salt = the
    batch id's first 8 hex digits), at the counter's bit boundaries."""
    from sqlalchemy import create_engine, text

    from tabml.batch.batch_ids import prediction_id_sql

    url = postgres_url if database == "postgresql" else f"sqlite:///{tmp_path / 'ids.db'}"
    started_ms, salt = 1_764_000_123_456, "9f3a0c7e"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    sql = [
        "SELECT " + prediction_id_sql(database, str(started_ms), str(row), f"'{salt}12345678'")
        for row in EDGE_ROWS
    ]
    with engine.connect() as conn:
        got = [conn.execute(text(query)).scalar_one() for query in sql]
    engine.dispose()
    expected = [
        str(uuid.UUID(int=started_ms << 80 | 7 << 76 | (row >> 30) << 64 | 0b10 << 62
                      | (row & (1 << 30) - 1) << 32 | int(salt, 16)))
        for row in EDGE_ROWS
    ]  # fmt: skip
    assert got == expected
    for text_id, row in zip(got, EDGE_ROWS, strict=True):
        parsed = uuid.UUID(text_id)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122) and str(parsed) == text_id
        assert parsed.int >> 80 == started_ms
        counter = (parsed.int >> 64 & 0xFFF) << 30 | (parsed.int >> 32 & (1 << 30) - 1)
        assert counter == row
        assert parsed.int & 0xFFFFFFFF == int(salt, 16)


def test_other_databases_are_refused_by_name():
    from tabml.batch.batch_ids import UnsupportedDatabaseError, prediction_id_sql

    with pytest.raises(UnsupportedDatabaseError, match="SQLite or PostgreSQL, not mysql"):
        prediction_id_sql("mysql", "b.started_ms", "r.id", "b.batch_id")
