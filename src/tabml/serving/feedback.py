"""Labels that arrive after the prediction: the `/feedback` request model and the feedback log.

Format (the contract between `/feedback`, `make feedback` and `make monitor`): JSON-lines
files under `logs/feedback/` (git-ignored), written by the request log's writer
(`request_log.RequestLogger`: off the request path, atomic files named by time, oldest files
deleted beyond `max_bytes`). One line per received label:

    {"timestamp": "2025-06-02T08:00:00.5+00:00", "prediction_id": "0190a1b2-...",
     "label": "Adelie", "source": "http"}

A regression model's label is a number (`"label": 4650.0`).
`source` is `http` or `file:<name>` (`make feedback`). A label is kept even when no logged
prediction has its id (`make monitor` reports it as unmatched); when an id gets several
labels, the last one received counts.

Where: `$TABML_FEEDBACK_LOG_DIR` when set (`make serve` sets it to the repo's absolute
`logs/feedback/`), else `logs/feedback/` under the working directory.
"""

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tabml import paths
from tabml.scoring.prediction_ids import PATTERN_TEXT
from tabml.serving.request_log import RequestLogger, prune, write_batch

DIR_ENV = "TABML_FEEDBACK_LOG_DIR"
MAX_LABELS = 10_000  # labels per /feedback request (more -> 400)
# A label line in a request is ~80 bytes; the gate refuses larger bodies before parsing.
MAX_BODY_BYTES = 200 * MAX_LABELS
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
FILE_LINES = 100_000  # labels per log file when importing a file


def feedback_dir() -> Path:
    """The feedback log directory: `$TABML_FEEDBACK_LOG_DIR`, else `logs/feedback/`."""
    return Path(os.environ.get(DIR_ENV) or paths.FEEDBACK_LOG_DIR)


def feedback_model(kind: Any) -> type[BaseModel]:
    """The `/feedback` body: `{"labels": [{"prediction_id": ..., "label": ...}, ...]}`.

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
    return create_model("FeedbackRequest", __config__=config, labels=(labels, ...))


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
    """The feedback log as served: enqueue received labels; the writer thread writes them."""

    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.logger = RequestLogger(directory or feedback_dir(), max_bytes=max_bytes)

    def log(self, labels: Sequence[Any]) -> dict[str, int]:
        """Queue validated labels (models with `prediction_id`, `label`); say how many."""
        records = feedback_records(((x.prediction_id, x.label) for x in labels), "http")
        dropped = self.logger.dropped
        self.logger.log_records(records)
        # Only a full queue drops here (the disk cannot keep up): say so in the answer.
        refused = self.logger.dropped - dropped
        return {"accepted": len(records) - refused, "refused": refused}

    def close(self) -> None:
        self.logger.close()


def write_labels(
    pairs: Sequence[tuple[str, str | float]],
    source: str,
    directory: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> int:
    """Append labels to the feedback log now (`make feedback`); return the files written."""
    directory = directory or feedback_dir()
    now = datetime.now(UTC)
    files = 0
    for start in range(0, len(pairs), FILE_LINES):
        write_batch(
            feedback_records(pairs[start : start + FILE_LINES], source, now), directory, files
        )
        files += 1
    prune(directory, max_bytes)
    return files
