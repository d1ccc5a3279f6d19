"""Log frames in little memory: what lets `make monitor` hold ten million rows in 2 GiB.

A group of log lines (`log_lines.read_frames`) is made compact before the next is read:
its prediction ids become numbers (`id_keys`, 17 bytes a row instead of about 44),
every text column (version, predicted class, source, categorical inputs, labels) a
categorical (a byte or two a row: each distinct text once) and every float column whose
values a float32 holds exactly (counts, whole grams) a float32 (read back as the same
float64 values). The groups are then joined a
column at a time, each column kept in its own block: dropping rows later copies one column
at a time, never the whole frame (`join.take_rows`).

The values are the same ones: a categorical holds the texts the log holds, so every number
computed from a compact frame equals the one computed from the plain frame
(tests/unit/test_monitor_scale.py).
"""

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from tabml.monitoring import id_keys

_KEEP = frozenset({"timestamp"})  # not text once read


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column.dtype) or column.dtype == object


def _exact_in_float32(values: np.ndarray) -> bool:
    """Every value the same as a float32 (whole numbers, halves; NaN stays NaN)."""
    narrow = values.astype(np.float32)
    same = narrow.astype(np.float64) == values
    return bool((same | np.isnan(values)).all())


def compact_frame(frame: pd.DataFrame, ids: str | None = "prediction_id") -> pd.DataFrame:
    """`frame` with `ids` (if given) as `id_keys` columns and its text columns categorical."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if name == ids:
            columns.update(id_keys.key_columns(column))
        elif name not in _KEEP and _is_text(column):
            columns[name] = column.astype("category")
        elif column.dtype == np.float64 and _exact_in_float32(column.to_numpy()):
            columns[name] = column.astype(np.float32)  # a count or grams: the same numbers
        else:
            columns[name] = column
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), copy=False)


def _filler(like: pd.Series, rows: int) -> pd.Series:
    """A missing column's part in a group without it: missing values of a kind that joins."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical([None] * rows, categories=like.cat.categories[:0]))
    return pd.Series(float("nan"), index=pd.RangeIndex(rows))


def _joined(pieces: list[pd.Series]):
    """The pieces of one column end to end (categoricals: their categories united)."""
    if all(isinstance(p.dtype, pd.CategoricalDtype) for p in pieces):
        kinds = {p.cat.categories.dtype for p in pieces}
        if len(kinds) > 1:  # texts in one group, only missing values in another, ...
            pieces = [p.cat.rename_categories(p.cat.categories.astype(object)) for p in pieces]
        return union_categoricals(pieces)
    return pd.concat(pieces, ignore_index=True).array


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Compact frames end to end, column by column, emptying them as it goes (columns in
    order of first appearance; a group without a column gets missing values there)."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    names = list(dict.fromkeys(name for frame in frames for name in frame.columns))
    columns = {}
    for name in names:
        like = next(f[name] for f in frames if name in f.columns)
        pieces = [f.pop(name) if name in f.columns else _filler(like, len(f)) for f in frames]
        del like
        columns[name] = _joined(pieces)  # the pieces go here: one column held twice at most
    return pd.DataFrame(columns, copy=False)
