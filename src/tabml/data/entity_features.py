"""The features stage's work: read the training rows and entity tables, join, check.

The rows are read as text and written back as text, so every column they had keeps its
bytes; only the key and time columns are parsed, and the entity features are added at the
end. A profile without `entities:` copies the rows byte for byte (the stage is a no-op).
"""

from pathlib import Path

import pandas as pd

from tabml import atomic
from tabml.data.entity_join import EntityJoinError, check_no_leakage, join_table, utc_times
from tabml.data.ingest import verify_checksum
from tabml.data.profile import DatasetProfile
from tabml.scoring.entities import EntityJoin, EntityTable


def read_entity_table(spec: EntityTable) -> pd.DataFrame:
    """The table's declared columns, keys as text (as the rows' CSV holds them), times in UTC."""
    location = spec.source.location()
    verify_checksum(location, spec.source.sha256, f"entity table {spec.name!r}")
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


def with_entity_features(
    rows: pd.DataFrame, entities: EntityJoin, tables: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """`rows` plus every table's features as of each row's time, after the leakage check."""
    missing = [c for c in [entities.row_time, *(t.key for t in entities.tables)] if c not in rows]
    clash = [c for c in entities.features if c in rows]
    if missing or clash:
        raise EntityJoinError(
            f"the training rows lack the row time or key columns {missing}"
            if missing
            else f"the training rows already hold entity feature columns {clash}"
        )
    row_times = utc_times(rows[entities.row_time], f"training rows, {entities.row_time!r}")
    added = {}
    for spec in entities.tables:
        joined = join_table(rows[spec.key].astype(str), row_times, tables[spec.name], spec)
        check_no_leakage(row_times, joined, spec)
        added.update({f: joined[f] for f in spec.features})
    return pd.concat([rows, pd.DataFrame(added, index=rows.index)], axis=1)


def build_training_rows(profile: DatasetProfile, source: Path, out: Path) -> int:
    """Write `out`: the ingested rows with the profile's entity features (or a copy).

    Returns:
        How many entity feature columns were added (0: the bytes were copied).
    """
    if profile.entities is None:
        atomic.write_bytes(out, source.read_bytes())
        return 0
    rows = pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False)
    tables = {t.name: read_entity_table(t) for t in profile.entities.tables}
    joined = with_entity_features(rows, profile.entities, tables)
    atomic.write_with(
        out, lambda tmp: joined.to_csv(tmp, index=False, na_rep="", lineterminator="\n")
    )
    return len(profile.entities.features)
