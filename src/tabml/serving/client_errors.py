"""Client errors kept short: a bounded 400 answer, one WARNING line in the server log, and
not more than a few such lines per interval, whatever the rate of bad requests.

BentoML answers a request that fails validation with every field error (a 4 kB request of
1,000 bad records gets a 771 kB answer) and logs each client error as
`[ERROR] Exception on /predict [POST]` with a full traceback. Both are a client's doing:
`shorten_field_errors` keeps the first N errors plus their total, and `ClientErrorsAsWarnings`
(a logging filter on BentoML's logger, its log call being where the record is made) turns the
record into one WARNING line. Server errors (5xx) keep their traceback. A flood of bad
requests would still write a line each (and uvicorn a warning per malformed request): at most
`LINES_PER_WINDOW` client-error lines are written per `WINDOW_S`, the others are counted
(`on_unlogged`, a Prometheus counter in the service) and the next line written says how many
were left out.
"""

import json
import logging
import threading
import time
from collections.abc import Callable

# The logger of `log_exception`, which BentoML calls for every failed API request.
BENTOML_API_LOGGER = "bentoml._internal.server.http_app"
# uvicorn's own warnings about a client ("Invalid HTTP request received.", per request).
UVICORN_LOGGER = "uvicorn.error"
LINES_PER_WINDOW, WINDOW_S = 20, 10.0


class LineBudget:
    """At most `lines` log lines per `window_s`; counts the lines it refuses."""

    def __init__(
        self,
        lines: int = LINES_PER_WINDOW,
        window_s: float = WINDOW_S,
        on_unlogged: Callable[[int], object] = lambda count: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lines, self.window_s = lines, window_s
        self.on_unlogged, self.clock = on_unlogged, clock
        self._lock = threading.Lock()
        self._window_start, self._used, self.unlogged = clock(), 0, 0

    def take(self) -> int | None:
        """None when the line must not be written; else how many were left out before it."""
        with self._lock:
            now = self.clock()
            if now - self._window_start >= self.window_s:
                self._window_start, self._used = now, 0
            if self._used >= self.lines:
                self.unlogged += 1
                self.on_unlogged(1)
                return None
            self._used += 1
            left_out, self.unlogged = self.unlogged, 0
            return left_out


def shorten_field_errors(body: bytes, max_errors: int) -> bytes:
    """A 400 answer with at most `max_errors` entries in `detail`, plus `error_count`."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict) or not isinstance(answer.get("detail"), list):
        return body
    detail = answer["detail"]
    answer["error_count"] = len(detail)
    answer["detail"] = detail[:max_errors]
    return json.dumps(answer, separators=(",", ":")).encode()


def client_error_status(error: BaseException) -> int | None:
    """The 4xx status BentoML answers `error` with, or None for a server error."""
    from bentoml.exceptions import BentoMLException
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, BentoMLException):
        status = int(error.error_code)
        return status if 400 <= status < 500 else None
    return None


class ClientErrorsAsWarnings(logging.Filter):
    """Log a client error (4xx) as one WARNING line without a traceback, within `budget`.

    On uvicorn's logger, every WARNING record (a client's malformed request) is a client
    error line too.
    """

    def __init__(self, budget: LineBudget) -> None:
        super().__init__()
        self.budget = budget

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == UVICORN_LOGGER:
            return record.levelno != logging.WARNING or self._within_budget(record)
        error = record.exc_info[1] if record.exc_info else None
        status = client_error_status(error) if error is not None else None
        if status is None:
            return True
        summary = str(error).splitlines()[0] if str(error) else type(error).__name__
        where = record.getMessage().removeprefix("Exception on ")
        record.msg, record.args = "%s -> %d: %s", (where, status, summary)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return self._within_budget(record)

    def _within_budget(self, record: logging.LogRecord) -> bool:
        left_out = self.budget.take()
        if left_out is None:
            return False
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out:,} more client errors not logged)"
            record.args = None
        return True


def log_client_errors_as_warnings(on_unlogged: Callable[[int], object] = lambda n: None) -> None:
    """Install `ClientErrorsAsWarnings` on BentoML's API logger and uvicorn's (once per
    process); `on_unlogged` counts the lines the budget left out."""
    budget = LineBudget(on_unlogged=on_unlogged)
    for name in (BENTOML_API_LOGGER, UVICORN_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ClientErrorsAsWarnings) for f in logger.filters):
            logger.addFilter(ClientErrorsAsWarnings(budget))
