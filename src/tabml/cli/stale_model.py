"""Refuse to serve or batch-score a packaged model that does not belong to this workspace.

After the package stage refuses a model (below the gates) the previous bento stays in place
(`persist: true`), possibly a model of another dataset. `serve` and `batch` compare, cheaply
and without running dvc, the bento's own record with the workspace:

- the profile it was trained on vs params.yaml `data.profile`;
- its metrics vs reports/metrics.json (the last evaluated model): they differ when the
  package stage refused that model or has not packaged it yet;
- the profile and schema files vs their md5 in dvc.lock's package stage (changed since).
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tabml import paths, yaml_io
from tabml.errors import TabmlError
from tabml.scoring.metadata import ModelMetadata

DVC_LOCK = Path("dvc.lock")


class StaleModelError(TabmlError):
    """The packaged model was not made from this workspace's data, profile or last model."""


def describe(tag: str, metadata: ModelMetadata) -> str:
    """`tabml_model:abc (profile 'penguins', target species, accuracy 0.93)`."""
    scores = _scores(metadata.metrics)
    return f"{tag} (profile {metadata.profile or '?'!r}, target {metadata.target}; {scores})"


def _scores(metrics: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}"
        for k, v in metrics.items()
        if k != "test_rows"
    )


def _md5(path: Path) -> str | None:
    try:
        return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    except OSError:
        return None


def _without_none(metrics: Mapping[str, Any]) -> dict:
    # The model store drops None values from metadata (bento_build._drop_none).
    return {k: v for k, v in metrics.items() if v is not None}


def stale_reasons(metadata: ModelMetadata, root: Path = Path(".")) -> list[str]:
    """Why the packaged model (its bento metadata) does not match the workspace at `root`."""
    from tabml.params import load_params

    profile = load_params(root / paths.PARAMS).data.profile
    packaged = metadata.profile
    reasons = []
    if packaged != profile:
        reasons.append(f"params.yaml selects profile {profile!r}")
    metrics_file = root / paths.METRICS
    if metrics_file.is_file():
        latest = _without_none(json.loads(metrics_file.read_text()))
        if latest != _without_none(metadata.metrics):
            reasons.append(
                f"the last evaluated model ({paths.METRICS}: {_scores(latest)}) was not "
                "packaged: the package stage refused it (below the gates, see `make repro`'s "
                "message) or has not run yet"
            )
    lock = root / DVC_LOCK
    if packaged == profile and lock.is_file():
        stage = (yaml_io.load(lock.read_text()) or {}).get("stages", {}).get("package", {})
        for dep in stage.get("deps", []):
            if dep["path"].startswith(f"{paths.CONFIGS}/") and dep.get("md5") != _md5(
                root / dep["path"]
            ):
                reasons.append(f"{dep['path']} changed since the model was packaged")
    return reasons


def check_packaged_model(
    tag: str, metadata: ModelMetadata, stale_ok: bool, action: str, flag: str
) -> str | None:
    """Raise StaleModelError if the model is stale (unless `stale_ok`); return a warning then.

    Args:
        action: what would be done with it ("serve", "score with").
        flag: how to do it anyway (`--stale-ok (make serve ALLOW_STALE=1)`).
    """
    reasons = stale_reasons(metadata)
    if not reasons:
        return None
    mismatch = (
        f"the packaged model {paths.BENTO_ARCHIVE} is {describe(tag, metadata)}, which does not "
        f"match this workspace: {'; '.join(reasons)}"
    )
    if not stale_ok:
        raise StaleModelError(
            f"{mismatch}. Run `make repro` to package a model for this workspace, or {action} "
            f"this one anyway with {flag}"
        )
    return f"warning: --stale-ok: using it anyway; {mismatch}"
