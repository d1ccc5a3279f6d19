"""The request log: every input the online service scored, kept for drift reports.

Format (the contract between the service and `make drift`): JSON-lines files under
`logs/requests/` (git-ignored), one file per flushed batch, written atomically and named
`<UTC time yyyymmddTHHMMSSffffff>-<pid>-<sequence>.jsonl` so that names sort by time.
Each line is one scored input:

    {"timestamp": "2025-06-01T12:00:00.123456+00:00", "model_version": "v1.0.0",
     "inputs": {"island": "Biscoe", "bill_length_mm": 39.1, ...},
     "prediction_id": "0190a1b2-...", "predicted": "Adelie",
     "probabilities": {"Adelie": 0.97, ...}}

A regression model's line has `"predicted": <value>, "interval_low": ..., "interval_high": ...`
instead of probabilities (the answer's `interval`, under the batch table's column names).
`model_version` may be null. The prediction keys (what `make monitor` joins labels to) are
absent from lines written before prediction ids existed; readers treat them as missing.
Disk use is bounded: after each flush the oldest files are deleted until the directory
holds at most `max_bytes`. A process killed while writing a file leaves its hidden temporary
file (`.<name>.jsonl.*.tmp`, never read as a log); the next logger started on the directory
deletes those whose writing process (the pid in the name) no longer runs.

Where: `$TABML_REQUEST_LOG_DIR` when set (`make serve` sets it to the repo's absolute
`logs/requests/`, because a served bento runs from its own directory in the BentoML store),
else `logs/requests/` under the working directory. `TABML_REQUEST_LOG=0` turns logging off.
"""

import collections
import json
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tabml import atomic, paths

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)
try:
    # orjson, when installed, encodes a record 8x faster (docs/reliability.md): the writer
    # thread's JSON encoding is most of the log's cost. Same JSON values either way.
    import orjson

    def _encode_inputs(inputs: dict) -> bytes:
        return orjson.dumps(inputs, default=str)
except ImportError:  # pragma: no cover - orjson is in the lock file, but optional here

    def _encode_inputs(inputs: dict) -> bytes:
        return _ENCODER.encode(inputs).encode()


DIR_ENV, SWITCH_ENV = "TABML_REQUEST_LOG_DIR", "TABML_REQUEST_LOG"


def log_dir() -> Path:
    """The request log directory: `$TABML_REQUEST_LOG_DIR`, else `logs/requests/`."""
    return Path(os.environ.get(DIR_ENV) or paths.REQUEST_LOG_DIR)


def logging_enabled() -> bool:
    """False when `TABML_REQUEST_LOG=0` (e.g. to measure what logging costs)."""
    return os.environ.get(SWITCH_ENV, "1") != "0"


def make_record(
    inputs: dict,
    model_version: str | None,
    now: datetime | None = None,
    answer: dict | None = None,
    target: str | None = None,
    logged: Callable[[dict, str | None], dict] | None = None,
) -> dict:
    """One log line for one scored input; with its `answer`, also the prediction fields
    `logged` (the task's `Task.logged`) gives."""
    stamp = (now or datetime.now(UTC)).isoformat()
    record = {"timestamp": stamp, "model_version": model_version, "inputs": inputs}
    if answer is not None:
        record.update(logged(answer, target))
    return record


def write_batch(records: list[dict], directory: Path, sequence: int = 0) -> Path | None:
    """Write `records` as one new JSON-lines file (atomically); None when there are none."""
    if not records:
        return None
    return write_lines([(_ENCODER.encode(r) + "\n").encode() for r in records], directory, sequence)


