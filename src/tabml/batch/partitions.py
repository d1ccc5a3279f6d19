"""An input file cut into partitions that follow the file, never the number of workers.

A CSV file is cut into byte ranges of about `PARTITION_BYTES`, each ending at the end of a row
(a newline outside quotes: a quoted field may hold newlines); a parquet file into its row
groups. Planning reads the file once, on the client: its sha256 (the batch id), and per CSV
partition its sha256, row count and the rows with too few or too many fields (pyarrow's
parser, as `tabml.tables` does for a whole file). Any process that sees the same path can then
read a partition on its own (`read_partition`), in chunks of `chunk_rows` rows, and knows the
file row number of each of its rows, so a partition's output does not depend on where or when
it was read. A CSV partition whose bytes are not those planned stops the batch (the file
changed while it was scored); a parquet file is hashed again once every partition is read.
"""

import hashlib
import io
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tabml.tables import (
    BLOCK,
    MAX_EXTRA_FIELDS,
    PARQUET_SUFFIXES,
    TableError,
    _checked_columns,
    _first_line,
    _Hashing,
    _scan_csv,
    _unreadable,
    sha256_of,
)

PARTITION_BYTES = 4 << 20  # ~90,000 penguin rows: a worker's unit of work, and of retry
PLAN_THREADS = 2  # planning a 1M-row CSV: 0.2 s on one thread


@dataclass(frozen=True)
class Partition:
    """One partition: rows `first_row ..` of the file, readable by any process."""

    index: int
    path: str
    first_row: int
    rows: int
    start: int = 0  # CSV: the byte range [start, end); parquet: the row group is `start`
    end: int = 0
    sha256: str = ""  # CSV: of `header` + the range's bytes, as the partition is parsed
    header: bytes = b""  # CSV: the header row, put before the range of a later partition
    ragged: dict[int, tuple[str, str]] = field(default_factory=dict)  # partition row -> why, text
    long_rows: bool = False  # CSV: some row has more fields than the header
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class TablePlan:
    path: Path
    parquet: bool
    rows: int
    sha256: str
    size: int
    partitions: list[Partition]

    def check_unchanged(self) -> None:
        """After the last partition: the file still has the bytes the plan hashed."""
        path = self.path
        changed = path.stat().st_size != self.size
        if self.parquet and not changed:  # parquet is read by seeking: hash it again
            changed = sha256_of(path) != self.sha256
        if changed:
            raise changed_error(path)


def changed_error(path: Path | str) -> TableError:
    return TableError(
        f"{path}: the file changed while it was being read; nothing was written: "
        "rerun once it is complete"
    )


