"""The champion: the registry version assigned to `prod`, its packaged model read from the
DVC cache at its tag (the workspace may hold another model)."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from tabml import paths
from tabml.errors import TabmlError
from tabml.registry import artifact_name, current_in_stage, version_tag
from tabml.scoring.packaged import PackagedModel, load_packaged

STAGE = "prod"


class ChampionError(TabmlError, RuntimeError):
    """No version in `prod`, or its packaged model is not in the DVC cache."""


@dataclass(frozen=True)
class Champion:
    version: str  # registry version, e.g. v1.0.0
    model: PackagedModel


def packaged_at(rev: str, root: Path) -> PackagedModel:
    """The ONNX model and exported bento that `rev`'s dvc.lock names, from the DVC cache."""
    import dvc.api

    with tempfile.TemporaryDirectory(prefix="tabml-champion-") as tmp:
        files = {}
        for path in (paths.ONNX_MODEL, paths.BENTO_ARCHIVE):
            try:
                data = dvc.api.read(str(path), repo=str(root), rev=rev, mode="rb")
            except Exception as err:  # dvc raises many kinds; all mean "not available here"
                raise ChampionError(
                    f"cannot read {path} of {rev} from the DVC cache ({err}): `dvc pull`"
                ) from err
            files[path] = Path(tmp) / path.name
            files[path].write_bytes(data)
        return load_packaged(files[paths.ONNX_MODEL], files[paths.BENTO_ARCHIVE])


def load_champion(root: Path) -> Champion:
    name = artifact_name(root / "dvc.yaml")
    from gto.exceptions import GTOException

    try:
        version = current_in_stage(STAGE, name)
    except GTOException:  # nothing registered at all
        version = None
    if version is None:
        raise ChampionError(
            f"no version of {name} is in stage {STAGE}: register and promote one first "
            f"(make register VERSION=v1.0.0 && make promote VERSION=v1.0.0 STAGE={STAGE})"
        )
    return Champion(version, packaged_at(version_tag(version, name), root))
