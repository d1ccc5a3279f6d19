"""Point-in-time joins of entity tables onto training rows, and the leakage check.

For each row, each table gives the values of the row's key with the latest event time at or
before the row's time (`pandas.merge_asof`, direction backward, exact matches included), and
only while that value is younger than the table's `ttl`; otherwise the row gets missing
values. Several values of one key at the same event time: the one with the latest `created`
time wins, then the one written last in the file (so a table can correct itself by
appending). Times are compared in UTC; a time written without an offset is read as UTC.
"""

import numpy as np
import pandas as pd

from tabml.errors import TabmlError
from tabml.scoring.entities import EntityTable

MAX_EXAMPLES = 5  # rows named in a leakage error


class EntityJoinError(TabmlError, ValueError):
    """The rows or an entity table cannot be joined as the profile declares."""


class LeakageError(EntityJoinError):
    """A joined value was known after the time of the row it was joined to."""


def utc_times(values: pd.Series, where: str) -> pd.Series:
    """ISO 8601 text (or datetimes) as UTC datetimes; a value that is not a time is an error."""
    try:
        times = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as err:
        raise EntityJoinError(f"{where}: not ISO 8601 times ({err})") from None
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise EntityJoinError(f"{where}: row {row} has no time")
    return times


def ranked_rows(table: pd.DataFrame, spec: EntityTable) -> pd.DataFrame:
    """The table in event-time order; among equal event times, by `created`, then as written.

    `merge_asof` (backward) takes the last candidate in this order, which is the tie-break of
    the module docstring (tests/data/test_entity_join.py checks it against a reference).
    """
    order = [spec.timestamp] + ([spec.created] if spec.created else [])
    # A stable sort keeps file order among equal times: the last written comes last.
    return table.sort_values(order, kind="stable")


def _nanoseconds(times: pd.Series) -> np.ndarray:
    """UTC nanoseconds: merge_asof on int64 is several times faster than on aware datetimes."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def join_table(
    keys: pd.Series, row_times: pd.Series, table: pd.DataFrame, spec: EntityTable
) -> pd.DataFrame:
    """One table's values for each row, in the rows' order.

    Args:
        keys: the rows' key values (same type as the table's key column).
        row_times: the rows' UTC times.
        table: the entity table with UTC times in `spec.time_columns`.

    Returns:
        `spec.features` plus the joined value's time columns (missing where nothing joined).
    """
    row_ns = _nanoseconds(row_times)
    order = np.argsort(row_ns, kind="stable")
    left = pd.DataFrame({"_t": row_ns[order], "_k": keys.to_numpy()[order]})
    ranked = ranked_rows(table[[spec.key, *spec.time_columns, *spec.features]], spec)
    right = pd.DataFrame({
        "_t": _nanoseconds(ranked[spec.timestamp]),
        "_k": ranked[spec.key].to_numpy(),
        "_at": np.arange(len(ranked)),
    })  # fmt: skip
    joined = pd.merge_asof(
        left, right, on="_t", by="_k", direction="backward", allow_exact_matches=True,
        tolerance=None if spec.ttl is None else pd.Timedelta(spec.ttl).value,
    )  # fmt: skip
    # Only the matched row's position travels through the join; the values are gathered
    # once, in the rows' order (-1: no match, a row of missing values).
    at = joined["_at"].fillna(-1).to_numpy(dtype=np.int64)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))  # the sorted position of each original row
    values = ranked[[*spec.features, *spec.time_columns]].reset_index(drop=True)
    return values.reindex(at[back]).set_axis(keys.index)


def check_no_leakage(row_times: pd.Series, joined: pd.DataFrame, spec: EntityTable) -> None:
    """Refuse values from after their row: event time or `created` time later than the row's.

    Independent of how the values were joined, so a join that looks forward, a table whose
    values were written after the rows they feed, or rows and tables in different time zones
    stop the stage instead of training on the future.

    Raises:
        LeakageError: naming the table, the column, how many rows and the first of them.
    """
    for column in spec.time_columns:
        late = (joined[column] > row_times).to_numpy()
        if spec.ttl is not None and column == spec.timestamp:
            late = late | (joined[column] < row_times - pd.Timedelta(spec.ttl)).to_numpy()
        if late.any():
            rows = np.flatnonzero(late)[:MAX_EXAMPLES].tolist()
            raise LeakageError(
                f"entity table {spec.name!r}: {int(late.sum())} rows joined a value whose "
                f"{column!r} is after the row's time or outside ttl (rows {rows}); "
                "a model trained on them would see the future"
            )
