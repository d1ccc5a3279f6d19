"""Entity tables read for scoring: the file, its columns, and a frame's rows joined to them.

The features stage, the service and batch scoring read a declared table the same way (keys as
text, times in UTC), and batch scoring joins it to a chunk exactly as the features stage joins
the training rows: as of each row's own time when the file has the profile's row-time column,
else as of now (docs/entity-features.md).
"""

import os
from pathlib import Path

import pandas as pd

from tabml.scoring.entities import EntityJoin, EntityTable
from tabml.scoring.entity_join import EntityJoinError, check_no_leakage, join_table, utc_times
from tabml.scoring.rules import DomainRule

# Where repository tables are read from when scoring: the workspace (`make serve` passes its
# directory, since the server runs in the bento's); default the working directory.
ROOT_ENV = "TABML_ENTITY_ROOT"


def entity_root() -> Path:
    return Path(os.environ.get(ROOT_ENV, "."))


def read_table(spec: EntityTable, location: Path) -> pd.DataFrame:
    """The table's declared columns: keys as text (as CSV cells are), times in UTC."""
    columns = [spec.key, *spec.time_columns, *spec.features]
    try:
        if location.suffix == ".parquet":
            table = pd.read_parquet(location, columns=columns)
        else:
            table = pd.read_csv(location, usecols=columns, dtype={spec.key: str})
    except (ValueError, KeyError) as err:  # a declared column the file does not have
        raise EntityJoinError(f"entity table {spec.name!r} ({location}): {err}") from None
    table[spec.key] = table[spec.key].astype(str)
    for column in spec.time_columns:
        table[column] = utc_times(table[column], f"entity table {spec.name!r}, {column!r}")
    return table


def read_tables(entities: EntityJoin, root: Path) -> dict[str, pd.DataFrame]:
    """Every declared table, by name (repository paths under `root`)."""
    return {t.name: read_table(t, t.source.location(root)) for t in entities.tables}


def join_frame(
    frame: pd.DataFrame, entities: EntityJoin, tables: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """`frame` plus every table's features as of each row's time (its row-time column, or now
    for every row when the frame has none), after the leakage check."""
    missing = [t.key for t in entities.tables if t.key not in frame]
    clash = [c for c in entities.features if c in frame]
    if missing or clash:
        raise EntityJoinError(
            f"the rows lack the entity key columns {missing}"
            if missing
            else f"the rows already hold entity feature columns {clash}: they are looked up"
        )
    if entities.row_time in frame:
        where = f"the rows' {entities.row_time!r}"
        row_times = utc_times(frame[entities.row_time].astype(str), where).set_axis(frame.index)
    else:
        row_times = pd.Series(pd.Timestamp.now(tz="UTC"), index=frame.index)
    added = {}
    for spec in entities.tables:
        joined = join_table(frame[spec.key].astype(str), row_times, tables[spec.name], spec)
        check_no_leakage(row_times, joined, spec)
        added.update({f: joined[f] for f in spec.features})
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


def input_rules(rules: list[DomainRule], entities: EntityJoin | None) -> list[DomainRule]:
    """What a request or a file to score holds: the rules' features without the looked-up
    ones, and each key that is not a feature (any text)."""
    if entities is None:
        return rules
    looked_up = set(entities.features)
    kept = [r for r in rules if r.name not in looked_up]
    names = {r.name for r in kept}
    keys = [t.key for t in entities.tables if t.key not in names]
    key_rules = [DomainRule(name=k, kind="categorical", nullable=False) for k in keys]
    return kept + list({r.name: r for r in key_rules}.values())
