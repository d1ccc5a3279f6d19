"""Registered versions: GTO tags `<artifact>@<version>` on the commit whose dvc.lock describes
the model, the metric gate they pass, and which packaged model each one is.

Each version tag's message records the BentoML tag of its packaged model
(`model_tag: tabml_model:<hash>`) beside the model card's sha256, so that anything that only
sees a model tag (a request log line, a batch row, the workspace's bento) can name the
registry version (`v1.0.0`) beside it.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tabml import paths, yaml_io
from tabml.errors import TabmlError
from tabml.tools import git, run

DVC_YAML, DVC_LOCK = Path("dvc.yaml"), Path("dvc.lock")
PIPELINE_FILES = (DVC_YAML, DVC_LOCK)
# The way back from an experiment or a refused stage to what HEAD describes.
GO_BACK = "make restore-baseline"
MODEL_TAG_KEY = "model_tag: "


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
    declared = (yaml_io.load(Path(dvc_yaml).read_text()) or {}).get("artifacts") or {}
    models = [name for name, spec in declared.items() if spec.get("type") == "model"]
    if len(models) != 1:
        raise RegistryError(f"{dvc_yaml} must declare exactly one `type: model` artifact")
    return models[0]


def version_tag(version: str, name: str | None = None) -> str:
    return f"{name or artifact_name()}@{version}"


def tag_exists(tag: str, root: Path | None = None) -> bool:
    found = run("git", ["rev-parse", "-q", "--verify", f"refs/tags/{tag}"], root, check=False)
    return found.returncode == 0


def gate(metrics: dict, what: str) -> None:
    """Raise RegistryError naming every gate `metrics` breaks."""
    problems = check_gates(metrics)
    if problems:
        raise RegistryError(
            f"metric gate failed, refusing to {what}:\n  - " + "\n  - ".join(problems)
        )


def harvest_only(changes: dict, allowed: set[str]) -> bool:
    """True when every change `dvc status` lists is a changed dependency in `allowed`."""
    for entries in changes.values():
        for entry in entries:
            if not isinstance(entry, dict) or set(entry) != {"changed deps"}:
                return False
            if not set(entry["changed deps"]) <= allowed:
                return False
    return True


def check_pipeline_committed(allowed_changes: set[str] = frozenset()) -> None:
    """Refuse unless params.yaml, dvc.yaml, dvc.lock are committed and outputs match dvc.lock.

    `allowed_changes`: dependencies that may differ (a workspace harvest, which
    `make retrain` redoes on its own branch).
    """
    from dvc.repo import Repo

    from tabml.registry.rollback import rolled_back_to

    back = f"or go back to the committed model: {GO_BACK}"
    dirty = git(["status", "--porcelain", "--", *map(str, PIPELINE_FILES), "params.yaml"]).strip()
    if dirty:
        rolled = rolled_back_to()
        if rolled is not None:
            raise RegistryError(
                f"the workspace is rolled back to {rolled} (make rollback): roll forward first "
                "(make rollback VERSION=<the version HEAD describes>), or make the rollback "
                "permanent by reverting the commits since it"
            )
        raise RegistryError(
            f"uncommitted pipeline changes ({' '.join(dirty.split())}): commit them once "
            f"`dvc repro` succeeds, {back}"
        )
    with Repo(".") as repo:
        changes = repo.status()
    if changes and not harvest_only(changes, set(allowed_changes)):
        raise RegistryError(
            f"workspace outputs differ from dvc.lock (stages: {', '.join(sorted(changes))}): "
            f"`dvc repro` and commit; if a stage refuses (e.g. the package stage's metric "
            f"gates), fix that {back}"
        )


def packaged_tag(archive: Path = paths.BENTO_ARCHIVE) -> str | None:
    """The BentoML tag of the model in an exported bento (None without one)."""
    from tabml.scoring.packaged import PackagedModelError, read_model

    try:
        info, _ = read_model(archive)
    except PackagedModelError:
        return None
    return f"{info['name']}:{info['version']}"


def register(version: str, message: str | None = None) -> str:
    """Tag HEAD as `version` of the model if its pipeline is committed and passes the gate."""
    from gto import api
    from gto.exceptions import GTOException

    from tabml.reproduce.record import with_reproduction_record

    check_pipeline_committed()
    gate(json.loads(paths.METRICS.read_text()), f"register {version}")
    name = artifact_name()
    message = with_card_sha(message or f"Registering artifact {name} version {version}")
    model_tag = packaged_tag()
    if model_tag is not None:
        message += f"\n{MODEL_TAG_KEY}{model_tag}"
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


@dataclass(frozen=True)
class Registered:
    """One registered version: its name, commit and packaged model's BentoML tag."""

    version: str
    commit: str
    model_tag: str | None  # None for a version registered without a packaged model


def registered_versions(root: Path = Path("."), name: str | None = None) -> list[Registered]:
    """Every registered version of the model, oldest tag first (one `git for-each-ref`)."""
    name = name or artifact_name(Path(root) / DVC_YAML)
    fields = "%(refname:strip=2)%1f%(*objectname)%1f%(objectname)%1f%(contents)%1e"
    listed = git(
        ["for-each-ref", "--sort=creatordate", f"--format={fields}", f"refs/tags/{name}@*"], root
    )
    found = []
    for record in listed.split("\x1e"):
        if not record.strip():
            continue
        tag, peeled, plain, message = record.lstrip("\n").split("\x1f", 3)
        model_tag = next(
            (line[len(MODEL_TAG_KEY) :].strip() for line in message.splitlines()
             if line.startswith(MODEL_TAG_KEY)),
            None,
        )  # fmt: skip
        found.append(Registered(tag.removeprefix(f"{name}@"), peeled or plain, model_tag))
    return found


def version_names(root: Path = Path(".")) -> dict[str, str]:
    """BentoML model tag -> the registry version(s) of that model (`v1.0.0`, or
    `v1.0.0/v1.2.0` when one model was registered twice); empty outside a registry."""
    try:
        versions = registered_versions(root)
    except (TabmlError, OSError):  # no dvc.yaml artifact, not a git repository
        return {}
    names: dict[str, list[str]] = {}
    for found in versions:
        if found.model_tag:
            names.setdefault(found.model_tag, []).append(found.version)
    return {tag: "/".join(versions) for tag, versions in names.items()}


def named(model_tag: str, names: dict[str, str]) -> str:
    """`v1.0.0 (tabml_model:abc)`, or the tag alone when no version has that model."""
    version = names.get(model_tag)
    return f"{version} ({model_tag})" if version else model_tag
