"""What every table read starts with: the file itself (a regular file, opened once), the
sha256 of its bytes, and the one error a user sees for a table they handed in."""

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tabml.errors import TabmlError

PARQUET_SUFFIXES = (".parquet", ".pq")
BLOCK = 1 << 20
SHOWN_NAME_CHARS = 60  # a column name quoted in an error (a header row can be 1 MiB)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


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


def _not_regular(path: Path | str, mode: int) -> TableError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return TableError(f"{path}: is {kind}, not a CSV or parquet file")


def open_regular(path: Path | str) -> BinaryIO:
    """`path` opened for reading, if it is a regular file (or a link to one).

    Opened without blocking (a named pipe would wait for a writer for ever) and checked on
    the open handle, so the file checked is the file read.

    Raises:
        TableError: missing, not readable, or a directory, device, pipe or socket.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TableError(f"{path}: no such file") from None
    except PermissionError:
        raise TableError(f"{path}: cannot be read (permission denied)") from None
    except OSError as err:  # e.g. a socket cannot be opened: say what it is if we can
        try:
            mode = os.stat(path).st_mode
        except OSError:
            raise TableError(f"{path}: cannot be opened ({err.strerror})") from None
        raise _not_regular(path, mode) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, mode)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def shown(names: list[str], limit: int = 20) -> str:
    """Column names for an error line: at most `limit`, each cut to a readable length."""
    cut = [n if len(n) <= SHOWN_NAME_CHARS else n[:SHOWN_NAME_CHARS] + "..." for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{cut[:limit]}{more}"


def first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def unreadable(path: Path, kind: str, err: Exception) -> TableError:
    """One line for a file pandas or pyarrow could not read (they raise many types)."""
    import pandas as pd

    if isinstance(err, pd.errors.EmptyDataError):
        return TableError(f"{path}: the file is empty")
    if isinstance(err, UnicodeDecodeError):
        return TableError(f"{path}: not a CSV file (not UTF-8 text)")
    return TableError(f"{path}: cannot read as {kind}: {first_line(err)}")


def checked_columns(path: Path, columns: list[str], needed: list[str]) -> None:
    """Refuse duplicate column names and missing `needed` ones."""
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