def write_lines(lines: list[bytes], directory: Path, sequence: int = 0) -> Path:
    """Write UTF-8 JSON lines (each ending in a newline) as one new log file, atomically."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = Path(directory) / f"{stamp}-{os.getpid()}-{sequence:06d}.jsonl"
    return atomic.write_bytes(target, b"".join(lines))


def prune(directory: Path, max_bytes: int) -> list[Path]:
    """Delete the oldest log files until the directory holds at most `max_bytes`."""
    files = sorted(Path(directory).glob("*.jsonl"))
    sizes = [f.stat().st_size for f in files]
    total, removed = sum(sizes), []
    for file, size in zip(files, sizes):
        if total <= max_bytes:
            break
        file.unlink(missing_ok=True)
        total -= size
        removed.append(file)
    return removed


def read_requests(directory: Path, since: datetime | None = None) -> pd.DataFrame:
    """All logged inputs (one row each, plus `timestamp` and `model_version` columns)."""
    rows = []
    for file in sorted(Path(directory).glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                rows.append(
                    {
                        **record["inputs"],
                        "timestamp": record["timestamp"],
                        "model_version": record.get("model_version"),
                    }
                )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    if since is not None:
        frame = frame[frame["timestamp"] >= pd.Timestamp(since)].reset_index(drop=True)
    return frame


def _lines(head: bytes | None, rows: list[dict], answers: list | None, target, logged):
    """The JSON lines of one queued request (see `RequestLogger.log`)."""
    if head is None:
        return [_encode_inputs(record) + b"\n" for record in rows]
    if answers is None:
        return [head + _encode_inputs(row) + b"}\n" for row in rows]
    return [
        head + _encode_inputs(row) + b"," + _encode_inputs(logged(answer, target))[1:] + b"\n"
        for row, answer in zip(rows, answers, strict=True)
    ]


def remove_dead_writers_temp_files(directory: Path) -> None:
    """Delete temporary log files left by killed processes (other loggers' are kept)."""
    for tmp in Path(directory).glob(".*.jsonl.*.tmp"):
        found = re.match(r"\.\d{8}T\d+-(\d+)-\d+\.jsonl\.", tmp.name)
        if found and not _running(int(found.group(1))):
            tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class RequestLogger:
    """Queues each request's scored inputs and writes them from a background thread.

    `log()` is O(1) per request whatever its number of records (one tuple appended to a deque;
    no per-record work and no thread hand-off on the request path). The writer thread wakes
    every `interval_s`, or early once `batch_size` records wait, turns what waits into JSON
    lines (one encoder call per record, the timestamp and version encoded once per request)
    and writes up to `batch_size` records per file. When `max_queued` records wait (the disk
    or the writer cannot keep up) new ones are dropped and counted in `dropped`. Disk use is
    tracked in memory and the directory rescanned only when it may exceed `max_bytes`.
    Measured capacity: docs/reliability.md, "Request log capacity".
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        batch_size: int = 20_000,
        interval_s: float = 1.0,
        max_queued: int = 500_000,
    ):
        self.directory, self.max_bytes = Path(directory), max_bytes
        self.batch_size, self.interval_s, self.max_queued = batch_size, interval_s, max_queued
        self.dropped, self._sequence = 0, 0
        # Each counter is written by one thread only: queued = _enqueued - _dequeued.
        self._enqueued = self._dequeued = 0
        # (line head, rows, answers, target, logged): head None = whole records (`log_records`).
        self._pending: collections.deque[tuple] = collections.deque()
        self._disk_bytes: int | None = None  # unknown until the first write's rescan
        self._wake, self._closing = threading.Event(), False
        remove_dead_writers_temp_files(self.directory)
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()

    def log(
        self,
        rows: list[dict],
        model_version: str | None,
        now: datetime | None = None,
        answers: list[dict] | None = None,
        target: str | None = None,
        logged: Callable[[dict, str | None], dict] | None = None,
    ) -> None:
        """Queue one request's scored inputs; drop (and count) those beyond `max_queued`.

        With `answers` (one per row), each line also gets the fields `logged(answer, target)`
        gives (the task's: `tabml.scoring.task.Task.logged`: prediction id, the `target` value
        as `predicted`, probabilities or the interval), made by the writer thread.
        """
        rows = self._room_for(rows)
        if not rows:
            return
        stamp = (now or datetime.now(UTC)).isoformat()
        # The start of each of this request's lines (the key order of `make_record`).
        version = _ENCODER.encode(model_version)
        head = f'{{"timestamp":"{stamp}","model_version":{version},"inputs":'.encode()
        if answers is not None and logged is None:
            raise ValueError("logging answers needs `logged` (the task's log fields)")
        self._queue((head, rows, answers, target, logged))

    def log_records(self, records: list[dict]) -> None:
        """Queue whole records, one line each (the feedback log's lines)."""
        records = self._room_for(records)
        if records:
            self._queue((None, records, None, None, None))

    def _room_for(self, rows: list[dict]) -> list[dict]:
        room = self.max_queued - (self._enqueued - self._dequeued)
        if room < len(rows):
            self.dropped += len(rows) - max(room, 0)
            rows = rows[: max(room, 0)]
        return rows

    def _queue(self, item: tuple) -> None:
        self._pending.append(item)
        self._enqueued += len(item[1])
        if self._enqueued - self._dequeued >= self.batch_size:
            self._wake.set()

    def close(self) -> None:
        """Flush what is queued and stop the writer thread."""
        self._closing = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            closing = self._closing  # read before draining: nothing logged before close is lost
            # Only what is waiting now: requests arriving meanwhile wait for the next wake, so
            # a steady trickle gives one file per interval, not one per request.
            waiting = len(self._pending)
            lines: list[bytes] = []
            for _ in range(waiting):
                lines.extend(_lines(*self._pending.popleft()))
                if len(lines) >= self.batch_size:
                    self._flush(lines)
                    lines = []
            if lines:
                self._flush(lines)
            if closing:
                return

    def _flush(self, lines: list[bytes]) -> None:
        try:
            written = write_lines(lines, self.directory, self._sequence)
            self._track(written.stat().st_size)
        except OSError:
            # A full or read-only disk must not take the service down: count and go on.
            self.dropped += len(lines)
        self._dequeued += len(lines)
        self._sequence += 1

    def _track(self, size: int) -> None:
        # Other workers write to the same directory: rescan (and prune) whenever our own count
        # says the limit may be reached, and on the first write.
        self._disk_bytes = size + (
            self._disk_bytes if self._disk_bytes is not None else self.max_bytes
        )
        if self._disk_bytes > self.max_bytes:
            prune(self.directory, self.max_bytes)
            self._disk_bytes = sum(f.stat().st_size for f in self.directory.glob("*.jsonl"))
