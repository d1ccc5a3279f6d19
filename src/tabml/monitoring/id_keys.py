"""Prediction ids as numbers: 17 bytes a row that sort and match without Python objects.

A prediction id is text; the service and batch scoring write UUIDs
(`xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`, lowercase). Held as text, ten million of them
cost about 440 MB and sort slowly (a byte-string sort). As numbers they cost 17 bytes a
row and sort with `np.lexsort` on two integers, so `make monitor` joins ten million labels
to ten million predictions within its memory bound (docs/monitoring.md, "Scale").

Each id becomes three columns: `kind` (0: a lowercase UUID, its 128 bits in `high` and
`low`; 1: any other text, the first 128 bits of its BLAKE2b hash; 2: missing). Two ids get
the same key exactly when they are the same text (for other text: barring a 128-bit hash
collision, as likely as two random UUIDs colliding).
"""

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

HIGH, LOW, KIND = "id_high", "id_low", "id_kind"  # the columns that replace `prediction_id`
UUID, OTHER, MISSING = 0, 1, 2
_WIDTH = 36
_HYPHENS = np.array([8, 13, 18, 23])
_HEX = np.setdiff1d(np.arange(_WIDTH), _HYPHENS)


def _text_bytes(array: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """Each value as 36 bytes (cut or padded with NUL; missing values empty), and its length."""
    lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
    if len(array) and array.null_count == 0 and (lengths == _WIDTH).all():
        return _fixed_width(array), lengths  # what the service writes: no padding needed
    padded = pc.utf8_rpad(pc.fill_null(array, ""), _WIDTH, padding="\0")
    padded = pc.utf8_slice_codeunits(padded, 0, _WIDTH)
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)
    offsets = offsets[padded.offset : padded.offset + len(padded) + 1]
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)
    if len(padded) and (np.diff(offsets) == _WIDTH).all():
        return data[offsets[0] : offsets[-1]].reshape(len(padded), _WIDTH), lengths
    # a value with multi-byte characters is longer than 36 bytes: cut it byte-wise
    cut = [v.encode()[:_WIDTH].ljust(_WIDTH, b"\0") for v in padded.to_pylist()]
    return np.frombuffer(b"".join(cut), dtype=np.uint8).reshape(len(cut), _WIDTH), lengths


def _fixed_width(array: pa.StringArray) -> np.ndarray:
    """The bytes of texts that are all `_WIDTH` long, as a [rows, `_WIDTH`] view."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(array), _WIDTH)


def _nibbles(digits: np.ndarray) -> np.ndarray:
    """The value of each lowercase hex digit, 255 for any other byte: by arithmetic (half
    the time of a 256-entry table lookup; the same values for all 256 bytes)."""
    values = (digits & 15) + 9 * (digits >> 6)  # '0'-'9' -> 0-9, 'a'-'f' -> 10-15
    back = values + 48 + 39 * (values > 9).view(np.uint8)  # the digit that value has
    values[(values > 15) | (back != digits)] = 255
    return values


def key_columns(ids: pd.Series | pa.Array | pa.ChunkedArray) -> dict[str, np.ndarray]:
    """The three key columns (`HIGH`, `LOW`, `KIND`) of prediction ids (text or missing)."""
    array = ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(
        ids, type=pa.string(), from_pandas=True
    )  # fmt: skip
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    text, lengths = _text_bytes(array)
    nibbles = _nibbles(text[:, _HEX])
    uuid = (lengths == _WIDTH) & (nibbles != 255).all(axis=1)
    uuid &= (text[:, _HYPHENS] == ord("-")).all(axis=1)
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]  # 16 bytes a row, big-endian
    high = np.ascontiguousarray(packed[:, :8]).view(">u8").ravel().astype(np.uint64)
    low = np.ascontiguousarray(packed[:, 8:]).view(">u8").ravel().astype(np.uint64)
    kind = np.where(uuid, UUID, OTHER).astype(np.uint8)
    kind[~array.is_valid().to_numpy(zero_copy_only=False)] = MISSING
    others = np.flatnonzero(kind == OTHER)
    if len(others):  # rare (hand-written logs): one hash each
        values = array.take(pa.array(others)).to_pylist()
        digests = [hashlib.blake2b(v.encode(), digest_size=16).digest() for v in values]
        hashed = np.frombuffer(b"".join(digests), dtype=">u8").reshape(-1, 2)
        high[others], low[others] = hashed[:, 0], hashed[:, 1]
    high[kind == MISSING] = low[kind == MISSING] = 0
    return {HIGH: high, LOW: low, KIND: kind}


def keys_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(high, low, kind) of a frame's ids: its key columns, or computed from `prediction_id`."""
    if KIND in frame.columns:
        return frame[HIGH].to_numpy(), frame[LOW].to_numpy(), frame[KIND].to_numpy()
    found = key_columns(frame["prediction_id"])
    return found[HIGH], found[LOW], found[KIND]


