"""Stage features: the ingested rows with their entity features as of each row's time.

data/raw/source.csv -> data/raw/dataset.csv. The as-of join, its TTL, tie-break and leakage
check are in tabml.scoring.entity_join (docs/entity-features.md). A profile without entity
tables gets the ingested bytes unchanged.
"""

from tabml import paths
from tabml.data.entity_features import build_training_rows
from tabml.data.profile import load_profile
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    profile = load_profile(load_params().data.profile)
    added = build_training_rows(profile, paths.SOURCE_DATA, paths.RAW_DATA)
    if added:
        tables = [t.name for t in profile.entities.tables]
        print(f"features: + {added} entity features from {tables} -> {paths.RAW_DATA}")
    else:
        print(f"features: no entity tables, {paths.SOURCE_DATA} copied to {paths.RAW_DATA}")


if __name__ == "__main__":
    run(main)
