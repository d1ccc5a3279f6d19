"""A writer thread: chunks are written while the next ones are read and scored.

The database drivers wait in C with the GIL released (SQLite inside `sqlite3_step`, psycopg
while libpq sends a COPY buffer), so the reader and the writer run at the same time. At most
`depth` chunks wait in the queue (bounded memory). An error in the writer stops the reader at
its next `put` and is raised again, in the caller's thread, by `put` or `close`.
"""

import queue
import threading
from collections.abc import Callable
from typing import Any

_DONE = object()


class WriterThread:
    """Calls `write(item)` for each `put(item)`, in order, on one background thread."""

    def __init__(self, write: Callable[[Any], None], depth: int = 2) -> None:
        self._write, self._queue = write, queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="batch-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._write(item)
                except BaseException as err:  # raised again in the caller's thread
                    self._error = err

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: Any) -> None:
        while True:
            self._raise()
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait for every item to be written; raise the writer's error if it had one."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop after the item being written (the caller is failing anyway)."""
        self._error = self._error or RuntimeError("abandoned")
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_DONE)
        self._thread.join()