def distinct(
    keys: tuple[np.ndarray, np.ndarray, np.ndarray], order: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Of rows in key `order`: where each key first appears (bool, in that order) and the
    distinct keys. One column at a time: ten million keys are not held twice over."""
    first = np.zeros(len(order), dtype=bool)
    first[:1] = True
    for column in keys:
        ordered = column[order]
        first[1:] |= ordered[1:] != ordered[:-1]
        del ordered
    rows = order[first]
    return first, tuple(column[rows] for column in keys)


def sort_order(high: np.ndarray, low: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Rows in key order (by `low` first, so `find` can search it: the low 64 bits of a
    UUIDv7 hold its random part, the high ones a time and counter that many ids share);
    rows with equal keys keep their order (a stable sort)."""
    return np.lexsort((kind, high, low))


def starts(high: np.ndarray, low: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Of keys in key order: True where a key differs from the one before it."""
    first = np.ones(len(kind), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1]) | (kind[1:] != kind[:-1])
    return first


FIND_BLOCK = 1 << 20  # wanted keys searched at a time (bounded memory)


def find(known: tuple[np.ndarray, ...], wanted: tuple[np.ndarray, ...]) -> np.ndarray:
    """`_find_block` a block of `FIND_BLOCK` wanted keys at a time."""
    blocks = range(0, len(wanted[1]), FIND_BLOCK)
    found = [_find_block(known, tuple(c[i : i + FIND_BLOCK] for c in wanted)) for i in blocks]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _find_block(known: tuple[np.ndarray, ...], wanted: tuple[np.ndarray, ...]) -> np.ndarray:
    """For each `wanted` key, its position among the distinct `known` keys (in key order),
    or -1 where it is not there.

    A binary search on `low`: for UUIDs and hashes it nearly always names one candidate,
    checked on `high` and `kind`. Keys whose `low` several known keys share (hand-made ids
    such as `0000000N-0000-0000-0000-000000000000`) are matched by one sort of those.
    """
    high, low, kind = known
    left = np.searchsorted(low, wanted[1], side="left")
    right = np.searchsorted(low, wanted[1], side="right")
    position = np.full(len(wanted[1]), -1, dtype=np.int64)
    single = np.flatnonzero(right - left == 1)
    at = left[single]
    hit = (high[at] == wanted[0][single]) & (kind[at] == wanted[2][single])
    position[single[hit]] = at[hit]
    del single, at, hit
    several = np.flatnonzero(right - left > 1)
    if len(several):
        shared = np.zeros(len(low), dtype=bool)
        repeated = low[1:] == low[:-1]
        shared[1:] |= repeated
        shared[:-1] |= repeated
        among = np.flatnonzero(shared)
        found = _find_by_sort(tuple(c[among] for c in known), tuple(c[several] for c in wanted))
        position[several] = np.where(found >= 0, among[found], -1)
    return position


def _find_by_sort(known: tuple[np.ndarray, ...], wanted: tuple[np.ndarray, ...]) -> np.ndarray:
    """`find` by one stable sort of both key sets (equal keys meet side by side)."""
    both = [np.concatenate([k, w]) for k, w in zip(known, wanted, strict=True)]
    side = np.repeat(np.array([0, 1], dtype=np.uint8), [len(known[2]), len(wanted[2])])
    order = np.lexsort((side, both[2], both[0], both[1]))
    ordered = [column[order] for column in both]
    same_as_next = ~starts(*ordered)[1:]
    pair = same_as_next & (side[order[:-1]] == 0) & (side[order[1:]] == 1)
    position = np.full(len(wanted[2]), -1, dtype=np.int64)
    position[order[1:][pair] - len(known[2])] = order[:-1][pair]
    return position
