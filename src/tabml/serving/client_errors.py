"""Client errors kept short: a bounded 400 answer, one WARNING line in the server log.

BentoML answers a request that fails validation with every field error (a 4 kB request of
1,000 bad records gets a 771 kB answer) and logs each client error as
`[ERROR] Exception on /predict [POST]` with a full traceback. Both are a client's doing:
`shorten_field_errors` keeps the first N errors plus their total, and `ClientErrorsAsWarnings`
(a logging filter on BentoML's logger, its log call being where the record is made) turns the
record into one WARNING line. Server errors (5xx) keep their traceback.
"""

import json
import logging

# The logger of `log_exception`, which BentoML calls for every failed API request.
BENTOML_API_LOGGER = "bentoml._internal.server.http_app"


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
    """Log a client error (4xx) as one WARNING line without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        status = client_error_status(error) if error is not None else None
        if status is None:
            return True
        summary = str(error).splitlines()[0] if str(error) else type(error).__name__
        where = record.getMessage().removeprefix("Exception on ")
        record.msg, record.args = "%s -> %d: %s", (where, status, summary)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


def log_client_errors_as_warnings() -> None:
    """Install `ClientErrorsAsWarnings` on BentoML's API logger (once per process)."""
    logger = logging.getLogger(BENTOML_API_LOGGER)
    if not any(isinstance(f, ClientErrorsAsWarnings) for f in logger.filters):
        logger.addFilter(ClientErrorsAsWarnings())
