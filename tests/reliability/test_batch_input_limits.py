"""Batch input files that are hostile to the reader, not to the model: oversized cells, a
2 GiB file without a line end, bytes that are not UTF-8, quoted newlines by the million,
paths that are not regular files.

Each must end in one `error:` line naming the file (and the row) within a time and memory
bound, with no database file created, and every file the reader opened closed again. The
command line cases run `python -m tabml.cli batch` (what `make batch` runs) in a subprocess
whose peak RSS is read from the kernel (`wait4`).
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tabml.batch.score import score_file
from tabml.tables import MAX_ROW_BYTES, TableError, plan_table, read_partition, read_table
from testkit import tool_env

pytestmark = pytest.mark.integration  # files of GiBs, CLI child processes

HEADER = "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex"
ROW = "Biscoe,48.6,16.0,230.0,5800.0,male"
MAX_SECONDS = 60
MAX_RSS_MIB = 700  # the CLI with pandas, pyarrow and onnxruntime loaded is ~300 MiB


def run_measured(cmd: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """(exit code, stderr, peak RSS in MiB, seconds) of `cmd`, killed after MAX_SECONDS."""
    with tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env=tool_env(cwd), stdout=subprocess.DEVNULL,
                                stderr=err)  # fmt: skip
        timer = threading.Timer(MAX_SECONDS, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        err.seek(0)
        return proc.returncode, err.read().decode(), usage.ru_maxrss / 1024, seconds


def cli_batch(packaged: Path, source: Path, db: Path) -> tuple[int, str, float, float]:
    cmd = [sys.executable, "-m", "tabml.cli", "batch", str(source), "--db", f"sqlite:///{db}"]
    return run_measured(cmd, packaged)


def write_rows(path: Path, before: int, cell: str | None = None, after: int = 0) -> Path:
    with path.open("w") as out:
        out.write(HEADER + "\n" + (ROW + "\n") * before)
        if cell is not None:
            out.write(f"Biscoe,48.6,16.0,230.0,5800.0,{cell}\n")
        out.write((ROW + "\n") * after)
    return path


def open_files() -> set[str]:
    """What this process has open (fds that point at files)."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("/") and not target.startswith("/dev/"):
            found.add(target)
    return found


@pytest.mark.parametrize("megabytes", [5, 30])
def test_an_oversized_cell_stops_the_file_in_one_line_within_bounds(tmp_path, packaged,
                                                                    megabytes):  # fmt: skip
    source = write_rows(tmp_path / "cell.csv", 1_000, "m" * (megabytes << 20), 1_000)
    db = tmp_path / "out.db"
    code, stderr, rss, seconds = cli_batch(packaged, source, db)
    start = len(HEADER) + 1 + 1_000 * (len(ROW) + 1)
    assert (code, stderr) == (1, (
        f"error: {source}: row 1,000 (from byte {start:,}) is longer than 1,048,576 bytes, "
        "the limit of one row (or a quote is never closed): fix that row\n"
    )), stderr  # fmt: skip
    assert rss < MAX_RSS_MIB and seconds < MAX_SECONDS
    assert not db.exists()


def test_two_gib_without_a_line_end_is_refused_after_one_row(tmp_path, packaged):
    source = tmp_path / "endless.csv"
    with source.open("wb") as out:  # sparse: 2 GiB of zero bytes that take no disk
        out.truncate(2 << 30)
    db = tmp_path / "out.db"
    code, stderr, rss, seconds = cli_batch(packaged, source, db)
    assert (code, stderr) == (1, (
        f"error: {source}: the header row is longer than 1,048,576 bytes, the limit of one "
        "row: is it a CSV file?\n"
    )), stderr  # fmt: skip
    assert rss < MAX_RSS_MIB and seconds < MAX_SECONDS
    with source.open("r+b") as out:  # a header, then a data row without a line end
        out.write((HEADER + "\n").encode())
    code, stderr, rss, seconds = cli_batch(packaged, source, db)
    assert code == 1 and stderr.startswith(f"error: {source}: row 0 (from byte 70) is longer")
    assert rss < MAX_RSS_MIB and seconds < MAX_SECONDS
    assert not db.exists()


