"""Table files (CSV or parquet): read in bounded chunks, and the sha256 of a file's bytes.

One reader for every table a user hands in (batch scoring, drift inputs); pandas and pyarrow
are imported only when a table is read, so hashing a file (the ingest stage) stays cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tabml.errors import TabmlError

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")


class TableError(TabmlError, ValueError):
    """The input file cannot be scored (unreadable, empty, missing columns, stale model)."""


def sha256_of(path: Path, on_block: Callable[[bytes], object] | None = None) -> str:
    """sha256 of the file's bytes; `on_block` sees every block read (e.g. to count lines)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            if on_block is not None:
                on_block(block)
    return digest.hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 of the file's bytes and its number of newlines (for progress), in one pass."""
    lines = [0]

    def count(block: bytes) -> None:
        lines[0] += block.count(b"\n")

    return sha256_of(path, count), lines[0]


def open_input(
    path: Path, needed: list[str], chunk_rows: int, categorical: list[str] = ()
) -> tuple[Iterator, int, str]:
    """Chunks of the file (CSV or parquet), its row count (CSV: from newlines, approximate)
    and the sha256 of its bytes.

    `categorical` columns are read as pandas categoricals: the checks and the model's feeds
    then see each distinct value once per chunk instead of once per row.

    Raises:
        TableError: missing, empty, unreadable, or lacking a needed column.
    """
    import pandas as pd

    if not path.is_file():
        raise TableError(f"{path}: no such file")
    try:
        input_sha, lines = file_digest(path)
        if path.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            columns, total = parquet.schema_arrow.names, parquet.metadata.num_rows
            parquet = pq.ParquetFile(path, read_dictionary=[c for c in categorical if c in columns])
            chunks = (b.to_pandas() for b in parquet.iter_batches(batch_size=chunk_rows))
        else:
            columns = list(pd.read_csv(path, nrows=0).columns)
            total = max(lines - 1, 0)
            dtype = {c: "category" for c in categorical if c in columns}
            chunks = pd.read_csv(path, chunksize=chunk_rows, dtype=dtype)
    except pd.errors.EmptyDataError:
        raise TableError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:
        raise TableError(f"{path}: not a CSV file (not UTF-8 text)") from None
    except Exception as err:  # pandas and pyarrow raise many types for unreadable files
        kind = "parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
        raise TableError(f"{path}: cannot read as {kind}: {_first_line(err)}") from None
    missing = [c for c in needed if c not in columns]
    if missing:
        raise TableError(f"{path}: missing columns {missing} (found {columns[:20]})")
    if total == 0:
        raise TableError(f"{path}: no data rows")
    return _guarded(chunks, path), total, input_sha


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _guarded(chunks: Iterator[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    """Errors in later chunks (a malformed line at row 500,000) also name the file."""
    try:
        yield from chunks
    except Exception as err:
        raise TableError(f"{path}: cannot read: {_first_line(err)}") from None


def read_table(path: Path, needed: list[str] = (), chunk_rows: int = 100_000) -> pd.DataFrame:
    """A whole table file as one frame (for inputs that fit in memory, e.g. drift)."""
    import pandas as pd

    chunks, _, _ = open_input(Path(path), list(needed), chunk_rows)
    return pd.concat(list(chunks), ignore_index=True)
