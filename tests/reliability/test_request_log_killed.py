"""A process killed with SIGKILL while logging loses at most the last second, never half a line."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tabml.serving.request_log import RequestLogger
from testkit import ROOT

pytestmark = pytest.mark.integration  # writers in child processes, killed

# Logs one record every 5 ms, each stamped with its wall time, then kills itself: no
# close(), no flush, exactly what `kill -9` of a serving worker leaves.
WRITER = textwrap.dedent(
    """
    import os, signal, sys, time
    from tabml.serving.request_log import RequestLogger

    logger = RequestLogger(sys.argv[1])
    deadline = time.time() + 3.0
    n = 0
    while time.time() < deadline:
        logger.log([{"n": n, "t": time.time()}], "v1")
        n += 1
        time.sleep(0.005)
    print(n, time.time(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_only_temporary_files_of_dead_writers_are_removed(tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    left = tmp_path / f".20261202T115711425234-{dead}-000002.jsonl.h2l4evcj.tmp"
    live = tmp_path / f".20261202T115711425234-{os.getpid()}-000003.jsonl.abcdefgh.tmp"
    for path in (left, live):
        path.write_text('{"n": 1')
    RequestLogger(tmp_path).close()
    assert not left.exists() and live.exists()


def test_a_killed_logger_loses_at_most_the_last_second_and_no_line_is_torn(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", WRITER, str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    logged, killed_at = result.stdout.split()
    lines = [line for f in sorted(tmp_path.glob("*.jsonl")) for line in f.read_text().splitlines()]
    records = [json.loads(line) for line in lines]  # a torn line would not parse
    # A kill during a file's write leaves its hidden temporary file, never read as a log;
    # the next logger on the directory deletes it (its writer is dead).
    RequestLogger(tmp_path).close()
    assert not list(tmp_path.glob(".*.tmp")), "a half-written file was left"
    numbers = [r["inputs"]["n"] for r in records]
    assert numbers == list(range(len(numbers)))  # nothing lost or doubled before the gap
    newest = max(r["inputs"]["t"] for r in records)
    # the writer flushes every second: what it had not written yet is at most ~1 s old
    assert float(killed_at) - newest <= 1.2, (int(logged), len(numbers))
    assert len(numbers) >= int(logged) * 0.5
