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

Being derived, they are not stored: the database keeps each batch's start (`started_ms`) and
its `predictions` view computes the id of every row (`prediction_id_sql`). Storing 36
characters per row took about as long to bind and write as the rest of the row, and doubled
the file.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tabml.errors import TabmlError

DIALECTS = ("sqlite", "postgresql")  # the databases `prediction_id_sql` is written for


class UnsupportedDatabaseError(TabmlError, ValueError):
    """A database other than SQLite and PostgreSQL: the `predictions` view is written for those."""


def batch_id_of(input_sha256: str, model_version: str) -> str:
    """The batch id of a file (by its bytes' sha256) scored by `model_version`."""
    return hashlib.sha256(f"{input_sha256}\n{model_version}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BatchIds:
    """What a batch's rows are named by: the batch id and its start."""

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


def check_dialect(dialect: str) -> None:
    """Raise UnsupportedDatabaseError unless batch scoring can write to `dialect`."""
    if dialect not in DIALECTS:
        raise UnsupportedDatabaseError(
            f"batch scoring writes to SQLite or PostgreSQL, not {dialect}: "
            "DB=sqlite:///predictions.db or DB=postgresql://..."
        )


def prediction_id_sql(dialect: str, started_ms: str, row: str, batch_id: str) -> str:
    """SQL for the prediction id of input row `row` of the batch whose start is `started_ms`
    and id `batch_id` (column expressions), in SQLite's or PostgreSQL's functions.

    Raises:
        UnsupportedDatabaseError: another database.
    """
    parts = [  # the five hex fields of the text, then the batch id's first 8 hex digits
        (f"{started_ms} >> 16", 8),
        (f"{started_ms} & 65535", 4),
        (f"({row}) >> 30", 3),  # after the version digit 7
        (f"32768 | ((({row}) & 1073741823) >> 16)", 4),  # the variant bits, counter bits 16-29
        (f"({row}) & 65535", 4),
    ]
    check_dialect(dialect)
    salt = f"substr({batch_id}, 1, 8)"
    if dialect == "sqlite":
        values = ", ".join(expr for expr, _ in parts)
        return f"printf('%08x-%04x-7%03x-%04x-%04x', {values}) || {salt}"
    hexes = [f"lpad(to_hex({expr}), {width}, '0')" for expr, width in parts]  # PostgreSQL
    dashed = " || '-' || ".join(hexes[:2]) + " || '-7' || " + hexes[2]
    return f"{dashed} || '-' || {hexes[3]} || '-' || {hexes[4]} || {salt}"
