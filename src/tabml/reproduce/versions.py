"""Registered versions (GTO), oldest first, with the commit and record each tag carries."""

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from tabml.errors import TabmlError
from tabml.registry import artifact_name, version_tag
from tabml.reproduce.record import ReproductionRecord, parse_record, tag_message


class VersionError(TabmlError, LookupError):
    """No such registered version."""


class Version(BaseModel, frozen=True):
    version: str
    tag: str
    commit: str
    registered_at: datetime
    record: ReproductionRecord | None


def _semver_key(version: str) -> tuple:
    core = version.lstrip("v").split("-")[0].split("+")[0]
    return tuple(int(part) for part in core.split("."))


def registered_versions(root: Path = Path()) -> list[Version]:
    """Every version registered and not deregistered, oldest registration first.

    Registrations in the same second (GTO's time resolution) are ordered by SemVer.
    """
    from gto import api

    name = artifact_name(root / "dvc.yaml")
    found = []
    for entry in api.show(str(root), name):
        events = [(e["created_at"], True) for e in entry["registrations"]]
        events += [(e["created_at"], False) for e in entry["deregistrations"]]
        if not entry["registrations"] or not max(events)[1]:
            continue  # never registered, or deregistered since
        registered = max(e["created_at"] for e in entry["registrations"])
        tag = version_tag(entry["version"], name)
        found.append(
            Version(
                version=entry["version"],
                tag=tag,
                commit=entry["commit_hexsha"],
                registered_at=registered,
                record=parse_record(tag_message(tag, root)),
            )
        )
    return sorted(found, key=lambda v: (v.registered_at, _semver_key(v.version)))


def find_version(version: str, root: Path = Path()) -> Version:
    """The registered `version` (e.g. v1.0.0), or an error listing the registered ones."""
    versions = registered_versions(root)
    for found in versions:
        if found.version == version:
            return found
    known = ", ".join(v.version for v in versions) or "none"
    raise VersionError(f"{version} is not a registered version (registered: {known}); "
                       "`make registry` lists them")  # fmt: skip
