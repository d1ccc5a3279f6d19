"""Stage ingest: copy the dataset profile's raw source into data/raw/ (checksum verified)."""

from tabml import paths
from tabml.data.ingest import check_tracked, materialise
from tabml.data.profile import load_profile
from tabml.params import load_params
from tabml.stages import run


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    check_tracked(profile.source, params.sources, str(paths.CONFIGS / f"{profile.name}.yaml"))
    out = materialise(profile.source, paths.RAW_DATA)
    print(f"ingest: {profile.name} -> {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    run(main)