def test_a_row_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path, model):
    prefix = "Biscoe,48.6,16.0,230.0,5800.0,"
    at_limit = write_rows(tmp_path / "at.csv", 3, "x" * (MAX_ROW_BYTES - len(prefix)), 3)
    result = score_file(at_limit, f"sqlite:///{tmp_path / 'a.db'}", model, partition_bytes=64)
    assert (result.rows, result.rejected) == (7, 1)  # the long row is a reject (its sex)
    over = write_rows(tmp_path / "over.csv", 3, "x" * (MAX_ROW_BYTES - len(prefix) + 1), 3)
    with pytest.raises(TableError, match=r"row 3 \(from byte 175\) is longer than 1,048,576"):
        score_file(over, f"sqlite:///{tmp_path / 'b.db'}", model, partition_bytes=64)


def test_a_byte_that_is_not_utf8_names_its_row_and_creates_no_database(tmp_path, packaged):
    source = tmp_path / "latin1.csv"
    rows = [ROW] * 5_000
    rows[3_210] = "Biscoe,48.6,16.0,230.0,5800.0,m\xe9le"
    source.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("latin-1"))
    offset = len(HEADER) + 1 + 3_210 * (len(ROW) + 1) + len("Biscoe,48.6,16.0,230.0,5800.0,m")
    db = tmp_path / "out.db"
    code, stderr, _, _ = cli_batch(packaged, source, db)
    assert (code, stderr) == (1, (
        f"error: {source}: row 3,210 is not UTF-8 text (byte 0xe9 at offset {offset:,}): "
        "save the file as UTF-8\n"
    ))  # fmt: skip
    assert not db.exists()
    for partition_bytes in (100, 4096, 1 << 30):  # the row is found in any partition
        with pytest.raises(TableError, match=rf"row 3,210 is not UTF-8 text .* {offset:,}\)"):
            plan_table(source, [], partition_bytes)


def test_a_million_quoted_newlines_are_read_in_linear_time(tmp_path):
    source = tmp_path / "quoted.csv"
    cell = '"' + "\n" * 1_000_000 + '"'  # one row of 1 MB, a newline per byte
    source.write_text(HEADER + "\n" + f"{ROW}\n" * 20_000 + f"Biscoe,1,2,3,4,{cell}\n" + ROW)
    script = (
        "import sys; from tabml.tables import plan_table; "
        "p = plan_table(sys.argv[1], [], 10_000); print(p.rows)"
    )
    code, stderr, _, seconds = run_measured([sys.executable, "-c", script, str(source)],
                                            Path.cwd())  # fmt: skip
    assert code == 0, stderr  # a cut is looked for inside the cell: each search is linear
    assert seconds < MAX_SECONDS


@pytest.mark.parametrize("kind", ["directory", "character device", "named pipe"])
def test_inputs_that_are_not_regular_files_are_named_as_such(tmp_path, packaged, kind):
    if kind == "directory":
        source, said = tmp_path / "folder.csv", "a directory"
        source.mkdir()
    elif kind == "character device":
        source, said = Path("/dev/zero"), "a character device"
    else:
        source, said = tmp_path / "pipe.csv", "a named pipe (FIFO)"
        os.mkfifo(source)
    db = tmp_path / "out.db"
    code, stderr, _, seconds = cli_batch(packaged, source, db)
    assert (code, stderr) == (1, f"error: {source}: is {said}, not a CSV or parquet file\n")
    assert seconds < MAX_SECONDS and not db.exists()
    with pytest.raises(TableError, match=re.escape(f"is {said}")):
        read_table(source)


def test_every_failure_path_closes_the_files_it_opened(tmp_path, model):
    write_rows(tmp_path / "long.csv", 10, "x" * (2 << 20), 10)
    latin1 = f"{HEADER}\n{ROW}\nBiscoe,1,2,3,4,m\xe9le\n"
    (tmp_path / "latin1.csv").write_bytes(latin1.encode("latin-1"))
    (tmp_path / "dup.csv").write_text(f"island,island\n{ROW}\n")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "empty.csv").write_bytes(b"")
    before = open_files()
    for name in ("long.csv", "latin1.csv", "dup.csv", "broken.parquet", "empty.csv"):
        with pytest.raises(TableError):
            score_file(tmp_path / name, f"sqlite:///{tmp_path / 'x.db'}", model)
        with pytest.raises(TableError):
            read_table(tmp_path / name)
    # A partition whose bytes changed, and a reader left after its first chunk.
    good = write_rows(tmp_path / "good.csv", 50)
    plan = plan_table(good, [], 256)
    good.write_text(good.read_text().replace("Biscoe", "Dreams"))
    with pytest.raises(TableError, match="changed while it was being read"):
        list(read_partition(plan.partitions[1], False, 10))
    chunks = read_partition(plan_table(good, [], 256).partitions[0], False, 2)
    next(chunks)
    chunks.close()
    assert open_files() == before
