"""Model registry on git tags (GTO conventions) and rollback with `dvc checkout`.

A version is the GTO tag `<artifact>@<version>` on a commit whose dvc.lock describes the
model; a stage is a `<artifact>#<stage>#<n>` tag. The artifact is declared once, in
dvc.yaml's `artifacts:` section. Rollback restores a version's dvc.yaml + dvc.lock into
the workspace and checks its outputs out of the DVC cache (HEAD does not move).
"""

import hashlib
import json
from pathlib import Path

from tabml import atomic, paths, yaml_io
from tabml.errors import TabmlError
from tabml.tools import git, run

DVC_YAML, DVC_LOCK = Path("dvc.yaml"), Path("dvc.lock")
PIPELINE_FILES = (DVC_YAML, DVC_LOCK)
# The way back from an experiment or a refused stage to what HEAD describes.
GO_BACK = "make restore-baseline"


class RegistryError(TabmlError, RuntimeError):
    """A registry operation was refused or failed; the message says why and what to do."""


def check_gates(metrics: dict) -> list[str]:
    """Why `metrics` may not be registered or promoted; empty when every gate passes.

    The gates that need no base revision (`min`, `max`, `min_lift`) of the dataset's profile
    and params.yaml, via tabml.model.gates.
    """
    from tabml.model.gates import check_limits, load_gates

    return [failure.message() for failure in check_limits(metrics, load_gates())]


def artifact_name(dvc_yaml: Path = DVC_YAML) -> str:
    """The model artifact declared in dvc.yaml's `artifacts:` section."""
    declared = (yaml_io.load(dvc_yaml.read_text()) or {}).get("artifacts") or {}
    models = [name for name, spec in declared.items() if spec.get("type") == "model"]
    if len(models) != 1:
        raise RegistryError(f"{dvc_yaml} must declare exactly one `type: model` artifact")
    return models[0]


def version_tag(version: str, name: str | None = None) -> str:
    return f"{name or artifact_name()}@{version}"


def tag_exists(tag: str) -> bool:
    found = run("git", ["rev-parse", "-q", "--verify", f"refs/tags/{tag}"], check=False)
    return found.returncode == 0


def _gate(metrics: dict, what: str) -> None:
    problems = check_gates(metrics)
    if problems:
        raise RegistryError(
            f"metric gate failed, refusing to {what}:\n  - " + "\n  - ".join(problems)
        )


def check_pipeline_committed() -> None:
    """Refuse unless params.yaml, dvc.yaml, dvc.lock are committed and outputs match dvc.lock."""
    from dvc.repo import Repo

    back = f"or go back to the committed model: {GO_BACK}"
    dirty = git(["status", "--porcelain", "--", *map(str, PIPELINE_FILES), "params.yaml"]).strip()
    if dirty:
        raise RegistryError(
            f"uncommitted pipeline changes ({' '.join(dirty.split())}): commit them once "
            f"`dvc repro` succeeds, {back}"
        )
    with Repo(".") as repo:
        stale = sorted(repo.status())
    if stale:
        raise RegistryError(
            f"workspace outputs differ from dvc.lock (stages: {', '.join(stale)}): `dvc repro` "
            f"and commit; if a stage refuses (e.g. the package stage's metric gates), fix that "
            f"{back}"
        )


def register(version: str, message: str | None = None) -> str:
    """Tag HEAD as `version` of the model if its pipeline is committed and passes the gate."""
    from gto import api
    from gto.exceptions import GTOException

    from tabml.reproduce.record import with_reproduction_record

    check_pipeline_committed()
    _gate(json.loads(paths.METRICS.read_text()), f"register {version}")
    name = artifact_name()
    message = with_card_sha(message or f"Registering artifact {name} version {version}")
    message = with_reproduction_record(message)  # what `make reproduce` compares against
    try:
        api.register(".", name, "HEAD", version=version, message=message)
    except GTOException as err:
        raise RegistryError(f"gto register {name} --version {version}: {err}") from err
    return version_tag(version, name)


def with_card_sha(message: str, card: Path = paths.MODEL_CARD) -> str:
    """The tag message plus the model card's sha256 (`model_card_sha256: <hex>`), if any."""
    if not card.exists():
        return message
    return f"{message}\n\nmodel_card_sha256: {hashlib.sha256(card.read_bytes()).hexdigest()}"


def metrics_at(tag: str) -> dict:
    """The metrics file of a registered version, read from the DVC cache."""
    import dvc.api

    try:
        return json.loads(dvc.api.read(str(paths.METRICS), rev=tag))
    except Exception as err:  # dvc raises many kinds; all mean "not available here"
        raise RegistryError(f"cannot read {paths.METRICS} of {tag}: {err}") from err


def current_in_stage(stage: str, name: str | None = None) -> str | None:
    """The version now assigned to `stage`, if any."""
    from gto import api

    found = api.find_versions_in_stage(".", name or artifact_name(), stage)
    found = found if isinstance(found, list) else [found] if found else []
    return found[0].version if found else None


def promote(version: str, stage: str) -> str:
    """Assign `stage` to a registered version whose metrics pass the gate."""
    from gto import api
    from gto.exceptions import GTOException

    name = artifact_name()
    tag = version_tag(version, name)
    if not tag_exists(tag):
        raise RegistryError(f"{tag} is not registered (make register VERSION={version})")
    _gate(metrics_at(tag), f"promote {version} to {stage}")
    if current_in_stage(stage, name) == version:
        return f"{name} {version} is already in stage {stage}"
    try:
        # force: a version that held the stage before (a rollback) may be assigned again.
        api.assign(".", name, stage, version=version, force=True,
                   message=f"Assign {stage} to {name} {version}")  # fmt: skip
    except GTOException as err:
        raise RegistryError(
            f"gto assign {name} --version {version} --stage {stage}: {err}"
        ) from err
    return f"{name} {version} assigned to stage {stage}"


def _registered_pipelines(name: str) -> list[dict[Path, str]]:
    tags = git(["tag", "--list", f"{name}@*"]).split()
    return [{f: git(["show", f"{t}:{f}"]) for f in PIPELINE_FILES} for t in tags]


def rollback(version: str, force: bool = False) -> list[str]:
    """Bring a registered version's outputs back into the workspace with `dvc checkout`.

    Refuses when dvc.yaml/dvc.lock have uncommitted changes that are not themselves a
    registered version (a previous rollback), unless `force`. Returns what changed.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    name = artifact_name()
    tag = version_tag(version, name)
    if not tag_exists(tag):
        raise RegistryError(f"{tag} is not registered; `gto show {name}` lists versions")
    current = {f: f.read_text() for f in PIPELINE_FILES}
    committed = {f: git(["show", f"HEAD:{f}"]) for f in PIPELINE_FILES}
    if not force and current != committed and current not in _registered_pipelines(name):
        raise RegistryError("dvc.yaml/dvc.lock have uncommitted changes; commit or FORCE=1")
    for file in PIPELINE_FILES:
        atomic.write_text(file, git(["show", f"{tag}:{file}"]))
    try:
        with Repo(".") as repo:
            changed = repo.checkout(force=force)
    except DvcException as err:
        for file, text in current.items():
            atomic.write_text(file, text)
        with Repo(".") as repo:  # put back whatever was checked out before the failure
            repo.checkout(force=True)
        raise RegistryError(
            f"dvc checkout of {tag} failed, workspace left as it was ({err}). Its outputs may "
            f"not be in the local cache: `dvc pull`, or `git checkout {tag} && dvc repro`."
        ) from err
    return sorted({*changed.get("modified", []), *changed.get("added", [])})
