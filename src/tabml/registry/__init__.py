"""Model registry on git tags (GTO conventions): versions, stages, rollback.

A version is the GTO tag `<artifact>@<version>` on a commit whose dvc.lock describes the
model (`versions`); a stage holds the version of its latest `<artifact>#<stage>#<n>`
assignment, as `gto show` says (`stages`); a rollback puts a version's configuration and
outputs in the workspace and in its stage, HEAD unmoved (`rollback`). The artifact is
declared once, in dvc.yaml's `artifacts:` section.
"""

from tabml.registry.rollback import Rollback, rollback, rolled_back_to
from tabml.registry.stages import current_in_stage, promote
from tabml.registry.versions import (
    GO_BACK,
    Registered,
    RegistryError,
    artifact_name,
    check_gates,
    check_pipeline_committed,
    metrics_at,
    named,
    register,
    registered_versions,
    tag_exists,
    version_names,
    version_tag,
    with_card_sha,
)

__all__ = [
    "GO_BACK",
    "Registered",
    "RegistryError",
    "Rollback",
    "artifact_name",
    "check_gates",
    "check_pipeline_committed",
    "current_in_stage",
    "metrics_at",
    "named",
    "promote",
    "register",
    "registered_versions",
    "rollback",
    "rolled_back_to",
    "tag_exists",
    "version_names",
    "version_tag",
    "with_card_sha",
]
