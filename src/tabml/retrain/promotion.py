"""The one step of a retrain that touches the workspace: bring the winning challenger in and
make it `prod`.

A journal (`<git dir>/tabml-retrain/promotion.json`, written atomically before anything
moves) names the challenger commit and the new version. Each step is idempotent and the
next `make retrain` resumes from the journal, so a kill inside this step never leaves a
half promotion behind: fast-forward HEAD to the challenger commit (one ref update), `dvc
checkout` its outputs from the cache, `make register` the version, `make promote` it.
"""

import json
import re
from pathlib import Path

from tabml import atomic
from tabml.errors import TabmlError
from tabml.registry import (
    artifact_name,
    current_in_stage,
    promote,
    register,
    tag_exists,
    version_tag,
)
from tabml.retrain.champion import STAGE
from tabml.tools import dvc, git

SEMVER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


class PromotionError(TabmlError, RuntimeError):
    """The challenger cannot be brought into the workspace (HEAD moved on, ...)."""


def journal_path(root: Path) -> Path:
    common = Path(git(["rev-parse", "--git-common-dir"], root).strip())
    return (root / common).resolve() / "tabml-retrain" / "promotion.json"


def next_version(root: Path) -> str:
    """One minor version above the highest registered `vX.Y.Z` (v1.0.0 when there is none)."""
    name = artifact_name(root / "dvc.yaml")
    found = [
        SEMVER.match(t.removeprefix(f"{name}@"))
        for t in git(["tag", "--list", f"{name}@v*"], root).split()
    ]
    versions = sorted(tuple(int(x) for x in m.groups()) for m in found if m)
    if not versions:
        return "v1.0.0"
    major, minor, _ = versions[-1]
    return f"v{major}.{minor + 1}.0"


def start(root: Path, commit: str, version: str) -> dict:
    """Record the promotion before anything moves; refuse if HEAD is not the commit's parent."""
    head = git(["rev-parse", "HEAD"], root).strip()
    parent = git(["rev-parse", f"{commit}^"], root).strip()
    if head != parent:
        raise PromotionError(
            f"HEAD moved on while the challenger trained (HEAD {head[:12]}, challenger built "
            f"on {parent[:12]}): run make retrain again"
        )
    if tag_exists(version_tag(version)):
        raise PromotionError(f"version {version} is already registered: pass another VERSION")
    job = {"commit": commit, "version": version}
    atomic.write_json(journal_path(root), job)
    return job


def pending(root: Path) -> dict | None:
    path = journal_path(root)
    return json.loads(path.read_text()) if path.exists() else None


def finish(root: Path, job: dict) -> str:
    """Fast-forward, check out, register, promote (each skipped when already done)."""
    commit, version = job["commit"], job["version"]
    if git(["rev-parse", "HEAD"], root).strip() != commit:
        git(["merge", "--ff-only", "--quiet", commit], root)
    dvc(["checkout", "--quiet"], root)
    if not tag_exists(version_tag(version)):
        register(version, "Retrained on labelled production data (make retrain)")
    message = promote(version, STAGE)
    if current_in_stage(STAGE) != version:
        raise PromotionError(f"{version} is not in {STAGE} after promoting it: {message}")
    journal_path(root).unlink(missing_ok=True)
    return message
