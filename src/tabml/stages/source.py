"""Stage source@<file>: stop the pipeline when your own source file differs from its pin.

DVC runs it when the file listed in params.yaml `sources` changes; the message says how
to accept the new bytes (`make accept-data`).
"""

import sys
from pathlib import Path

from tabml import paths
from tabml.data.ingest import check_listed, verify_checksum
from tabml.data.profile import Source, load_profile
from tabml.params import load_params
from tabml.stages import run


def _declared_source(profile, listed: str) -> Source:
    """The profile's own source, or the entity table (docs/entity-features.md) at `listed`."""
    tables = profile.entities.tables if profile.entities else []
    for table in tables:
        in_repo = table.source.package is None
        if in_repo and Path(table.source.path).resolve() == Path(listed).resolve():
            return Source(**table.source.model_dump())
    return profile.source


def main() -> None:
    listed = sys.argv[1]
    profile = load_profile(load_params().data.profile)
    profile_file = str(paths.CONFIGS / f"{profile.name}.yaml")
    source = _declared_source(profile, listed)
    check_listed(source, listed, profile_file)
    digest = verify_checksum(Path(listed), source.sha256, profile_file)
    print(f"source: {listed} is the data {profile_file} pins (sha256 {digest[:12]}...)")


if __name__ == "__main__":
    run(main)
