"""CSV rows as bytes: where they end, how long they may be, and what pyarrow counts in them.

A row ends at a newline outside quotes (a quoted field may hold newlines). Every search here
is linear in the bytes it looks at, whatever the quoting: a cell of a million quoted
newlines costs one pass, not one pass per newline. A row (the header included) may take at
most `MAX_ROW_BYTES`: the reader never holds more than that beyond a partition, and pyarrow's
blocks (`SCAN_BLOCK`) always hold a whole row, so its "straddling object" error cannot occur.
"""

from pathlib import Path
from typing import BinaryIO

from tabml.tables._files import BLOCK, TableError, unreadable

MAX_ROW_BYTES = 1 << 20
SCAN_BLOCK = 2 * MAX_ROW_BYTES
# Extra fields a long CSV row may have and still be a reject: pandas then reads every later
# chunk as wide as the longest row (~20 µs per column per chunk), so wider rows stop the file.
MAX_EXTRA_FIELDS = 10_000
QUOTE, NEWLINE = b'"', b"\n"


def row_end(block: bytes, start: int, quotes: int) -> int:
    """Index of the first newline at or after `start` outside quotes, or -1.

    `quotes`: the number of quotes before `block` (only its parity matters).
    """
    parity = (quotes + block.count(QUOTE, 0, start)) % 2
    position = start
    while (i := block.find(NEWLINE, position)) != -1:
        parity = (parity + block.count(QUOTE, position, i)) % 2
        if parity == 0:
            return i
        position = i + 1
    return -1


def last_row_end(block: bytes, quotes: int, in_block: int | None = None) -> int:
    """Index of the last newline of `block` outside quotes, or -1 (`quotes` as in `row_end`;
    `in_block`: the quotes of `block`, when the caller has counted them)."""
    in_block = block.count(QUOTE) if in_block is None else in_block
    after, end = quotes + in_block, len(block)  # quotes before `end`
    i = block.rfind(NEWLINE)
    while i != -1:
        after -= block.count(QUOTE, i, end)
        if after % 2 == 0:
            return i
        end, i = i, block.rfind(NEWLINE, 0, i)
    return -1


def header_row(handle: BinaryIO, path: Path) -> bytes:
    """The header row's bytes (with its newline), read in blocks up to `MAX_ROW_BYTES`.

    Raises:
        TableError: the file is empty, or has no row end within the limit.
    """
    data, quotes = b"", 0
    while True:
        block = handle.read(BLOCK)
        if not block:
            if not data.strip():
                raise TableError(f"{path}: the file is empty")
            return data  # a header without a newline: a file without data rows
        end = row_end(block, 0, quotes)
        if end != -1:
            data += block[: end + 1]
            break
        data += block
        quotes += block.count(QUOTE)
        if len(data) > MAX_ROW_BYTES:
            break
    if len(data) > MAX_ROW_BYTES:
        raise TableError(
            f"{path}: the header row is longer than {MAX_ROW_BYTES:,} bytes, the limit of one "
            "row: is it a CSV file?"
        )
    return data


def not_utf8(data: bytes) -> int | None:
    """Offset of the first byte of `data` that is not UTF-8 text, or None."""
    if data.isascii():  # the common case, ~30x faster than decoding
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start
    return None


def header_names(path: Path, header: bytes) -> list[str]:
    """The column names of a header row, as pandas reads them (duplicates kept as they are)."""
    import io

    import pandas as pd

    bad = not_utf8(header)
    if bad is not None:
        raise TableError(
            f"{path}: not a CSV file: the header row is not UTF-8 text "
            f"(byte 0x{header[bad]:02x} at offset {bad:,})"
        )
    try:
        # header=None keeps duplicate names as they are (a header row would rename them `x.1`)
        names = pd.read_csv(io.BytesIO(header), header=None, dtype=str, keep_default_na=False)
    except Exception as err:  # pandas raises many types for unreadable text
        raise unreadable(path, "CSV", err) from None
    return [str(c) for c in names.iloc[0].tolist()] if len(names) else []


def scan_rows(data: bytes) -> tuple[int, dict[int, tuple[str, str]], dict[int, int]]:
    """Data rows of CSV bytes (header first), the ragged ones and their numbers of fields.

    One pass of pyarrow's parser over an in-memory buffer, serial and whole (`read_csv`, not
    the streaming `open_csv`): the streaming reader reads ahead on pyarrow's shared I/O
    threads, and a read still pending when the process exits aborted it ("terminate called
    without an active exception", about once in 200 exits under load; apache/arrow#43604),
    as a reader of a Python file object did, calling back into a finalising interpreter
    (`PyGILState_Release`). The serial reader's one read-ahead thread is its own, joined
    before `read_csv` returns. Ragged rows map (0-based, the header is not a row) to (reason,
    the row's text).
    """
    import pyarrow as pa
    import pyarrow.csv as pv

    ragged: dict[int, tuple[str, str]] = {}
    blank = 0  # whitespace-only lines: pandas skips them, pyarrow counts them as rows
    fields: dict[int, int] = {}

    def on_invalid(row) -> str:
        nonlocal blank
        if not row.text.strip():
            blank += 1
            return "skip"
        number = row.number - 2 - blank  # pyarrow counts from 1, the header included
        reason = f"{row.actual_columns} fields where the header has {row.expected_columns}"
        ragged[number] = (reason, row.text)
        fields[number] = row.actual_columns
        return "skip"

    table = pv.read_csv(
        pa.BufferReader(data),
        # one thread: row numbers are known only then, and it measured faster here
        read_options=pv.ReadOptions(use_threads=False, block_size=SCAN_BLOCK),
        parse_options=pv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        # convert nothing (a column that is not there reads as nulls): only rows are counted
        convert_options=pv.ConvertOptions(include_columns=["\0none"], include_missing_columns=True),
    )
    return table.num_rows + len(ragged), ragged, fields
