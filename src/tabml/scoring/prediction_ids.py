"""Prediction ids: UUIDv7 strings (RFC 9562), made many at a time, sortable by time.

Layout of the 128 bits (RFC 9562, section 5.7, with its "fixed-length dedicated counter"
method 1 for monotonicity, section 6.2):

    48 bits  unix time in milliseconds
     4 bits  version 7
    12 bits  counter, high part
     2 bits  variant 0b10
    30 bits  counter, low part
    32 bits  random

The 42-bit counter starts at a random value below 2**41 in each new millisecond and counts
up by one per id, so the ids of one process strictly increase (also when the clock steps
back: the last millisecond is kept until the clock passes it), and ids from processes that
share a millisecond differ in their random start and their 32 random bits.

Python 3.11 has no `uuid.uuid7`, and a `uuid.UUID` per record costs more than scoring it:
`new_ids(n)` builds all n ids with a few numpy operations and one hex conversion.
"""

import os
import re
import threading
import time

import numpy as np

COUNTER_BITS = 42
_LOW_COUNTER_BITS = 30
_VERSION = np.uint64(0x7000)
_VARIANT = np.uint64(1 << 63)
_SMALL = 16  # up to this many ids per call, plain Python ints are faster than numpy
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Where the four dashes go in the 36 characters of the text form (8-4-4-4-12).
_DASHES = (8, 13, 18, 23)
_CHARS = np.array([i for i in range(36) if i not in _DASHES])

PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PATTERN_TEXT = PATTERN.pattern


class IdGenerator:
    """Monotonic UUIDv7 ids for one process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms = 0
        self._next = 0  # next counter value in millisecond `self._ms`

    def _reserve(self, count: int) -> tuple[int, int]:
        """A millisecond and the first of `count` consecutive counter values in it."""
        with self._lock:
            now = time.time_ns() // 1_000_000
            if now > self._ms or self._next + count > 1 << COUNTER_BITS:
                # A new millisecond (or, after 2**41 ids in one, the next): random start.
                self._ms = now if now > self._ms else self._ms + 1
                self._next = int.from_bytes(os.urandom(6)) >> 7  # 41 random bits
            first = self._next
            self._next += count
            return self._ms, first

    def new_ids(self, count: int) -> list[str]:
        """`count` new ids, increasing, as lowercase text `xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`."""
        if count <= 0:
            return []
        ms, first = self._reserve(count)
        if count <= _SMALL:
            random = os.urandom(4 * count)  # os.urandom: safe after a fork, unlike `random`
            return [
                _text(ms, first + i, int.from_bytes(random[4 * i : 4 * i + 4]))
                for i in range(count)
            ]
        counters = np.uint64(first) + np.arange(count, dtype=np.uint64)
        high = np.uint64(ms << 16) | _VERSION | (counters >> np.uint64(_LOW_COUNTER_BITS))
        low_counter = counters & np.uint64((1 << _LOW_COUNTER_BITS) - 1)
        random = np.frombuffer(os.urandom(4 * count), dtype=np.uint32).astype(np.uint64)
        low = _VARIANT | (low_counter << np.uint64(32)) | random
        return format_ids(high, low)


def _text(ms: int, counter: int, random: int) -> str:
    """One id from Python ints: cheaper than numpy's fixed cost for a request's few ids."""
    high = ms << 16 | 0x7000 | counter >> _LOW_COUNTER_BITS
    low = 1 << 63 | (counter & (1 << _LOW_COUNTER_BITS) - 1) << 32 | random
    h = f"{high:016x}{low:016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def format_ids(high: np.ndarray, low: np.ndarray) -> list[str]:
    """UUID text of each (high 64 bits, low 64 bits) pair, in one vectorised conversion."""
    # Byte order after stacking: np.stack returns native-order integers.
    raw = np.stack([high, low], axis=1).astype(">u8").view(np.uint8)
    nibbles = np.stack([raw >> 4, raw & 15], axis=2).reshape(len(high), 32)
    text = np.full((len(high), 36), ord("-"), dtype=np.uint8)
    text[:, _CHARS] = _HEX[nibbles]
    joined = text.tobytes().decode("ascii")
    return [joined[i : i + 36] for i in range(0, len(joined), 36)]


def timestamp_ms(prediction_id: str) -> int:
    """The unix time in milliseconds an id was made at (its first 48 bits)."""
    return int(prediction_id[:8] + prediction_id[9:13], 16)


def identify(answers: list[dict], model_version: str) -> list[dict]:
    """Give each answer (in place) a new `prediction_id` and the `model_version` that made it."""
    for answer, prediction_id in zip(answers, new_ids(len(answers)), strict=True):
        answer["prediction_id"] = prediction_id
        answer["model_version"] = model_version
    return answers


_GENERATOR = IdGenerator()


def new_ids(count: int) -> list[str]:
    """`count` new prediction ids from this process's generator (see `IdGenerator`)."""
    return _GENERATOR.new_ids(count)
