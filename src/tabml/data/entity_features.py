"""The features stage's work: read the training rows and entity tables, join, check.

The rows are read as text and written back as text, so every column they had keeps its
bytes; only the key and time columns are parsed, and the entity features are added at the
end. A profile without `entities:` copies the rows byte for byte (the stage is a no-op).
"""

from pathlib import Path

import pandas as pd

from tabml import atomic
from tabml.data.ingest import verify_checksum
from tabml.data.profile import DatasetProfile
from tabml.scoring.entities import EntityJoin, EntityTable
from tabml.scoring.entity_join import EntityJoinError
from tabml.scoring.entity_tables import join_frame, read_table


def read_entity_table(spec: EntityTable) -> pd.DataFrame:
    """The table, its file checked against the sha256 the profile pins."""
    location = spec.source.location()
    verify_checksum(location, spec.source.sha256, f"entity table {spec.name!r}")
    return read_table(spec, location)


def with_entity_features(
    rows: pd.DataFrame, entities: EntityJoin, tables: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """`rows` plus every table's features as of each row's time, after the leakage check."""
    if entities.row_time not in rows:
        raise EntityJoinError(f"the training rows lack their time column {entities.row_time!r}")
    return join_frame(rows, entities, tables)


def build_training_rows(profile: DatasetProfile, source: Path, out: Path) -> int:
    """Write `out`: the ingested rows with the profile's entity features (or a copy).

    Returns:
        How many entity feature columns were added (0: the bytes were copied).
    """
    if profile.entities is None:
        atomic.write_bytes(out, source.read_bytes())
        return 0
    try:
        rows = pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise EntityJoinError(f"{source} is not a readable CSV file: {err}") from None
    tables = {t.name: read_entity_table(t) for t in profile.entities.tables}
    joined = with_entity_features(rows, profile.entities, tables)
    atomic.write_with(
        out, lambda tmp: joined.to_csv(tmp, index=False, na_rep="", lineterminator="\n")
    )
    return len(profile.entities.features)
