"""Stages: which version holds a stage, and assigning one (`make promote`).

One truth, GTO's: a stage holds the version of its *latest* assignment, as `gto show`
prints it. (`gto.api.find_versions_in_stage` ranks by SemVer and would say v1.1.0 after a
rollback to v1.0.0 was assigned; the query here is `gto show`'s own.) GTO orders assignments
by their tag's time in whole seconds, so a new assignment waits, when it must, until the
second after the newest stage tag: two assignments in one second would be a tie.
"""

import time
from pathlib import Path

from tabml.registry.versions import (
    RegistryError,
    artifact_name,
    gate,
    metrics_at,
    tag_exists,
    version_tag,
)
from tabml.tools import git


def current_in_stage(stage: str, name: str | None = None, root: Path = Path(".")) -> str | None:
    """The version now in `stage` (its latest assignment wins, as in `gto show`), if any."""
    from gto.constants import VersionSort
    from gto.exceptions import ArtifactNotFound
    from gto.registry import GitRegistry

    name = name or artifact_name(Path(root) / "dvc.yaml")
    with GitRegistry.from_url(str(root)) as registry:
        try:
            artifact = registry.find_artifact(name)
        except ArtifactNotFound:
            return None
        stages = artifact.get_vstages(
            assignments_per_version=-1, versions_per_stage=1, sort=VersionSort.Timestamp
        )
    held = stages.get(stage) or []
    return held[0].version if held else None


def _after_newest_stage_tag(name: str, root: Path | None = None) -> None:
    """Wait (at most a second) until the clock is past the newest stage tag's second."""
    newest = git(
        ["for-each-ref", "--sort=-creatordate", "--count=1", "--format=%(creatordate:unix)",
         f"refs/tags/{name}#*"], root,
    ).strip()  # fmt: skip
    if newest:
        while time.time() < int(newest) + 1:
            time.sleep(0.05)


def promote(version: str, stage: str) -> str:
    """Assign `stage` to a registered version whose metrics pass the gate."""
    from gto import api
    from gto.exceptions import GTOException

    name = artifact_name()
    tag = version_tag(version, name)
    if not tag_exists(tag):
        raise RegistryError(f"{tag} is not registered (make register VERSION={version})")
    gate(metrics_at(tag), f"promote {version} to {stage}")
    if current_in_stage(stage, name) == version:
        return f"{name} {version} is already in stage {stage}"
    _after_newest_stage_tag(name)
    try:
        # force: a version that held the stage before (a rollback) may be assigned again.
        api.assign(".", name, stage, version=version, force=True,
                   message=f"Assign {stage} to {name} {version}")  # fmt: skip
    except GTOException as err:
        raise RegistryError(
            f"gto assign {name} --version {version} --stage {stage}: {err}"
        ) from err
    if current_in_stage(stage, name) != version:  # what `gto show` will say from now on
        raise RegistryError(f"{version} is not in stage {stage} after `gto assign`")
    return f"{name} {version} assigned to stage {stage}"
