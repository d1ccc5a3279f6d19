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


def latest_first_rows(table: pd.DataFrame, spec: EntityTable) -> pd.DataFrame:
    """The table with one row per (key, event time): the tie-break of the module docstring."""
    order = [spec.key, spec.timestamp] + ([spec.created] if spec.created else [])
    # A stable sort keeps file order among equal keys and times: keep="last" is the last written.
    ranked = table.sort_values(order, kind="stable")
    return ranked.drop_duplicates([spec.key, spec.timestamp], keep="last")


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
    left = pd.DataFrame({"_t": row_times.to_numpy(), "_k": keys.to_numpy()})
    left["_row"] = np.arange(len(left))
    left = left.sort_values("_t", kind="stable")
    right = latest_first_rows(table[[spec.key, *spec.time_columns, *spec.features]], spec)
    right = right.assign(_t=right[spec.timestamp], _k=right[spec.key]).drop(columns=spec.key)
    right = right.sort_values("_t", kind="stable")
    joined = pd.merge_asof(
        left, right, on="_t", by="_k", direction="backward", allow_exact_matches=True,
        tolerance=None if spec.ttl is None else pd.Timedelta(spec.ttl),
    )
    joined = joined.sort_values("_row").set_index(keys.index)
    return joined[[*spec.features, *spec.time_columns]]


def check_no_leakage(
    row_times: pd.Series, joined: pd.DataFrame, spec: EntityTable
) -> None:
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
