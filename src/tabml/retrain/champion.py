"""The champion: the registry version assigned to `prod`, its packaged model read from the
DVC cache at its tag (the workspace may hold another model), and the production rows it
trained on (none of them may be a comparison row)."""

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tabml import paths, yaml_io
from tabml.data.production import ID, comparison_split
from tabml.errors import TabmlError
from tabml.params import RetrainParams
from tabml.registry import artifact_name, current_in_stage, version_tag
from tabml.scoring.model import PackagedModel, load_packaged
from tabml.tools import git

STAGE = "prod"


class ChampionError(TabmlError, RuntimeError):
    """No version in `prod`, or its packaged model is not in the DVC cache."""


@dataclass(frozen=True)
class Champion:
    version: str  # registry version, e.g. v1.0.0
    model: PackagedModel
    trained_ids: frozenset[str] = frozenset()  # production rows in its training data


def trained_ids(rev: str, root: Path) -> frozenset[str]:
    """Prediction ids of the production rows `rev`'s ingest added to its training data."""
    import dvc.api

    params = yaml_io.load(git(["show", f"{rev}:params.yaml"], root)) or {}
    name = (params.get("data") or {}).get("profile", "penguins")
    profile = yaml_io.load(git(["show", f"{rev}:configs/{name}.yaml"], root, check=False))
    production = (profile or {}).get("production") if isinstance(profile, dict) else None
    if not production:  # a version trained before any harvest
        return frozenset()
    retrain = RetrainParams.model_validate(params.get("retrain") or {})
    try:
        data = dvc.api.read(production["path"], repo=str(root), rev=rev, mode="rb")
    except Exception as err:  # dvc raises many kinds; all mean "not available here"
        raise ChampionError(f"cannot read {production['path']} of {rev}: {err}") from err
    frame = pd.read_parquet(io.BytesIO(data))
    older, _ = comparison_split(frame, retrain.comparison_share, retrain.min_comparison_rows)
    return frozenset(older[ID])


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
        version = current_in_stage(STAGE, name, root)
    except GTOException:  # nothing registered at all
        version = None
    if version is None:
        raise ChampionError(
            f"no version of {name} is in stage {STAGE}: register and promote one first "
            f"(make register VERSION=v1.0.0 && make promote VERSION=v1.0.0 STAGE={STAGE})"
        )
    tag = version_tag(version, name)
    return Champion(version, packaged_at(tag, root), trained_ids(tag, root))
