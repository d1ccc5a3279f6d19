"""The writer behind the request log and the feedback log: JSON-lines files written off the
request path by a background thread, bounded on disk.

Files are written atomically and named `<UTC yyyymmddTHHMMSSffffff>-<pid>-<seq>.jsonl`, so
names sort by time and several workers never write the same file. Disk use is bounded by
`max_bytes`, in one of two ways (`when_full`):

- `prune` (the request log): after a write, the oldest files are deleted until the log
  holds at most `max_bytes`. An entry that cannot be deleted (a directory named like a log
  file, a file the process may not remove) is skipped and the next oldest goes instead.
  Deleted records are counted (`pruned_records`) and logged, at most a line a minute.
- `refuse` (the feedback log): nothing is ever deleted; a write that would pass `max_bytes`
  is refused (`LogFullError`) and counted in `refused`, so a flood cannot evict what is
  there.

A write that fails (a full or read-only disk) loses its records: they are counted in
`dropped` (with the records a full queue turns away) and logged, one line per failed write.
Records queued with an acknowledgement (`enqueue(..., ack=True)`) get a future that says
whether they were written, so nobody is told "accepted" for a record that was lost.
"""

import collections
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tabml import atomic

_log = logging.getLogger("tabml.serving.logs")
RESCAN_S = 10.0  # a refusing log re-reads its size at least this often (other workers write)
NOTE_EVERY_S = 60.0  # at most one "pruned" line a minute, with the totals since the last


class LogFullError(OSError):
    """The log holds `max_bytes`: nothing more is written until room is made."""


def write_lines(lines: list[bytes], directory: Path, sequence: int = 0) -> Path:
    """Write UTF-8 JSON lines (each ending in a newline) as one new log file, atomically."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = Path(directory) / f"{stamp}-{os.getpid()}-{sequence:06d}.jsonl"
    return atomic.write_bytes(target, b"".join(lines))


def _log_files(directory: Path) -> list[tuple[Path, int]]:
    """(path, size) of the regular `*.jsonl` files, oldest first; other entries are no log."""
    found = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        try:
            info = path.lstat()
        except OSError:
            continue  # deleted meanwhile
        if stat.S_ISREG(info.st_mode):
            found.append((path, info.st_size))
    return found


def log_bytes(directory: Path) -> int:
    """Bytes in the log's files."""
    return sum(size for _, size in _log_files(directory))


def _records(path: Path) -> int:
    with path.open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


@dataclass
class Pruned:
    removed: list[Path] = field(default_factory=list)
    records: int = 0  # lines in the removed files
    skipped: list[Path] = field(default_factory=list)  # oldest files that could not go


def prune(directory: Path, max_bytes: int) -> Pruned:
    """Delete the oldest log files until the log's files hold at most `max_bytes`.

    A file that cannot be deleted keeps counting towards the limit and is skipped: the next
    oldest is deleted instead. Entries that are not regular files are not log files.
    """
    files = _log_files(directory)
    total, done = sum(size for _, size in files), Pruned()
    for path, size in files:
        if total <= max_bytes:
            break
        try:
            lines = _records(path)
            path.unlink()
        except FileNotFoundError:
            lines = 0  # another worker pruned it first
        except OSError:
            done.skipped.append(path)
            continue
        total -= size
        done.removed.append(path)
        done.records += lines
    return done


