"""Table files (CSV or parquet) as users hand them in: one reader for every surface.

Batch scoring plans a file into partitions and reads them in chunks (`plan_table`,
`read_partition`); drift inputs, label files and the validate stage read a whole file at once
(`read_table`). Both go through the same checks, done while planning, before anything is
written anywhere:

- the path is a regular file (a directory, device, pipe or socket is named as such);
- a CSV row, the header included, takes at most `MAX_ROW_BYTES` (memory stays bounded by a
  partition plus that limit, whatever the file holds);
- a CSV file is UTF-8 text (the first other byte is named with its row and offset);
- columns have distinct names, and the needed ones are there;
- CSV rows with too few or too many fields are found and numbered (pyarrow's parser), so a
  batch can reject them one by one; more than `MAX_EXTRA_FIELDS` extra fields stop the file.

Every failure is a `TableError`: one line naming the file (and the row). Files are opened in
`with` blocks, so every failure path closes them. pandas and pyarrow are imported only when a
table is read, so hashing a file (`sha256_of`, the ingest stage) stays cheap.
"""

from tabml.tables._csv_rows import MAX_EXTRA_FIELDS, MAX_ROW_BYTES
from tabml.tables._files import PARQUET_SUFFIXES, TableError, sha256_of
from tabml.tables._plan import PARTITION_BYTES, Partition, TablePlan, plan_table
from tabml.tables._read import read_partition, read_table

__all__ = [
    "MAX_EXTRA_FIELDS",
    "MAX_ROW_BYTES",
    "PARQUET_SUFFIXES",
    "PARTITION_BYTES",
    "Partition",
    "TableError",
    "TablePlan",
    "plan_table",
    "read_partition",
    "read_table",
    "sha256_of",
]
