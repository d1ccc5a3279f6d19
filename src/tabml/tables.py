"""Table files (CSV or parquet): read in bounded chunks, and the sha256 of a file's bytes.

One reader for every table a user hands in (batch scoring, drift inputs); pandas and pyarrow
are imported only when a table is read, so hashing a file (the ingest stage) stays cheap.

A CSV file is read twice from one open handle, hashing the bytes both times: pyarrow's CSV
parser first finds the rows with too few or too many fields (pandas fills a short row with
nulls and fails the whole file on a long one) and counts the rows, then pandas reads the
chunks. The chunks end with an error if the bytes pandas read differ from the first pass, so
a file that changes while it is read is never scored under the hash of other bytes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tabml.errors import TabmlError

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
BLOCK = 1 << 20
SHOWN_NAME_CHARS = 60  # a column name quoted in an error (a header row can be 200 MB)
# Extra fields a long CSV row may have and still be a reject: pandas then reads every later
# chunk as wide as the longest row (~20 µs per column per chunk), so wider rows stop the file.
MAX_EXTRA_FIELDS = 10_000


class TableError(TabmlError, ValueError):
    """The input file cannot be scored (unreadable, empty, missing columns, stale model)."""


def sha256_of(path: Path, on_block: Callable[[bytes], object] | None = None) -> str:
    """sha256 of the file's bytes; `on_block` sees every block read (e.g. to count lines)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            if on_block is not None:
                on_block(block)
    return digest.hexdigest()


