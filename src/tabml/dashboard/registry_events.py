"""The registry's history for the timeline: who was in `prod` when, and what each registered
version is (its BentoML model tag, test metrics and model card, read at its git tag).

GTO's journal (`gto history`) gives registrations and stage assignments with their tag
times. A promotion to `prod` of a version registered before the one it replaces is a
rollback. The model tag links a registry version to the versions `make monitor` reports
(it logs the BentoML tag); it is read from the exported bento at the version's tag in the
DVC cache, the way `make retrain` reads its champion.
"""

import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tabml import paths
from tabml.dashboard.svg import utc
from tabml.retrain.champion import STAGE


class RegistryEvent(BaseModel):
    """One line of the registry's journal."""

    model_config = ConfigDict(frozen=True)

    time: str  # ISO, UTC
    kind: str  # registration, assignment, deprecation, deregistration, unassignment
    version: str
    stage: str | None = None
    message: str = ""
    author: str = ""
    rollback: bool = False  # an assignment to prod of a version older than the one it replaced


class ProdSpell(BaseModel):
    """A version's time in `prod` (`end` None: still there)."""

    model_config = ConfigDict(frozen=True)

    version: str
    start: str
    end: str | None
    rollback: bool = False


class VersionInfo(BaseModel):
    """What a registered version is: its model tag, test metrics and card (None: its files
    are not in this DVC cache)."""

    version: str
    model_version: str | None = None
    metrics: dict = {}
    card: str | None = None


def registry_events(root: Path) -> list[RegistryEvent]:
    """The journal of the workspace's registry (empty without registered versions)."""
    from gto import api
    from gto.exceptions import GTOException

    from tabml.registry import RegistryError, artifact_name

    try:
        name = artifact_name(Path(root) / "dvc.yaml")
        return journal_events(api.history(str(root), name, ascending=True))
    except (GTOException, RegistryError, OSError):
        return []


def journal_events(journal: list[dict]) -> list[RegistryEvent]:
    """`gto history` entries as events in time order, rollbacks marked."""
    registered: dict[str, str] = {}
    in_prod: str | None = None
    events = []
    for entry in sorted(journal, key=lambda e: (utc(e["timestamp"]), e.get("priority", 0))):
        kind, version = entry["event"], entry.get("version")
        if kind == "commit" or not version:
            continue
        time = utc(entry["timestamp"]).isoformat()
        rollback = False
        if kind == "registration":
            registered.setdefault(version, time)
        elif kind == "assignment" and entry.get("stage") == STAGE:
            replaced = registered.get(in_prod or "", "")
            rollback = in_prod not in (None, version) and registered.get(version, "") < replaced
            in_prod = version
        message = (entry.get("message") or "").split("\n\nmodel_card_sha256:")[0].strip()
        events.append(
            RegistryEvent(time=time, kind=kind, version=version, stage=entry.get("stage"),
                          message=message, author=entry.get("author") or "", rollback=rollback)
        )  # fmt: skip
    return events


def prod_spells(events: list[RegistryEvent]) -> list[ProdSpell]:
    """Consecutive spells in `prod`: each assignment ends the spell before it."""
    spells: list[ProdSpell] = []
    for event in events:
        open_spell = spells and spells[-1].end is None and spells[-1].version == event.version
        if event.kind == "unassignment" and event.stage == STAGE and open_spell:
            spells[-1] = spells[-1].model_copy(update={"end": event.time})
        if event.kind != "assignment" or event.stage != STAGE:
            continue
        if spells and spells[-1].end is None:
            if spells[-1].version == event.version:
                continue  # assigned again while there: the same spell
            spells[-1] = spells[-1].model_copy(update={"end": event.time})
        spells.append(
            ProdSpell(version=event.version, start=event.time, end=None, rollback=event.rollback)
        )
    return spells


def _read_at(root: Path, path: Path, rev: str) -> bytes | None:
    import dvc.api

    try:
        return dvc.api.read(str(path), repo=str(root), rev=rev, mode="rb")
    except Exception:  # dvc raises many kinds; all mean "not available here"
        return None


def version_info(root: Path, version: str, artifact: str) -> VersionInfo:
    """The model tag, test metrics and model card of a registered version, from the cache."""
    from tabml.scoring.packaged import PackagedModelError, read_model

    tag = f"{artifact}@{version}"
    found = VersionInfo(version=version)
    archive = _read_at(root, paths.BENTO_ARCHIVE, tag)
    if archive is not None:
        with tempfile.TemporaryDirectory(prefix="tabml-dashboard-") as tmp:
            file = Path(tmp) / paths.BENTO_ARCHIVE.name
            file.write_bytes(archive)
            try:
                info, _ = read_model(file)
            except PackagedModelError:
                info = None
        if info:
            found.model_version = f"{info['name']}:{info['version']}"
            found.metrics = (info.get("metadata") or {}).get("metrics") or {}
    card = _read_at(root, paths.MODEL_CARD, tag)
    found.card = card.decode() if card is not None else None
    return found


def registered_versions(root: Path, events: list[RegistryEvent]) -> dict[str, VersionInfo]:
    """`version_info` of every registered version, by version."""
    from tabml.registry import artifact_name

    if not events:
        return {}
    artifact = artifact_name(Path(root) / "dvc.yaml")
    versions = dict.fromkeys(e.version for e in events if e.kind == "registration")
    return {v: version_info(root, v, artifact) for v in versions}  # in registration order
