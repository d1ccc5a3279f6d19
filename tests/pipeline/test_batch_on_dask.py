"""Batch scoring on Dask writes the rows it writes in process: LocalClusters of 1 and 2
workers, an external scheduler started from the command line (`make batch` through
DASK_SCHEDULER_ADDRESS), and a worker killed with SIGKILL in the middle of a batch; and the
forked scorer of in-process batches (same rows, killed, failing)."""

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime

import pandas as pd
import pytest

from tabml import paths
from tabml.batch.score import score_file
from tabml.engine import open_engine
from tabml.scoring.prediction_ids import timestamp_ms
from testkit import make_cmd, tool_env
from testkit.dask_cluster import dask_cluster


def write_input(raw_penguins: pd.DataFrame, path, n: int):
    rows = raw_penguins.sample(n, replace=True, random_state=0).reset_index(drop=True)
    rows.loc[[5, n // 2], "island"] = "Atlantis"  # two rejects, in different partitions
    rows.to_csv(path, index=False)
    with path.open("a") as out:
        out.write("Adelie,Dream,1,2\n")  # too few fields: a reject in the last partition
    return path


def dump(db) -> dict:
    """Everything a batch wrote, with the one thing that may differ between runs (its start
    time: `scored_at`, `started_ms` and the 48 time bits of each prediction id) checked and
    set aside."""
    with sqlite3.connect(db) as conn:
        batches = conn.execute(
            "SELECT batch_id, input, input_sha256, model_version, classes, rows, rejected, "
            "first_id, scored_at, started_ms FROM batches ORDER BY first_id"
        ).fetchall()
        rows = conn.execute("SELECT * FROM prediction_rows ORDER BY id").fetchall()
        ids = conn.execute("SELECT prediction_id FROM predictions ORDER BY input_row").fetchall()
        rejects = conn.execute("SELECT * FROM rejects ORDER BY batch_id, input_row").fetchall()
    ((scored_at, started_ms),) = {b[-2:] for b in batches}
    assert {timestamp_ms(i) for (i,) in ids} == {started_ms}
    assert started_ms // 1000 == int(datetime.fromisoformat(scored_at).timestamp())
    return {
        "batches": [b[:-2] for b in batches],
        "rows": rows,
        "ids": [i[14:] for (i,) in ids],
        "rejects": rejects,
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory, raw_penguins):
    return write_input(raw_penguins, tmp_path_factory.mktemp("dask") / "in.csv", 30_000)


@pytest.mark.slow  # a Dask cluster
def test_local_clusters_write_the_rows_written_in_process(tmp_path, source, model, packaged):
    files = (packaged / paths.ONNX_MODEL, packaged / paths.BENTO_ARCHIVE)
    dumps = {}
    for workers in (None, "1", "2"):
        env = {"TABML_DASK_WORKERS": workers} if workers else {}
        db = tmp_path / f"{workers or 'in-process'}.db"
        with open_engine(env, quiet=True) as engine:
            options = {"engine": engine, "model_files": files, "partition_bytes": 150_000}
            result = score_file(source, f"sqlite:///{db}", model, chunk_rows=4_000, **options)
        assert (result.rows, result.rejected) == (30_001, 3)
        dumps[workers] = dump(db)
    assert len(dumps[None]["rows"]) == 29_998
    assert dumps["1"] == dumps[None] and dumps["2"] == dumps[None]


@pytest.mark.slow  # a Dask cluster
def test_local_cluster_writes_postgresql_as_in_process(tmp_path, source, model, packaged,
                                                       postgres_server):  # fmt: skip
    from testkit.postgres import REJECTS_SQL, ROWS_SQL, fresh_database, pg_rows

    files = (packaged / paths.ONNX_MODEL, packaged / paths.BENTO_ARCHIVE)
    seen = []
    for workers in (None, "2"):
        url = fresh_database(postgres_server, f"dask_{workers or 'local'}")
        with open_engine({"TABML_DASK_WORKERS": workers} if workers else {}, quiet=True) as engine:
            score_file(
                source, url, model, engine=engine, model_files=files, partition_bytes=150_000
            )
        seen.append((pg_rows(url, ROWS_SQL), pg_rows(url, REJECTS_SQL)))
    assert len(seen[0][0]) == 29_998 and seen[1] == seen[0]


@pytest.mark.slow  # a Dask cluster
def test_make_batch_on_an_external_scheduler_even_when_a_worker_is_killed(
    tmp_path, raw_penguins, model, packaged
):
    big = write_input(raw_penguins, tmp_path / "big.csv", 60_000)  # ~2.9 MB
    expected = {}  # in process, per partition size (onnxruntime's floats follow the chunks)
    for size in (4 << 20, 64 << 10):
        reference = tmp_path / f"reference-{size}.db"
        score_file(big, f"sqlite:///{reference}", model, partition_bytes=size)
        expected[size] = dump(reference)
    with dask_cluster(tmp_path, workers=2) as (address, workers):
        env = {**tool_env(packaged), "DASK_SCHEDULER_ADDRESS": address}
        db = tmp_path / "make.db"
        made = subprocess.run(
            make_cmd("batch", f"INPUT={big}", f"DB=sqlite:///{db}"), cwd=packaged, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert f"engine: Dask scheduler {address} (2 workers)" in made.stderr
        assert dump(db) == expected[4 << 20]
        # Again in small partitions; SIGKILL one worker once the first chunks are written.
        killed = tmp_path / "killed.db"
        cmd = [sys.executable, "-m", "tabml.cli", "batch", str(big), "--db",
               f"sqlite:///{killed}", "--partition-bytes", str(64 << 10)]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=packaged, env=env, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("batch: ") and len(lines) > 3:
                workers[0].send_signal(signal.SIGKILL)
                at_kill = line
                break
        lines += proc.stderr.readlines()
        assert proc.wait(timeout=300) == 0, "".join(lines)
        assert workers[0].poll() == -signal.SIGKILL
        assert not at_kill.startswith("batch: 60,001/")  # the kill came before the end
    assert dump(killed) == expected[64 << 10]


@pytest.mark.integration  # scorer processes forked and killed
def test_a_forked_scorer_writes_the_rows_scored_between_writes(tmp_path, source, model,
                                                               monkeypatch):  # fmt: skip
    dumps = {}
    for fork in ("0", "1"):
        monkeypatch.setenv("TABML_BATCH_FORK", fork)
        db = tmp_path / f"fork-{fork}.db"
        result = score_file(source, f"sqlite:///{db}", model, chunk_rows=4_000,
                            partition_bytes=150_000)  # fmt: skip
        assert (result.rows, result.rejected) == (30_001, 3)
        dumps[fork] = dump(db)
    assert len(dumps["0"]["rows"]) == 29_998 and dumps["1"] == dumps["0"]


@pytest.mark.integration  # scorer processes forked and killed
def test_a_killed_scorer_fails_the_batch_and_writes_nothing(tmp_path, source, model):
    import multiprocessing

    from tabml.batch.scorer_process import ScorerDiedError

    def kill_the_scorer(done, *_):
        (child,) = multiprocessing.active_children()
        os.kill(child.pid, signal.SIGKILL)

    db = tmp_path / "killed.db"
    with pytest.raises(ScorerDiedError, match=r"signal SIGKILL.*nothing was written: rerun"):
        score_file(source, f"sqlite:///{db}", model, chunk_rows=4_000, partition_bytes=150_000,
                   progress=kill_the_scorer)  # fmt: skip
    with sqlite3.connect(db) as conn:  # the transaction that created the tables rolled back
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert multiprocessing.active_children() == []


@pytest.mark.integration  # scorer processes forked and killed
def test_a_scorer_error_is_raised_as_itself(tmp_path, source, model):
    from tabml.tables import TableError

    changing = tmp_path / "changing.csv"
    changing.write_bytes(source.read_bytes())

    def change_the_file(done, *_):  # later partitions no longer match the plan
        with changing.open("r+b") as out:
            out.seek(-200, os.SEEK_END)
            out.write(b"9")

    with pytest.raises(TableError, match="changed"):
        score_file(changing, f"sqlite:///{tmp_path / 'x.db'}", model, chunk_rows=4_000,
                   partition_bytes=150_000, progress=change_the_file)  # fmt: skip
