"""A registered version's exported bento, read from the DVC cache at its tag: what
`make serve SHADOW=v1.1.0` / `CANARY=` and `make batch SHADOW=` load beside the champion."""

import os
from pathlib import Path

from tabml import atomic, paths
from tabml.registry.versions import RegistryError, registered_versions, tag_exists, version_tag


def archive_folder() -> Path:
    """Where the versions' bentos are kept: `$BENTOML_HOME/challengers/` (per clone, ignored)."""
    return Path(os.environ.get("BENTOML_HOME") or "bentoml_home") / "challengers"


def version_archive(version: str, root: Path = Path(".")) -> Path:
    """The exported bento of registered `version` (e.g. v1.1.0), as a file on disk.

    Raises:
        RegistryError: no such version, or its bento is not in the DVC cache.
    """
    import dvc.api

    tag = version_tag(version)
    if not tag_exists(tag, root):
        known = ", ".join(v.version for v in registered_versions(root)) or "none"
        raise RegistryError(f"no registered version {version!r} (registered: {known})")
    target = archive_folder() / f"{version}.bento"
    try:
        data = dvc.api.read(str(paths.BENTO_ARCHIVE), repo=str(root), rev=tag, mode="rb")
    except Exception as err:  # dvc raises many kinds; all mean "not available here"
        raise RegistryError(
            f"cannot read {paths.BENTO_ARCHIVE} of {version} from the DVC cache ({err}): "
            "`dvc pull`, or `make reproduce VERSION=" + version + "`"
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != data:
        atomic.write_bytes(target, data)
    return target