def plan_table(path: Path, needed: list[str], partition_bytes: int = PARTITION_BYTES) -> TablePlan:
    """Partitions of a CSV or parquet file (see the module docstring).

    Raises:
        TableError: missing, empty, unreadable, duplicate or missing needed columns.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    try:
        with open(path, "rb") as handle:
            if parquet:
                return _plan_parquet(path, handle, needed)
            return _plan_csv(path, handle, needed, partition_bytes)
    except TableError:
        raise
    except Exception as err:  # pandas and pyarrow raise many types for unreadable files
        raise _unreadable(path, "parquet" if parquet else "CSV", err) from None


def _plan_parquet(path: Path, handle, needed: list[str]) -> TablePlan:
    import pyarrow.parquet as pq

    sha = _Hashing(handle).finish()
    handle.seek(0)
    meta = pq.ParquetFile(handle).metadata
    names = tuple(meta.schema.to_arrow_schema().names)
    _checked_columns(path, list(names), needed)
    if meta.num_rows == 0:
        raise TableError(f"{path}: no data rows")
    parts, first = [], 0
    for group in range(meta.num_row_groups):
        rows = meta.row_group(group).num_rows
        parts.append(
            Partition(group, str(path.absolute()), first, rows, start=group, columns=names)
        )
        first += rows
    return TablePlan(path, True, first, sha, path.stat().st_size, parts)


def _row_end(block: bytes, start: int, quotes_before: int) -> int:
    """Index of the first newline at or after `start` outside quotes, or -1."""
    i = block.find(b"\n", start)
    while i != -1 and (quotes_before + block.count(b'"', 0, i)) % 2:
        i = block.find(b"\n", i + 1)
    return i


def _plan_csv(path: Path, handle, needed: list[str], partition_bytes: int) -> TablePlan:
    # header=None keeps duplicate names as they are (a header row would rename them `x.1`)
    header = pd.read_csv(handle, header=None, nrows=1, dtype=str, keep_default_na=False)
    columns = [str(c) for c in header.iloc[0].tolist()] if len(header) else []
    _checked_columns(path, columns, needed)
    handle.seek(0)
    digest, parts, pending = hashlib.sha256(), [], []
    header_row: bytes | None = None
    position = quotes = 0  # bytes before the block; quotes before it, mod 2
    part_start, cut_after = 0, partition_bytes
    # Partitions are scanned (pyarrow's parser and sha256, both without the GIL) on
    # PLAN_THREADS threads while this one finds the next cuts; at most that many wait for a
    # thread, so memory stays bounded.
    scanning: deque = deque()  # (start, data, future of _scan_partition)

    def finish_oldest() -> None:
        start, data, future = scanning.popleft()
        first = parts[-1].first_row + parts[-1].rows if parts else 0
        parts.append(
            _csv_partition(len(parts), path, columns, header_row, data, first, start,
                           future.result())
        )  # fmt: skip

    def close(end: int) -> None:
        nonlocal part_start, pending
        data = b"".join(pending)
        head = header_row if parts or scanning else b""  # the first partition holds it
        scanning.append((part_start, data, pool.submit(_scan_partition, head, data)))
        if len(scanning) > PLAN_THREADS:
            finish_oldest()
        part_start, pending = end, []

    with ThreadPoolExecutor(PLAN_THREADS) as pool:
        while block := handle.read(BLOCK):
            digest.update(block)
            offset = 0
            while True:
                if header_row is None:
                    end = _row_end(block, offset, quotes)
                    if end == -1:
                        break
                    header_row = b"".join([*pending, block[: end + 1]])
                    cut_after = max(cut_after, len(header_row))
                target = max(cut_after - position, offset)
                end = _row_end(block, target, quotes) if target < len(block) else -1
                if end == -1:
                    break
                pending.append(block[offset : end + 1])
                offset = end + 1
                close(position + offset)
                cut_after = position + offset + partition_bytes
            pending.append(block[offset:])
            quotes = (quotes + block.count(b'"')) % 2
            position += len(block)
        if any(pending) and (header_row is not None or not (parts or scanning)):
            header_row = header_row if header_row is not None else b"".join(pending)
            close(position)
        while scanning:
            finish_oldest()
    rows = sum(p.rows for p in parts)
    if rows == 0:
        raise TableError(f"{path}: no data rows")
    return TablePlan(path, False, rows, digest.hexdigest(), position, parts)


def _scan_partition(head: bytes, data: bytes) -> tuple[int, dict, dict[int, int], str]:
    """Rows, ragged rows and their numbers of fields (pyarrow), and sha256 of `head + data`."""
    sha, rows, ragged, fields = _scan_csv(io.BytesIO(head + data))
    return rows, ragged, fields, sha


def _csv_partition(index, path, columns, header_row, data, first_row, start, scan) -> Partition:
    """A CSV partition from its bytes and their scan (`_scan_partition`)."""
    head = b"" if index == 0 else header_row
    rows, ragged, fields, sha = scan
    too_long = [(r, f) for r, f in fields.items() if f > len(columns) + MAX_EXTRA_FIELDS]
    if too_long:
        row, count = min(too_long)
        raise TableError(
            f"{path}: row {first_row + row} has {count:,} fields where the header has "
            f"{len(columns)}: too many to keep it as a reject (at most {MAX_EXTRA_FIELDS:,} "
            "extra); fix that row"
        )
    long_rows = any(f > len(columns) for f in fields.values())
    end = start + len(data)
    return Partition(
        index,
        str(path.absolute()),
        first_row,
        rows,
        start,
        end,
        sha,
        head,
        ragged,
        long_rows,
        tuple(columns),
    )


def read_partition(
    part: Partition, parquet: bool, chunk_rows: int, categorical: list[str]
) -> Iterator[pd.DataFrame]:
    """The partition's rows in chunks of at most `chunk_rows` (categorical columns as such).

    Raises:
        TableError: unreadable, or its bytes are not those planned.
    """
    try:
        chunks = _parquet_chunks if parquet else _csv_chunks
        read = 0
        for chunk in chunks(part, chunk_rows, categorical):
            read += len(chunk)
            yield chunk
    except TableError:
        raise
    except Exception as err:
        raise TableError(f"{part.path}: cannot read: {_first_line(err)}") from None
    if read != part.rows:  # row n of the chunks must be row n of the partition
        raise TableError(
            f"{part.path}: read {read:,} rows where the first pass counted {part.rows:,} "
            f"(rows {part.first_row:,}..)"
        )


def _csv_chunks(part: Partition, chunk_rows: int, categorical: list[str]):
    with open(part.path, "rb") as handle:
        handle.seek(part.start)
        data = handle.read(part.end - part.start)
    text = part.header + data
    if hashlib.sha256(text).hexdigest() != part.sha256:
        raise changed_error(part.path)
    options = {"dtype": {c: "category" for c in categorical if c in part.columns}}
    if part.long_rows:  # pandas fails on a long row; with usecols it drops the extra fields
        options["usecols"] = range(len(part.columns))
    yield from pd.read_csv(io.BytesIO(text), chunksize=chunk_rows, **options)


def _parquet_chunks(part: Partition, chunk_rows: int, categorical: list[str]):
    import pyarrow.parquet as pq

    with open(part.path, "rb") as handle:
        dictionary = [c for c in categorical if c in part.columns]
        reader = pq.ParquetFile(handle, read_dictionary=dictionary)
        for batch in reader.iter_batches(batch_size=chunk_rows, row_groups=[part.start]):
            yield batch.to_pandas()