class _Hashing(io.RawIOBase):
    """A read-only view of a binary handle that hashes every byte read through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.handle.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
        return n

    def finish(self) -> str:
        """Hash whatever the parser left unread; the sha256 of the whole file."""
        while self.read(BLOCK):
            pass
        return self.digest.hexdigest()


@dataclass
class TableInput:
    """An open table file: chunks to iterate once, its row count and sha256.

    `ragged` maps a CSV data row (0-based, the header is not a row) with too few or too
    many fields to (reason, the row's text); its chunk holds that row with nulls.
    """

    path: Path
    rows: int
    sha256: str
    chunks: Iterator[pd.DataFrame]
    ragged: dict[int, tuple[str, str]] = field(default_factory=dict)
    handle: BinaryIO | None = None

    def __enter__(self) -> TableInput:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def shown(names: list[str], limit: int = 20) -> str:
    """Column names for an error line: at most `limit`, each cut to a readable length."""
    cut = [n if len(n) <= SHOWN_NAME_CHARS else n[:SHOWN_NAME_CHARS] + "..." for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{cut[:limit]}{more}"


def open_input(
    path: Path, needed: list[str], chunk_rows: int, categorical: list[str] = ()
) -> TableInput:
    """Open a CSV or parquet file for reading in chunks (use it in a `with` block).

    `categorical` columns are read as pandas categoricals: the checks and the model's feeds
    then see each distinct value once per chunk instead of once per row.

    Raises:
        TableError: missing, empty, unreadable, duplicate or missing needed columns.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    handle = open(path, "rb")  # noqa: SIM115  (closed by TableInput, or below on error)
    try:
        opener = _open_parquet if parquet else _open_csv
        return opener(path, handle, needed, chunk_rows, categorical)
    except Exception as err:
        handle.close()
        if isinstance(err, TableError):
            raise
        raise _unreadable(path, "parquet" if parquet else "CSV", err) from None


def _unreadable(path: Path, kind: str, err: Exception) -> TableError:
    import pandas as pd

    if isinstance(err, pd.errors.EmptyDataError):
        return TableError(f"{path}: the file is empty")
    if isinstance(err, UnicodeDecodeError):
        return TableError(f"{path}: not a CSV file (not UTF-8 text)")
    # pandas and pyarrow raise many types for unreadable files
    return TableError(f"{path}: cannot read as {kind}: {_first_line(err)}")


def _checked_columns(path: Path, columns: list[str], needed: list[str]) -> None:
    seen, duplicated = set(), []
    for name in columns:
        if name in seen and name not in duplicated:
            duplicated.append(name)
        seen.add(name)
    if duplicated:
        raise TableError(
            f"{path}: duplicate column names {shown(duplicated)}: give every column its own name"
        )
    missing = [c for c in needed if c not in seen]
    if missing:
        raise TableError(f"{path}: missing columns {shown(missing)} (found {shown(columns)})")


def _open_parquet(path, handle, needed, chunk_rows, categorical) -> TableInput:
    import pyarrow.parquet as pq

    input_sha = _Hashing(handle).finish()
    handle.seek(0)
    meta = pq.ParquetFile(handle)
    columns, total = meta.schema_arrow.names, meta.metadata.num_rows
    _checked_columns(path, columns, needed)
    if total == 0:
        raise TableError(f"{path}: no data rows")
    reader = pq.ParquetFile(handle, read_dictionary=[c for c in categorical if c in columns])
    batches = (b.to_pandas() for b in reader.iter_batches(batch_size=chunk_rows))

    def after() -> str:  # parquet is read by seeking: hash the file again once it is read
        handle.seek(0)
        return _Hashing(handle).finish()

    chunks = _guarded(batches, path, total, input_sha, after)
    return TableInput(path, total, input_sha, chunks, {}, handle)


def _open_csv(path, handle, needed, chunk_rows, categorical) -> TableInput:
    import pandas as pd

    # header=None keeps duplicate names as they are (a header row would rename them `x.1`)
    header = pd.read_csv(handle, header=None, nrows=1, dtype=str, keep_default_na=False)
    columns = [str(c) for c in header.iloc[0].tolist()] if len(header) else []
    _checked_columns(path, columns, needed)
    handle.seek(0)
    input_sha, total, ragged, ragged_fields = _scan_csv(handle)
    if total == 0:
        raise TableError(f"{path}: no data rows")
    handle.seek(0)
    stream = _Hashing(handle)
    options = {"dtype": {c: "category" for c in categorical if c in columns}}
    too_long = [(r, f) for r, f in ragged_fields.items() if f > len(columns) + MAX_EXTRA_FIELDS]
    if too_long:
        row, fields = min(too_long)
        raise TableError(
            f"{path}: row {row} has {fields:,} fields where the header has {len(columns)}: "
            f"too many to keep it as a reject (at most {MAX_EXTRA_FIELDS:,} extra); fix that row"
        )
    if any(fields > len(columns) for fields in ragged_fields.values()):
        # Only then: pandas fails a file on a long row, or (the first row) takes its first
        # field as the index; with usecols it drops the extra fields and keeps the row.
        options["usecols"] = range(len(columns))
    chunks = pd.read_csv(io.BufferedReader(stream, BLOCK), chunksize=chunk_rows, **options)
    chunks = _guarded(chunks, path, total, input_sha, stream.finish)
    return TableInput(path, total, input_sha, chunks, ragged, handle)


def _scan_csv(handle: BinaryIO) -> tuple[str, int, dict, dict[int, int]]:
    """sha256, data rows, ragged rows and their numbers of fields, in one pass of pyarrow."""
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

    stream = _Hashing(handle)
    reader = pv.open_csv(
        io.BufferedReader(stream, BLOCK),
        # one thread: row numbers are known only then, and it measured faster here
        read_options=pv.ReadOptions(use_threads=False, block_size=BLOCK),
        parse_options=pv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        # convert nothing (a column that is not there reads as nulls): only rows are counted
        convert_options=pv.ConvertOptions(include_columns=["\0none"], include_missing_columns=True),
    )
    rows = sum(batch.num_rows for batch in reader)
    return stream.finish(), rows + len(ragged), ragged, fields


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _guarded(
    chunks: Iterator[pd.DataFrame],
    path: Path,
    rows: int,
    sha256: str,
    read_sha256: Callable[[], str],
) -> Iterator[pd.DataFrame]:
    """The chunks, ending in an error that names the file if one cannot be read (a malformed
    line at row 500,000), if they hold other than `rows` rows, or if the bytes read are not
    those hashed first."""
    read = 0
    try:
        for chunk in chunks:
            read += len(chunk)
            yield chunk
    except Exception as err:
        raise TableError(f"{path}: cannot read: {_first_line(err)}") from None
    if read_sha256() != sha256:
        raise TableError(
            f"{path}: the file changed while it was being read; nothing was written: "
            "rerun once it is complete"
        )
    if read != rows:  # row n of the chunks must be row n of the file (rejects name it)
        raise TableError(f"{path}: read {read:,} rows where the first pass counted {rows:,}")


def read_table(path: Path, needed: list[str] = (), chunk_rows: int = 100_000) -> pd.DataFrame:
    """A whole table file as one frame (for inputs that fit in memory, e.g. drift).

    Ragged CSV rows (too few or too many fields) are left out.
    """
    import pandas as pd

    with open_input(Path(path), list(needed), chunk_rows) as table:
        frame = pd.concat(list(table.chunks), ignore_index=True)
    return frame.drop(index=list(table.ragged)) if table.ragged else frame
