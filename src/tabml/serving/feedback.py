"""Labels that arrive after the prediction: the `/feedback` request model and the feedback log.

Format (the contract between `/feedback`, `make feedback` and `make monitor`): JSON-lines
files under `logs/feedback/` (git-ignored), written by the logs' writer (`log_writer.py`:
off the request path, atomic files named by time). One line per received label:

    {"timestamp": "2025-06-02T08:00:00.5+00:00", "prediction_id": "0190a1b2-...",
     "label": "Adelie", "source": "http"}

A regression model's label is a number (`"label": 4650.0`).
`source` is `http`, `http:<name>` (a `/feedback` body may name its labeller: `"source":
"annotator-7"`) or `file:<name>` (`make feedback`): monitoring counts labels per source and
can leave one out. A label is kept even when no logged prediction has its id (`make monitor`
reports it as unmatched); when an id gets several labels, the last one received counts.

Labels are never deleted to make room: the log refuses (507) once it holds its limit
(`$TABML_FEEDBACK_MAX_BYTES`, default 100 MiB), so a flood cannot evict genuine labels.
`/feedback` answers only after its labels are written: a write that fails is refused (503),
counted and logged, never answered as accepted.

Where: `$TABML_FEEDBACK_LOG_DIR` when set (`make serve` sets it to the repo's absolute
`logs/feedback/`), else `logs/feedback/` under the working directory.
"""

import asyncio
import logging
import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tabml import paths
from tabml.scoring.prediction_ids import PATTERN_TEXT
from tabml.serving.label_import import FILE_LINES, finish_imports, import_lines
from tabml.serving.log_writer import LogFullError
from tabml.serving.request_log import RequestLogger, max_bytes_from_env

DIR_ENV, MAX_BYTES_ENV = "TABML_FEEDBACK_LOG_DIR", "TABML_FEEDBACK_MAX_BYTES"
MAX_LABELS = 10_000  # labels per /feedback request (more -> 400)
# A label line in a request is ~80 bytes; the gate refuses larger bodies before parsing.
MAX_BODY_BYTES = 200 * MAX_LABELS
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
SOURCE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_log = logging.getLogger("tabml.serving.feedback")


def feedback_dir() -> Path:
    """The feedback log directory: `$TABML_FEEDBACK_LOG_DIR`, else `logs/feedback/`."""
    return Path(os.environ.get(DIR_ENV) or paths.FEEDBACK_LOG_DIR)


def feedback_max_bytes() -> int:
    """The feedback log's limit: `$TABML_FEEDBACK_MAX_BYTES`, else 100 MiB."""
    return max_bytes_from_env(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)


def feedback_model(kind: Any) -> type[BaseModel]:
    """The `/feedback` body: `{"labels": [{"prediction_id": ..., "label": ...}, ...]}`, and
    optionally `"source": "<labeller>"`.

    `kind`: a label's type, as the model's task says (`Task.feedback_label`): one of a
    classifier's classes (a Literal), or `float` (a regression model: a finite number).
    """
    config = ConfigDict(extra="forbid", strict=True)
    if kind is float:
        kind = Annotated[float, Field(allow_inf_nan=False)]
    label = create_model(
        "Label",
        __config__=config,
        prediction_id=(
            Annotated[str, Field(pattern=PATTERN_TEXT, description="a prediction's id")],
            ...,
        ),
        label=(kind, Field(..., description="the true class (or value)")),
    )
    labels = Annotated[list[label], Field(min_length=1, max_length=MAX_LABELS)]
    source = Annotated[
        str | None,
        Field(pattern=SOURCE_PATTERN, description="who labelled (logged as `http:<source>`)"),
    ]
    return create_model(
        "FeedbackRequest", __config__=config, labels=(labels, ...), source=(source, None)
    )


def feedback_records(
    pairs: Iterable[tuple[str, str | float]], source: str, now: datetime | None = None
) -> list[dict]:
    """One log line per (prediction_id, label) pair, all stamped with the time received."""
    stamp = (now or datetime.now(UTC)).isoformat()
    return [
        {"timestamp": stamp, "prediction_id": pid, "label": label, "source": source}
        for pid, label in pairs
    ]


class FeedbackLog:
    """The feedback log as served: labels are answered once written, or refused.

    `log()` returns the HTTP status and answer: 200 `{"accepted": n, "refused": 0}`; 507 when
    the log is full; 503 when the queue is full or the write failed. `refused` counts the
    refused labels by reason (`full`, `busy`, `write_error`), for /metrics.
    """

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None):
        self.logger = RequestLogger(
            directory or feedback_dir(),
            max_bytes=max_bytes if max_bytes is not None else feedback_max_bytes(),
            interval_s=1.0,
            when_full="refuse",
        )
        finish_imports(self.logger.directory)  # what a killed `make feedback` left
        self.refused = {"full": 0, "busy": 0, "write_error": 0}
        self._noted_at = 0.0

    async def log(self, labels: Sequence[Any], source: str | None = None) -> tuple[int, dict]:
        """Write validated labels (models with `prediction_id`, `label`); the answer."""
        name = f"http:{source}" if source else "http"
        records = feedback_records(((x.prediction_id, x.label) for x in labels), name)
        if self.logger.full():
            return self._refuse(len(records), "full", 507, self._full_message())
        written = self.logger.log_records(records, ack=True)
        if written is None:
            message = "the feedback log's queue is full (the disk cannot keep up): retry later"
            return self._refuse(len(records), "busy", 503, message)
        try:
            await asyncio.wrap_future(written)
        except LogFullError:
            return self._refuse(len(records), "full", 507, self._full_message())
        except OSError as err:  # the writer logged it (one line per failed write)
            message = f"the labels could not be written ({err.strerror or err}): retry later"
            return self._refuse(len(records), "write_error", 503, message, noted=True)
        return 200, {"accepted": len(records), "refused": 0}

    def _full_message(self) -> str:
        return (
            f"the feedback log holds its limit of {self.logger.max_bytes:,} bytes "
            f"({MAX_BYTES_ENV}): no label is deleted to make room; harvest and archive the "
            "log, or raise the limit"
        )

    def _refuse(
        self, count: int, reason: str, status: int, message: str, noted: bool = False
    ) -> tuple[int, dict]:
        self.refused[reason] += count
        now = time.monotonic()
        if not noted and now - self._noted_at >= 60.0:  # one line a minute under a flood
            _log.warning("/feedback: %d labels refused (%s): %s", count, reason, message)
            self._noted_at = now
        return status, {"error": message, "reason": reason, "accepted": 0, "refused": count}

    def close(self) -> None:
        self.logger.close()


def write_labels(
    pairs: Sequence[tuple[str, str | float]],
    source: str,
    directory: Path | None = None,
    max_bytes: int | None = None,
) -> int:
    """Append (prediction_id, label) pairs to the feedback log now, all or none; return how
    many (`label_import.import_lines`: refused whole beyond the log's limit)."""
    import orjson

    now = datetime.now(UTC)
    chunks = (
        [orjson.dumps(r) + b"\n" for r in feedback_records(pairs[start : start + FILE_LINES],
                                                           source, now)]
        for start in range(0, len(pairs), FILE_LINES)
    )  # fmt: skip
    limit = feedback_max_bytes() if max_bytes is None else max_bytes
    return import_lines(chunks, directory or feedback_dir(), limit)
