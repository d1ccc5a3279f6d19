"""Reading planned partitions as pandas frames: in chunks (batch) or a whole file at once.

A CSV partition is read back from its byte range (with the header in front) and must hash
to what was planned, or the batch stops (the file changed while it was scored); a parquet
partition is one row group. A file handle is never held across a `yield` of CSV chunks, and
a parquet reader is closed when its generator is (use `contextlib.closing` where the
consumer may stop early).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tabml.tables._files import TableError, first_line, open_regular
from tabml.tables._plan import Partition, changed_error, plan_table

if TYPE_CHECKING:
    import pandas as pd

WHOLE_FILE = 1 << 62  # partition bytes that make one partition of any file
SHOWN_RAGGED = 5  # ragged rows named in an error line


def read_partition(
    part: Partition,
    parquet: bool,
    chunk_rows: int | None,
    categorical: Sequence[str] = (),
    text: Sequence[str] = (),
) -> Iterator[pd.DataFrame]:
    """The partition's rows in chunks of at most `chunk_rows` (None: one frame), with the
    `categorical` columns as pandas categoricals and the `text` columns of a CSV file as
    written (a category `01` stays `01`, not the number 1; a parquet column keeps the type it
    was stored with, which the runtime's input path normalises).

    Raises:
        TableError: unreadable, or its bytes are not those planned.
    """
    read = 0
    try:
        chunks = _parquet_chunks if parquet else _csv_chunks
        for chunk in chunks(part, chunk_rows, categorical, text):
            read += len(chunk)
            yield chunk
    except TableError:
        raise
    except Exception as err:
        raise TableError(f"{part.path}: cannot read: {first_line(err)}") from None
    if read != part.rows:  # row n of the chunks must be row n of the partition
        raise TableError(
            f"{part.path}: read {read:,} rows where the first pass counted {part.rows:,} "
            f"(rows {part.first_row:,}..)"
        )


def _csv_chunks(
    part: Partition, chunk_rows: int | None, categorical: Sequence[str], as_text: Sequence[str]
):
    import pandas as pd

    with open_regular(part.path) as handle:
        handle.seek(part.start)
        data = handle.read(part.end - part.start)
    text = part.header + data
    del data
    if hashlib.sha256(text).hexdigest() != part.sha256:
        raise changed_error(part.path)
    types = {**dict.fromkeys(as_text, str), **dict.fromkeys(categorical, "category")}
    options = {"dtype": {c: kind for c, kind in types.items() if c in part.columns}}
    if part.long_rows:  # pandas fails on a long row; with usecols it drops the extra fields
        options["usecols"] = range(len(part.columns))
    if chunk_rows is None:
        yield pd.read_csv(io.BytesIO(text), **options)
    else:
        yield from pd.read_csv(io.BytesIO(text), chunksize=chunk_rows, **options)


def _parquet_chunks(
    part: Partition, chunk_rows: int | None, categorical: Sequence[str], _text: Sequence[str]
):
    import pyarrow.parquet as pq

    with open_regular(part.path) as handle:
        dictionary = [c for c in categorical if c in part.columns]
        reader = pq.ParquetFile(handle, read_dictionary=dictionary)
        if chunk_rows is None:
            yield reader.read_row_group(part.start).to_pandas()
            return
        for batch in reader.iter_batches(batch_size=chunk_rows, row_groups=[part.start]):
            yield batch.to_pandas()


def read_table(
    path: Path,
    needed: Sequence[str] = (),
    ragged: Literal["drop", "refuse"] = "drop",
    empty_ok: bool = False,
    text: Sequence[str] = (),
) -> pd.DataFrame:
    """A whole table file as one frame, parsed in one go (for inputs that fit in memory:
    drift inputs, label files, the raw data of the validate stage).

    The same checks as batch scoring (a regular file, rows within the limit, UTF-8 text,
    the `needed` columns). A CSV file is parsed by one `pandas.read_csv` call, so column
    types are inferred over the whole file. CSV rows with too few or too many fields are
    left out (`ragged="drop"`) or refuse the file (`"refuse"`, naming the first ones). A file
    without data rows is refused unless `empty_ok` (then: an empty frame with its columns).
    `text` columns of a CSV file are read as written (`read_partition`).

    Raises:
        TableError: the file cannot be read as a table, or changed while it was read.
    """
    import pandas as pd

    plan = plan_table(Path(path), list(needed), WHOLE_FILE, empty_ok)
    frames = [
        frame
        for part in plan.partitions
        for frame in read_partition(part, plan.parquet, None, text=text)
    ]
    plan.check_unchanged()
    if not frames:  # a parquet file without row groups
        return pd.DataFrame()
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    rows = sorted(row for part in plan.partitions for row in part.ragged)
    if rows and ragged == "refuse":
        reasons = plan.partitions[0].ragged
        named = ", ".join(f"row {r:,} ({reasons[r][0]})" for r in rows[:SHOWN_RAGGED])
        more = f" and {len(rows) - SHOWN_RAGGED:,} more" if len(rows) > SHOWN_RAGGED else ""
        raise TableError(f"{path}: rows with the wrong number of fields: {named}{more}")
    return frame.drop(index=rows) if rows else frame
