"""The request log: every input the online service scored, kept for drift reports.

Format (the contract between the service and its readers, `make drift`, `make monitor` and
`make harvest`, which read it with `tabml.monitoring.log_lines`): JSON-lines files under
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
Disk use is bounded (`log_writer.py`): after each flush the oldest files are deleted until
the log holds at most `max_bytes` (`$TABML_REQUEST_LOG_MAX_BYTES`, default 100 MiB), a file
that cannot be deleted skipped for the next oldest; deleted records are counted. A process
killed while writing a file leaves its hidden temporary file (`.<name>.jsonl.*.tmp`, never
read as a log); the next logger started on the directory deletes those whose writing
process (the pid in the name) no longer runs.

Where: `$TABML_REQUEST_LOG_DIR` when set (`make serve` sets it to the repo's absolute
`logs/requests/`, because a served bento runs from its own directory in the BentoML store),
else `logs/requests/` under the working directory. `TABML_REQUEST_LOG=0` turns logging off.
"""

import functools
import json
import os
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

from tabml import paths
from tabml.errors import TabmlError
from tabml.serving.log_writer import (  # noqa: F401 (the log's writer, used from here)
    LogWriter,
    prune,
    remove_dead_writers_temp_files,
    write_lines,
)

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
MAX_BYTES_ENV = "TABML_REQUEST_LOG_MAX_BYTES"
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


class RequestLogger(LogWriter):
    """The request log's writer (`log_writer.LogWriter`, pruning the oldest files when full).

    `log()` is O(1) per request whatever its number of records (one tuple appended to a
    deque; no per-record work and no thread hand-off on the request path): the writer
    thread turns what waits into JSON lines (one encoder call per record, the timestamp and
    version encoded once per request). Measured capacity: docs/reliability.md, "Request log
    capacity".
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int | None = None,
        batch_size: int = 20_000,
        interval_s: float = 1.0,
        max_queued: int = 500_000,
        when_full: str = "prune",
    ):
        if max_bytes is None:
            max_bytes = max_bytes_from_env(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)
        super().__init__(directory, max_bytes, batch_size, interval_s, max_queued, when_full)

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
        if answers is not None and logged is None:
            raise ValueError("logging answers needs `logged` (the task's log fields)")
        kept = self.room(len(rows))
        self.dropped += len(rows) - kept
        if not kept:
            return
        rows = rows[:kept]
        answers = answers[:kept] if answers is not None else None
        stamp = (now or datetime.now(UTC)).isoformat()
        # The start of each of this request's lines (the key order of `make_record`).
        version = _ENCODER.encode(model_version)
        head = f'{{"timestamp":"{stamp}","model_version":{version},"inputs":'.encode()
        self.enqueue(functools.partial(_lines, head, rows, answers, target, logged), kept)

    def log_records(self, records: list[dict], ack: bool = False) -> Future | None:
        """Queue whole records, one line each (the feedback log's lines).

        With `ack`: None when the queue is full (nothing queued, `dropped` counts them),
        else a future resolved once they are written (`LogWriter.enqueue`).
        """
        kept = self.room(len(records))
        if ack and kept < len(records):
            return None  # refused whole, and answered as such: nothing lost
        self.dropped += len(records) - kept
        if kept:
            return self.enqueue(functools.partial(_lines, None, records[:kept], None, None, None),
                                kept, ack)  # fmt: skip
        return None


class LogLimitError(TabmlError, ValueError):
    """A log size limit in the environment that is not a positive number of bytes."""


def max_bytes_from_env(name: str, default: int) -> int:
    """A log's size limit: `$name` in bytes when set (a positive integer), else `default`."""
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise LogLimitError(f"{name}={os.environ[name]!r} must be a positive number of bytes")
    return int(text)
