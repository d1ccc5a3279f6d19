"""A batch's id and the prediction ids of its rows, both derived, so any engine writes the same.

`batch_id` = the first 16 hex digits of sha256(sha256 of the file's bytes + model version):
the same file scored by the same model is the same batch (a rerun writes nothing).

Prediction ids are UUIDv7 (RFC 9562) like the service's (`tabml.scoring.prediction_ids`), but
computed from the batch rather than drawn at random, so the rows do not depend on which
process scored which partition, or in which order:

    48 bits  the batch's start, unix milliseconds (also its `scored_at`)
    42 bits  the input row number (the RFC's "fixed-length dedicated counter")
    32 bits  the first 32 bits of the batch id

Within a batch the ids increase with the row; batches started in different milliseconds sort
by start; two batches started in the same millisecond differ in their batch-id bits.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tabml.scoring.prediction_ids import format_ids

_LOW_COUNTER_BITS = 30
_VERSION = np.uint64(0x7000)
_VARIANT = np.uint64(1 << 63)


def batch_id_of(input_sha256: str, model_version: str) -> str:
    """The batch id of a file (by its bytes' sha256) scored by `model_version`."""
    return hashlib.sha256(f"{input_sha256}\n{model_version}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BatchIds:
    """What every partition needs to name its rows: the batch id and its start."""

    batch_id: str
    started_ms: int

    @classmethod
    def start(cls, batch_id: str) -> "BatchIds":
        return cls(batch_id, time.time_ns() // 1_000_000)

    @property
    def scored_at(self) -> str:
        """The start as ISO 8601 in UTC, to the second (the `scored_at` column)."""
        moment = datetime.fromtimestamp(self.started_ms / 1000, UTC)
        return moment.isoformat(timespec="seconds")

    def prediction_ids(self, rows: np.ndarray) -> list[str]:
        """The prediction id of each input row number in `rows`."""
        counters = np.asarray(rows, dtype=np.uint64)
        high = np.uint64(self.started_ms << 16) | _VERSION | (counters >> np.uint64(30))
        low_counter = counters & np.uint64((1 << _LOW_COUNTER_BITS) - 1)
        salt = np.uint64(int(self.batch_id[:8], 16))
        low = _VARIANT | (low_counter << np.uint64(32)) | salt
        return format_ids(high, low)
