"""Stage ingest: copy the dataset profile's raw source into data/raw/ (checksum verified).

With a `production:` entry in the profile, the older labelled production rows are appended
(the newest are the retrain comparison set, never trained on: tabml.data.production).
"""

import pandas as pd

from tabml import atomic, paths
from tabml.data.ingest import check_tracked, materialise
from tabml.data.production import comparison_split, read_production, with_production
from tabml.data.profile import load_profile
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    check_tracked(profile.source, params.sources, str(paths.CONFIGS / f"{profile.name}.yaml"))
    out = materialise(profile.source, paths.SOURCE_DATA)
    if profile.production is not None:
        production = read_production(profile.production, profile)
        retrain = params.retrain
        older, newest = comparison_split(
            production, retrain.comparison_share, retrain.min_comparison_rows
        )
        combined = with_production(pd.read_csv(out), older, profile)
        atomic.write_with(out, lambda tmp: combined.to_csv(tmp, index=False))
        print(
            f"ingest: + {len(older)} production rows from {profile.production.path} "
            f"({len(newest)} newest held out for the retrain comparison)"
        )
    print(f"ingest: {profile.name} -> {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    run(main)