def remove_dead_writers_temp_files(directory: Path) -> None:
    """Delete temporary log files left by killed processes (other loggers' are kept)."""
    for tmp in Path(directory).glob(".*.jsonl.*.tmp"):
        found = re.match(r"\.\d{8}T\d+-(\d+)-\d+\.jsonl\.", tmp.name)
        if found and not running(int(found.group(1))):
            tmp.unlink(missing_ok=True)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class LogWriter:
    """Queue records (O(1) per call) and write them from a background thread.

    The thread wakes every `interval_s`, or at once when `batch_size` records wait or a
    caller waits for an acknowledgement, turns what waits into lines and writes up to
    `batch_size` records per file. Records beyond `max_queued` waiting are dropped and
    counted. Disk use is tracked in memory, the directory rescanned when it may be over.
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        batch_size: int = 20_000,
        interval_s: float = 1.0,
        max_queued: int = 500_000,
        when_full: str = "prune",
    ):
        if when_full not in ("prune", "refuse"):
            raise ValueError(f"when_full must be prune or refuse, not {when_full!r}")
        self.directory, self.max_bytes, self.when_full = Path(directory), max_bytes, when_full
        self.batch_size, self.interval_s, self.max_queued = batch_size, interval_s, max_queued
        # Counters (each written by one thread): lost, refused as full, pruned, failed writes.
        self.dropped = self.refused = self.pruned_records = self.write_errors = 0
        self._sequence = 0
        self._enqueued = self._dequeued = 0  # queued = _enqueued - _dequeued
        # (encode() -> lines, record count, future or None)
        self._pending: collections.deque[tuple] = collections.deque()
        self._disk_bytes: int | None = None  # unknown until the first scan
        self._scanned_at = 0.0
        self._noted, self._noted_at, self._unremovable = 0, 0.0, set()
        self._wake, self._closing = threading.Event(), False
        remove_dead_writers_temp_files(self.directory)
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def room(self, count: int) -> int:
        """How many of `count` records the queue has room for (`max_queued` waiting)."""
        return min(count, max(self.max_queued - (self._enqueued - self._dequeued), 0))

    def enqueue(
        self, encode: Callable[[], list[bytes]], count: int, ack: bool = False
    ) -> Future | None:
        """Queue `count` records whose lines `encode()` makes (in the writer thread).

        With `ack`, the writer wakes now and the returned future is resolved once the lines
        are written (None), or fails with the OSError that lost them (`LogFullError`).
        """
        future = Future() if ack else None
        self._pending.append((encode, count, future))
        self._enqueued += count
        if ack or self._enqueued - self._dequeued >= self.batch_size:
            self._wake.set()
        return future

    def full(self) -> bool:
        """A refusing log that holds `max_bytes` (rescanned at most every `RESCAN_S`)."""
        if self.when_full != "refuse":
            return False
        if self._disk_bytes is None or time.monotonic() - self._scanned_at > RESCAN_S:
            self._rescan()
        return self._disk_bytes >= self.max_bytes

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
            futures: list[Future] = []
            for _ in range(waiting):
                encode, _, future = self._pending.popleft()
                lines.extend(encode())
                if future is not None:
                    futures.append(future)
                if len(lines) >= self.batch_size:
                    self._flush(lines, futures)
                    lines, futures = [], []
            if lines or futures:
                self._flush(lines, futures)
            if closing:
                return

    def _flush(self, lines: list[bytes], futures: list[Future]) -> None:
        size = sum(map(len, lines))
        error: OSError | None = None
        if self.when_full == "refuse" and not self._fits(size):
            self.refused += len(lines)
            error = LogFullError(
                f"{self.directory} holds {self._disk_bytes:,} of its {self.max_bytes:,} bytes"
            )
        elif lines:
            try:
                write_lines(lines, self.directory, self._sequence)
            except OSError as err:
                self.dropped += len(lines)
                self.write_errors += 1
                _log.error("%s: %d records not written: %s", self.directory, len(lines), err)
                error = err
            else:
                self._track(size)
        for future in futures:
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
        self._dequeued += len(lines)
        self._sequence += 1

    def _rescan(self) -> None:
        self._disk_bytes, self._scanned_at = log_bytes(self.directory), time.monotonic()

    def _fits(self, size: int) -> bool:
        stale = self._disk_bytes is None or time.monotonic() - self._scanned_at > RESCAN_S
        if stale or self._disk_bytes + size > self.max_bytes:
            self._rescan()
        return self._disk_bytes + size <= self.max_bytes

    def _track(self, size: int) -> None:
        # Other workers write to the same directory: rescan (and prune) whenever our own count
        # says the limit may be reached, and on the first write.
        known = self._disk_bytes if self._disk_bytes is not None else self.max_bytes
        self._disk_bytes = size + known
        if self.when_full != "prune" or self._disk_bytes <= self.max_bytes:
            return
        try:
            pruned = prune(self.directory, self.max_bytes)
            self._rescan()
        except OSError as err:  # the directory itself: the records are written all the same
            _log.warning("%s: cannot prune the log: %s", self.directory, err)
            return
        self.pruned_records += pruned.records
        self._note(pruned)

    def _note(self, pruned: Pruned) -> None:
        """One log line for new unremovable files; one a minute for what pruning deleted."""
        for path in set(pruned.skipped) - self._unremovable:
            _log.warning("%s cannot be deleted: pruning deletes newer log files", path)
            self._unremovable.add(path)
        now = time.monotonic()
        if self.pruned_records > self._noted and now - self._noted_at >= NOTE_EVERY_S:
            _log.info(
                "%s: %d oldest records deleted to stay under %d bytes (%d since the start)",
                self.directory, self.pruned_records - self._noted, self.max_bytes,
                self.pruned_records,
            )  # fmt: skip
            self._noted, self._noted_at = self.pruned_records, now
