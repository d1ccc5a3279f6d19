"""The request log: every input the online service scored, kept for drift reports.

Format (the contract between the service and `make drift`): JSON-lines files under
`logs/requests/` (git-ignored), one file per flushed batch, written atomically and named
`<UTC time yyyymmddTHHMMSSffffff>-<pid>-<sequence>.jsonl` so that names sort by time.
Each line is one scored input:

    {"timestamp": "2025-06-01T12:00:00.123456+00:00", "model_version": "v1.0.0",
     "inputs": {"island": "Biscoe", "bill_length_mm": 39.1, ...},
     "prediction_id": "0190a1b2-...", "predicted": "Adelie",
     "probabilities": {"Adelie": 0.97, ...}}

`model_version` may be null. The last three keys (what `make monitor` joins labels to) are
absent from lines written before prediction ids existed; readers treat them as missing.
Disk use is bounded: after each flush the oldest files are deleted until the directory
holds at most `max_bytes`.

Where: `$TABML_REQUEST_LOG_DIR` when set (`make serve` sets it to the repo's absolute
`logs/requests/`, because a served bento runs from its own directory in the BentoML store),
else `logs/requests/` under the working directory. `TABML_REQUEST_LOG=0` turns logging off.
"""

import collections
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tabml import atomic, paths

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)
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
) -> dict:
    """One log line for one scored input; with its `answer`, also its id and prediction."""
    stamp = (now or datetime.now(UTC)).isoformat()
    record = {"timestamp": stamp, "model_version": model_version, "inputs": inputs}
    if answer is not None:
        record["prediction_id"] = answer["prediction_id"]
        record["predicted"] = answer.get(target)
        record["probabilities"] = answer.get("probabilities")  # none for a regression model
    return record


def write_batch(records: list[dict], directory: Path, sequence: int = 0) -> Path | None:
    """Write `records` as one new JSON-lines file (atomically); None when there are none."""
    if not records:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = Path(directory) / f"{stamp}-{os.getpid()}-{sequence:06d}.jsonl"
    lines = "".join(_ENCODER.encode(r) + "\n" for r in records)
    return atomic.write_text(target, lines)


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


class RequestLogger:
    """Buffers records in memory and flushes them from a background thread.

    `log()` never blocks the request and never wakes the writer per record (a thread hand-off
    per request cost more than scoring it): it appends to a deque. The writer thread wakes
    every `interval_s`, or early once `batch_size` records wait, and writes what is waiting
    then as one file (a few ms per thousand records). When `max_queued` records wait (the
    disk cannot keep up) new ones are dropped and counted in `dropped`.
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        batch_size: int = 1000,
        interval_s: float = 1.0,
        max_queued: int = 100_000,
    ):
        self.directory, self.max_bytes = Path(directory), max_bytes
        self.batch_size, self.interval_s, self.max_queued = batch_size, interval_s, max_queued
        self.dropped, self._sequence = 0, 0
        self._pending: collections.deque[dict] = collections.deque()
        self._wake, self._closing = threading.Event(), False
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()

    def log(self, records: list[dict]) -> None:
        """Queue records for writing; drop (and count) those beyond `max_queued`."""
        room = max(self.max_queued - len(self._pending), 0)
        if room < len(records):
            self.dropped += len(records) - room
            records = records[:room]
        self._pending.extend(records)
        if len(self._pending) >= self.batch_size:
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
            # Only what is waiting now: records arriving meanwhile wait for the next wake, so
            # a steady trickle gives one file per interval, not one per record.
            waiting = len(self._pending)
            while waiting > 0:
                count = min(waiting, self.batch_size)
                self._flush([self._pending.popleft() for _ in range(count)])
                waiting -= count
            if closing:
                return

    def _flush(self, batch: list[dict]) -> None:
        try:
            write_batch(batch, self.directory, self._sequence)
            prune(self.directory, self.max_bytes)
        except OSError:
            # A full or read-only disk must not take the service down: count and go on.
            self.dropped += len(batch)
        self._sequence += 1
