"""A table file cut into partitions that follow the file, never the number of workers.

A CSV file is cut into byte ranges of about `PARTITION_BYTES`, each ending at the end of a row
(`_csv_rows`); a parquet file into its row groups. Planning reads the file once: its sha256
(a batch's id), and per CSV partition its sha256, row count and the rows with too few or too
many fields (pyarrow's parser). It is also where a CSV file is refused, before anything is
written anywhere: a row longer than `MAX_ROW_BYTES` (memory stays bounded by the partition
size plus that limit), a byte that is not UTF-8 text, a row with more than `MAX_EXTRA_FIELDS`
extra fields; each named by its row. Any process that sees the same path can then read a
partition on its own (`_read.read_partition`) and knows the file row number of each of its
rows, so a partition's output does not depend on where or when it was read.
"""

import hashlib
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tabml.tables._csv_rows import (
    MAX_EXTRA_FIELDS,
    MAX_ROW_BYTES,
    QUOTE,
    header_names,
    header_row,
    last_row_end,
    not_utf8,
    row_end,
    scan_rows,
)
from tabml.tables._files import (
    BLOCK,
    PARQUET_SUFFIXES,
    TableError,
    checked_columns,
    open_regular,
    sha256_of,
    unreadable,
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
    """A planned file: its partitions, rows, sha256 and size when it was planned."""

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


def plan_table(
    path: Path, needed: list[str], partition_bytes: int = PARTITION_BYTES, empty_ok: bool = False
) -> TablePlan:
    """Partitions of a CSV or parquet file (see the module docstring); a file without data
    rows is refused unless `empty_ok`.

    Raises:
        TableError: missing, not a regular file, empty, unreadable, duplicate or missing
            needed columns, a row too long or not UTF-8.
    """
    path = Path(path)
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    with open_regular(path) as handle:
        try:
            if parquet:
                plan = _plan_parquet(path, handle, needed)
            else:
                plan = _plan_csv(path, handle, needed, partition_bytes)
        except TableError:
            raise
        except Exception as err:  # pandas and pyarrow raise many types for unreadable files
            raise unreadable(path, "parquet" if parquet else "CSV", err) from None
    if plan.rows == 0 and not empty_ok:
        raise TableError(f"{path}: no data rows")
    return plan


def _plan_parquet(path: Path, handle, needed: list[str]) -> TablePlan:
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    while block := handle.read(BLOCK):
        digest.update(block)
    handle.seek(0)
    meta = pq.ParquetFile(handle).metadata
    names = tuple(meta.schema.to_arrow_schema().names)
    checked_columns(path, list(names), needed)
    parts, first = [], 0
    for group in range(meta.num_row_groups):
        rows = meta.row_group(group).num_rows
        parts.append(
            Partition(group, str(path.absolute()), first, rows, start=group, columns=names)
        )
        first += rows
    size = os.fstat(handle.fileno()).st_size
    return TablePlan(path, True, first, digest.hexdigest(), size, parts)


class _CsvPlanner:
    """The cuts of one CSV file, found block by block while earlier partitions are scanned.

    Partitions are scanned (pyarrow's parser and sha256, both without the GIL) on
    PLAN_THREADS threads while this one finds the next cuts; at most that many wait for a
    thread, so memory stays bounded by a few partitions.
    """

    def __init__(self, path: Path, header: bytes, columns: list[str], pool: ThreadPoolExecutor):
        self.path, self.header, self.columns, self.pool = path, header, columns, pool
        self.parts: list[Partition] = []
        self.scanning: deque = deque()  # (start, data, future of _scan_partition)
        self.pending: list[bytes] = []  # the bytes of the partition being cut
        self.start = 0  # where that partition starts in the file

    def close(self, end: int) -> None:
        """The pending bytes, up to `end`, are a partition: scan it."""
        data = b"".join(self.pending)
        head = self.header if self.parts or self.scanning else b""  # the first one holds it
        self.scanning.append((self.start, data, self.pool.submit(_scan_partition, head, data)))
        if len(self.scanning) > PLAN_THREADS:
            self.finish_oldest()
        self.start, self.pending = end, []

    def finish_oldest(self) -> None:
        start, data, future = self.scanning.popleft()
        first = self.next_row()
        rows, ragged, fields, sha, bad = future.result()
        if bad is not None:
            row, offset = bad
            raise TableError(
                f"{self.path}: row {first + row:,} is not UTF-8 text (byte "
                f"0x{data[offset]:02x} at offset {start + offset:,}): save the file as UTF-8"
            )
        too_long = [(r, f) for r, f in fields.items() if f > len(self.columns) + MAX_EXTRA_FIELDS]
        if too_long:
            row, count = min(too_long)
            raise TableError(
                f"{self.path}: row {first + row:,} has {count:,} fields where the header has "
                f"{len(self.columns)}: too many to keep it as a reject (at most "
                f"{MAX_EXTRA_FIELDS:,} extra); fix that row"
            )
        index = len(self.parts)
        self.parts.append(
            Partition(
                index, str(self.path.absolute()), first, rows, start, start + len(data), sha,
                b"" if index == 0 else self.header, ragged,
                any(f > len(self.columns) for f in fields.values()), tuple(self.columns),
            )
        )  # fmt: skip

    def next_row(self) -> int:
        last = self.parts[-1] if self.parts else None
        return last.first_row + last.rows if last else 0

    def too_long(self, row_start: int) -> TableError:
        """The error for the row starting at byte `row_start`, longer than the limit."""
        while self.scanning:
            self.finish_oldest()
        before = b"".join(self.pending)[: row_start - self.start]
        head = self.header if self.parts else b""
        row = self.next_row() + (scan_rows(head + before)[0] if before else 0)
        return TableError(
            f"{self.path}: row {row:,} (from byte {row_start:,}) is longer than "
            f"{MAX_ROW_BYTES:,} bytes, the limit of one row (or a quote is never closed): "
            "fix that row"
        )


def _plan_csv(path: Path, handle, needed: list[str], partition_bytes: int) -> TablePlan:
    header = header_row(handle, path)
    columns = header_names(path, header)
    checked_columns(path, columns, needed)
    handle.seek(0)
    digest = hashlib.sha256()
    position = quotes = 0  # bytes before the block; quotes before it, mod 2
    row_start = len(header)  # where the row being read started
    cut_after = max(partition_bytes, len(header))
    with ThreadPoolExecutor(PLAN_THREADS) as pool:
        plan = _CsvPlanner(path, header, columns, pool)
        while block := handle.read(BLOCK):
            digest.update(block)
            # Rows inside a block are shorter than the limit: check the row ending in it
            # (begun in an earlier block) before any cut, and the one still open at its end.
            first = row_end(block, 0, quotes)
            if first != -1 and position + first - row_start > MAX_ROW_BYTES:
                raise plan.too_long(row_start)
            offset = 0
            while (target := max(cut_after - position, offset)) < len(block):
                end = row_end(block, target, quotes)
                if end == -1:
                    break
                plan.pending.append(block[offset : end + 1])
                offset = end + 1
                plan.close(position + offset)
                cut_after = position + offset + partition_bytes
            plan.pending.append(block[offset:])
            in_block = block.count(QUOTE)
            last = last_row_end(block, quotes, in_block)
            if last != -1:
                row_start = max(row_start, position + last + 1)
            quotes = (quotes + in_block) % 2
            position += len(block)
            if position - row_start > MAX_ROW_BYTES:
                raise plan.too_long(row_start)
        if any(plan.pending):
            plan.close(position)
        while plan.scanning:
            plan.finish_oldest()
    rows = sum(p.rows for p in plan.parts)
    return TablePlan(path, False, rows, digest.hexdigest(), position, plan.parts)


def _scan_partition(head: bytes, data: bytes) -> tuple:
    """Rows, ragged rows and their numbers of fields (pyarrow), sha256 of `head + data`, and
    (row, offset) of the first byte that is not UTF-8 text, or None."""
    text = head + data
    sha = hashlib.sha256(text).hexdigest()
    bad = not_utf8(data)
    if bad is not None:  # its row: the rows that end before it (valid text, for pyarrow)
        line_start = last_row_end(data[:bad], 0) + 1
        return 0, {}, {}, sha, (scan_rows(head + data[:line_start])[0] if line_start else 0, bad)
    rows, ragged, fields = scan_rows(text)
    return rows, ragged, fields, sha, None
