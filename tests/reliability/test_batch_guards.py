"""Batch scoring and drift against hostile inputs, into real SQLite files.

Non-finite numbers, ragged CSV rows, duplicate or enormous header names, a file that changes
while it is read, and several batches writing to one database at once: each is a per-row
reject or one clear line, never a traceback, a partial batch or a duplicated row.
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from tabml import paths
from tabml.batch.db import DatabaseBusyError
from tabml.batch.score import score_file
from tabml.model.features import model_frame
from tabml.monitoring.drift import drift_report
from tabml.monitoring.drift_files import write_report
from tabml.params import DriftParams
from tabml.tables import TableError
from testkit import tool_env

pytestmark = pytest.mark.integration  # locked databases waited for, child processes

COLUMNS = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]


@pytest.fixture(scope="module")
def onnx(packaged):
    """The scikit-learn pipeline: the independent reference for batch's labels."""
    return joblib.load(packaged / paths.MODEL)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "predictions.db"


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def counts(db: Path) -> tuple[int, int, int]:
    if not db.exists():
        return (0, 0, 0)
    tables = ("batches", "predictions", "rejects")
    try:
        return tuple(query(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables)
    except sqlite3.OperationalError:  # no tables: nothing was ever committed
        return (0, 0, 0)


def cli_batch(packaged: Path, source: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    """`python -m tabml.cli batch` (what `make batch` runs) in the packaged repository."""
    cmd = [sys.executable, "-m", "tabml.cli", "batch", str(source), "--db", f"sqlite:///{db}"]
    return subprocess.run(
        [*cmd, *extra], cwd=packaged, env=tool_env(packaged), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def penguins_rows(raw_penguins: pd.DataFrame, n: int) -> pd.DataFrame:
    """`n` complete penguin rows (resampled, seed 0): every one of them is a valid input."""
    clean = raw_penguins[COLUMNS].dropna()
    return clean.sample(n, replace=True, random_state=0).reset_index(drop=True)


def expected_labels(pipeline, frame: pd.DataFrame, profile) -> list[str]:
    return pipeline.predict(model_frame(frame, profile.features)).tolist()


# --- non-finite numbers --------------------------------------------------------------------

NON_FINITE = ["inf", "-Infinity", "1e400", "Inf", "-inf"]


def test_non_finite_numbers_are_rejects_and_good_rows_are_scored(
    tmp_path, db, model, onnx, profile, raw_penguins
):
    good = penguins_rows(raw_penguins, 40)
    text = good.astype(object)
    bad_rows = {3: "bill_length_mm", 10: "body_mass_g", 17: "flipper_length_mm",
                25: "bill_depth_mm", 39: "body_mass_g"}  # fmt: skip
    for (row, column), value in zip(bad_rows.items(), NON_FINITE, strict=True):
        text.loc[row, column] = value
    source = tmp_path / "in.csv"
    text.to_csv(source, index=False)
    result = score_file(source, f"sqlite:///{db}", model, chunk_rows=16)
    assert (result.rows, result.rejected) == (40, 5)
    rejects = query(db, "SELECT input_row, reason, record FROM rejects ORDER BY input_row")
    assert [r[0] for r in rejects] == sorted(bad_rows)
    for (row, reason, record), value in zip(rejects, NON_FINITE, strict=True):
        sign = "-" if value.startswith("-") else ""
        assert reason == f"{bad_rows[row]}: {sign}inf is not finite"
        assert json.loads(record)[bad_rows[row]] == f"{sign}inf"  # valid JSON, value kept
    kept = good.drop(index=list(bad_rows))
    rows = query(db, "SELECT input_row, label FROM predictions ORDER BY input_row")
    assert [r[0] for r in rows] == kept.index.tolist()
    assert [r[1] for r in rows] == expected_labels(onnx, kept, profile)


def test_non_finite_numbers_in_parquet_are_rejects(tmp_path, db, model, raw_penguins):
    frame = penguins_rows(raw_penguins, 10)
    frame.loc[2, "body_mass_g"], frame.loc[7, "bill_depth_mm"] = np.inf, -np.inf
    source = tmp_path / "in.parquet"
    frame.to_parquet(source)
    result = score_file(source, f"sqlite:///{db}", model)
    assert (result.rows, result.rejected) == (10, 2)
    assert query(db, "SELECT input_row, reason FROM rejects ORDER BY input_row") == [
        (2, "body_mass_g: inf is not finite"),
        (7, "bill_depth_mm: -inf is not finite"),
    ]


def test_one_non_finite_row_among_many_writes_everything_else(tmp_path, db, model, raw_penguins):
    rows = penguins_rows(raw_penguins, 50_000)
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    with source.open("a") as out:
        out.write("Biscoe,1e400,15.0,215.0,5650.0,male\n")
    result = score_file(source, f"sqlite:///{db}", model)
    assert (result.rows, result.rejected) == (50_001, 1)
    assert counts(db) == (1, 50_000, 1)


def test_drift_counts_non_finite_values_and_ignores_them(tmp_path, raw_penguins, profile):
    from tabml.model.training_stats import training_stats
    from tabml.scoring.metadata import TrainingStatistics

    training = TrainingStatistics.model_validate(training_stats(raw_penguins, profile))
    frame = raw_penguins.copy()
    positions = [0, 5, 9, 200]
    frame.loc[positions, "body_mass_g"] = [np.inf, -np.inf, np.inf, np.inf]
    report = drift_report(frame, training, DriftParams())
    result = report["features"]["body_mass_g"]
    assert result["non_finite_share"] == pytest.approx(len(positions) / len(frame))
    assert "non-finite" in "; ".join(result["reasons"])
    # The finite values are measured exactly as if the infinities were missing values.
    as_missing = frame.assign(body_mass_g=frame["body_mass_g"].replace([np.inf, -np.inf], np.nan))
    reference = drift_report(as_missing, training, DriftParams())["features"]["body_mass_g"]
    for name in ("psi", "ks_statistic", "outside_range_share", "mean", "production_shares"):
        assert result[name] == pytest.approx(reference[name]), name
    write_report(report, "test", tmp_path)  # strict JSON: it would refuse an infinity
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["features"]["body_mass_g"]["non_finite_share"] > 0


# --- ragged rows, duplicate and enormous header names ----------------------------------------


def test_ragged_rows_are_rejects_with_their_row_number(tmp_path, db, model, onnx, profile,
                                                      raw_penguins):  # fmt: skip
    good = penguins_rows(raw_penguins, 8)
    lines = good.to_csv(index=False, header=False).splitlines()
    short = "Biscoe,47.8,15.0,215.0"  # 4 fields
    long_by_one = lines[0] + ",extra"  # 7 fields
    long_by_three = lines[1] + ",a,b,c"  # 9 fields
    quoted = '"Bis\ncoe",40.0,18.0,190.0,4000.0,male'  # one row across two lines
    body = [lines[0], short, lines[1], "   ", quoted, long_by_one, lines[2], long_by_three,
            lines[3], ""]  # fmt: skip
    source = tmp_path / "ragged.csv"
    source.write_text(",".join(COLUMNS) + "\n" + "\n".join(body) + "\n")
    result = score_file(source, f"sqlite:///{db}", model, chunk_rows=3)
    # rows: 0 good, 1 short, 2 good, (blank line skipped), 3 quoted, 4 long, 5 good, 6 long, 7 good
    assert result.rows == 8
    rejects = query(db, "SELECT input_row, reason, record FROM rejects ORDER BY input_row")
    assert rejects[0] == (1, "4 fields where the header has 6", json.dumps(short))
    assert rejects[1][0] == 3 and rejects[1][1].startswith(r"island: 'Bis\ncoe' is not one of")
    assert rejects[2] == (4, "7 fields where the header has 6", json.dumps(long_by_one))
    assert rejects[3] == (6, "9 fields where the header has 6", json.dumps(long_by_three))
    predicted = query(db, "SELECT input_row, label FROM predictions ORDER BY input_row")
    assert [r[0] for r in predicted] == [0, 2, 5, 7]
    assert [r[1] for r in predicted] == expected_labels(onnx, good.iloc[[0, 1, 2, 3]], profile)


@pytest.mark.integration  # the CLI in a child process
def test_duplicate_columns_stop_the_file_in_one_line(tmp_path, packaged, raw_penguins):
    rows = penguins_rows(raw_penguins, 5)
    source = tmp_path / "dup.csv"
    rows.assign(extra=rows["island"]).to_csv(source, index=False)
    header, rest = source.read_text().split("\n", 1)
    source.write_text(header.replace("extra", "island") + ",sex\n" + rest)
    db = tmp_path / "out.db"
    result = cli_batch(packaged, source, db)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {source}: duplicate column names ['island', 'sex']: give every column its own name"
    )
    assert counts(db) == (0, 0, 0)


@pytest.mark.integration  # the CLI in a child process
def test_an_enormous_header_gives_a_short_error_line(tmp_path, packaged):
    source = tmp_path / "huge.csv"
    name = "x" * 300_000
    source.write_text(f"{name},{name}1,{name}2\n1,2,3\n")
    result = cli_batch(packaged, source, tmp_path / "out.db")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {source}: missing columns [")
    assert "'island'" in line and "x" * 60 + "...'" in line
    assert len(line) < 2_000  # each name is cut to 60 characters
    name = "x" * 2_000_000  # a header row over the limit of one row (1 MiB)
    source.write_text(f"{name},{name}1,{name}2\n1,2,3\n")
    result = cli_batch(packaged, source, tmp_path / "out.db")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {source}: the header row is longer than 1,048,576 bytes, the limit of one "
        "row: is it a CSV file?\n"
    )


# --- a file that changes while it is read -------------------------------------------------


def test_a_file_changed_while_scored_writes_nothing_and_a_rerun_scores_it_once(
    tmp_path, db, model, raw_penguins
):
    rows = penguins_rows(raw_penguins, 60_000)  # ~2 MB: more than the readers buffer
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    changed = []

    def append_while_reading(done, total, rejected, seconds):
        if not changed:  # after the first chunk: someone appends to the file
            with source.open("a") as out:
                out.write(rows.head(1000).to_csv(index=False, header=False))
            changed.append(done)

    url = f"sqlite:///{db}"
    with pytest.raises(TableError, match="changed while it was being read") as err:
        score_file(source, url, model, chunk_rows=10_000, progress=append_while_reading)
    assert "\n" not in str(err.value)
    assert changed and counts(db) == (0, 0, 0)
    again = score_file(source, url, model, chunk_rows=10_000)
    assert again.rows == 61_000 and not again.skipped
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert query(db, "SELECT input_sha256, rows FROM batches") == [(sha, 61_000)]
    assert score_file(source, url, model).skipped
    assert counts(db) == (1, 61_000, 0)


def test_a_parquet_file_rewritten_while_scored_writes_nothing(tmp_path, db, model, raw_penguins):
    rows = penguins_rows(raw_penguins, 30_000)
    source = tmp_path / "in.parquet"
    rows.to_parquet(source, row_group_size=5_000)
    other = rows.sample(frac=1.0, random_state=1)

    def rewrite(done, total, rejected, seconds):
        if done == 5_000:  # overwrite in place (same inode) after the first row group
            with source.open("r+b") as out:
                out.write(other.to_parquet())

    with pytest.raises(TableError):
        score_file(source, f"sqlite:///{db}", model, chunk_rows=5_000, progress=rewrite)
    assert counts(db) == (0, 0, 0)


# --- concurrent batches on one database ----------------------------------------------------


class WriteLock:
    """Another writer: holds SQLite's write lock on `db` until released."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.fixture
def two_files(tmp_path, raw_penguins) -> tuple[Path, Path]:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    penguins_rows(raw_penguins, 3_000).to_csv(first, index=False)
    penguins_rows(raw_penguins, 2_000).iloc[::-1].to_csv(second, index=False)
    return first, second


@pytest.mark.parametrize("fresh", [False, True], ids=["existing", "fresh"])
def test_a_locked_database_is_waited_for(db, model, two_files, fresh):
    """Fresh: an empty file, locked before any batch switched it to WAL (which needs an
    exclusive lock and, unlike other statements, is not waited for by SQLite itself)."""
    first, second = two_files
    if fresh:
        sqlite3.connect(db).close()
    else:
        score_file(first, f"sqlite:///{db}", model)
    lock = WriteLock(db)
    timer = threading.Timer(1.0, lock.release)
    timer.start()
    start = time.perf_counter()
    result = score_file(second, f"sqlite:///{db}", model, wait_seconds=60)
    timer.join()
    assert time.perf_counter() - start >= 0.9  # it waited for the other writer
    assert (result.rows, result.skipped) == (2_000, False)
    assert counts(db) == ((1, 2_000, 0) if fresh else (2, 5_000, 0))


@pytest.mark.integration  # the CLI in a child process
def test_a_lock_held_past_the_wait_is_one_line_to_rerun(tmp_path, db, packaged, model,
                                                       two_files):  # fmt: skip
    first, second = two_files
    score_file(first, f"sqlite:///{db}", model)
    lock = WriteLock(db)
    try:
        with pytest.raises(DatabaseBusyError, match="rerun when it has finished"):
            score_file(second, f"sqlite:///{db}", model, wait_seconds=0.2)
        result = cli_batch(packaged, second, db, "--wait", "0.5")
    finally:
        lock.release()
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: database sqlite:///{db} stayed locked by another writer for 0.5 s; "
        "nothing was written: rerun when it has finished"
    )
    assert counts(db) == (1, 3_000, 0)


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux: its /proc/<pid>/fd links)."""
    try:
        target = str(path.resolve())
        return any(os.readlink(fd) == target for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process ended meanwhile
        return False


@pytest.mark.slow  # three CLI processes
def test_concurrent_batches_take_turns_without_duplicates(tmp_path, db, packaged, two_files):
    first, second = two_files
    db.parent.mkdir(exist_ok=True)
    sqlite3.connect(db).close()
    lock = WriteLock(db)  # holds every run at its first write, so that all three overlap
    cmd = [sys.executable, "-m", "tabml.cli", "batch"]
    procs = [
        subprocess.Popen([*cmd, str(source), "--db", f"sqlite:///{db}"], cwd=packaged,
                         env=tool_env(packaged), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for source in (first, first, second)
    ]  # fmt: skip
    deadline = time.monotonic() + 120  # until each run has reached the database (or ended)
    while not all(p.poll() is not None or _has_open(p.pid, db) for p in procs):
        assert time.monotonic() < deadline, "the batches did not reach the database"
        time.sleep(0.1)
    lock.release()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    said = [out for out, _ in outputs]
    assert sum("already scored" in s for s in said[:2]) == 1  # the same file, scored once
    assert counts(db) == (2, 5_000, 0)
    ids = query(db, "SELECT batch_id, COUNT(*), COUNT(DISTINCT input_row) FROM predictions "
                    "GROUP BY batch_id ORDER BY 2")  # fmt: skip
    assert [(n, distinct) for _, n, distinct in ids] == [(2_000, 2_000), (3_000, 3_000)]


def test_long_rows_are_rejects_and_a_monstrous_one_stops_the_file(tmp_path, db, model,
                                                                  raw_penguins):  # fmt: skip
    good = penguins_rows(raw_penguins, 3_000)
    lines = good.to_csv(index=False).splitlines()
    long_row = lines[5] + "," * 5_000  # 5,006 fields
    source = tmp_path / "long.csv"
    source.write_text("\n".join([*lines[:5], long_row, *lines[5:], long_row, long_row]) + "\n")
    result = score_file(source, f"sqlite:///{db}", model, chunk_rows=1_000)
    assert (result.rows, result.rejected) == (3_003, 3)
    reason = "5006 fields where the header has 6"
    assert query(db, "SELECT input_row, reason FROM rejects ORDER BY input_row") == [
        (4, reason),
        (3_001, reason),
        (3_002, reason),
    ]
    assert query(db, "SELECT COUNT(*), MAX(input_row) FROM predictions") == [(3_000, 3_000)]
    monstrous = tmp_path / "monstrous.csv"
    monstrous.write_text("\n".join([*lines[:3], "," * 200_000, *lines[3:]]) + "\n")
    with pytest.raises(TableError, match=r"row 2 has 200,001 fields where the header has 6"):
        score_file(monstrous, f"sqlite:///{db}", model)


def test_a_huge_bad_value_is_cut_in_the_reason_and_kept_in_the_record(tmp_path, db, model,
                                                                      raw_penguins):  # fmt: skip
    rows = penguins_rows(raw_penguins, 3).astype(object)
    rows.loc[1, "island"] = "A" * 1_000_000
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    score_file(source, f"sqlite:///{db}", model)
    [(reason, record)] = query(db, "SELECT reason, record FROM rejects")
    assert reason.startswith("island: '" + "A" * 100 + "...' is not one of") and len(reason) < 200
    assert json.loads(record)["island"] == "A" * 1_000_000
