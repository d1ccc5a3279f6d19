"""Rollback and roll forward: one command puts a registered version in the workspace and in
its stage.

`make rollback VERSION=v1.0.0` sets everything the packaged model was made from to the
version's tag: `dvc.yaml`, `dvc.lock`, `params.yaml`, `configs/` (the dataset profile with
its `production:` pin, the schema) and every `*.dvc` file (the harvested data version); then
`dvc checkout` brings the outputs (model, bento, metrics) from the DVC cache, and the
version is assigned to the stage (`prod`), as `gto show` then says. HEAD does not move, so
`make rollback VERSION=<the version HEAD describes>` rolls forward again. With the
configuration the model was packaged from, `make serve` and `make batch` accept the model
(their freshness check compares it with the workspace).
"""

from dataclasses import dataclass
from pathlib import Path

from tabml.registry.stages import promote
from tabml.registry.versions import (
    RegistryError,
    artifact_name,
    registered_versions,
    tag_exists,
    version_tag,
)
from tabml.tools import git, run

# What the packaged model was made from, besides code: set to the tag's by a rollback.
CONFIGURATION = ("dvc.yaml", "dvc.lock", "params.yaml", "configs")


@dataclass(frozen=True)
class Rollback:
    version: str
    outputs: list[str]  # outputs `dvc checkout` changed
    assignment: str  # what the registry says about the stage now
    head_version: str | None  # the registered version HEAD describes (roll forward to it)


def _dvc_files(listing: str) -> set[str]:
    return {p for p in listing.split("\0") if p.endswith(".dvc") and not p.startswith(".dvc/")}


def restored_paths(rev: str) -> list[str]:
    """The paths a rollback to `rev` sets: the configuration and the `*.dvc` files of `rev`
    and of HEAD (one that `rev` lacks is removed)."""
    tracked = _dvc_files(git(["ls-files", "-z"]))
    tracked |= _dvc_files(git(["ls-tree", "-r", "-z", "--name-only", rev]))
    return [*CONFIGURATION, *sorted(tracked)]


def same_as(rev: str, files: list[str], root: Path | None = None) -> bool:
    """True when the working tree's `files` are exactly `rev`'s."""
    return run("git", ["diff", "--quiet", rev, "--", *files], root, check=False).returncode == 0


def rolled_back_to(root: Path | None = None) -> str | None:
    """The registered version the workspace's configuration is rolled back to, if it is not
    HEAD's (None: it is HEAD's, or has other uncommitted changes)."""
    if same_as("HEAD", restored_paths("HEAD"), root):
        return None
    name = artifact_name(Path(root or ".") / "dvc.yaml")
    for found in reversed(registered_versions(Path(root or "."), name)):
        tag = version_tag(found.version, name)
        if same_as(tag, restored_paths(tag), root):
            return found.version
    return None


def head_version() -> str | None:
    """The newest registered version whose configuration is HEAD's."""
    name = artifact_name()
    for found in reversed(registered_versions(Path("."), name)):
        tag = version_tag(found.version, name)
        if run("git", ["diff", "--quiet", tag, "HEAD", "--", *restored_paths(tag)],
               check=False).returncode == 0:  # fmt: skip
            return found.version
    return None


def _snapshot(files: list[str]) -> dict[Path, bytes]:
    listed = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *files])
    return {Path(p): Path(p).read_bytes() for p in listed.split("\0") if p and Path(p).is_file()}


def _put_back(saved: dict[Path, bytes], files: list[str]) -> None:
    listed = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *files])
    for path in {Path(p) for p in listed.split("\0") if p} - saved.keys():
        path.unlink(missing_ok=True)
    for path, data in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def rollback(version: str, force: bool = False, stage: str = "prod") -> Rollback:
    """Put `version`'s configuration and outputs in the workspace and assign it to `stage`.

    Refuses when the configuration has uncommitted changes that are not a registered
    version's (a previous rollback), unless `force`.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    name = artifact_name()
    tag = version_tag(version, name)
    if not tag_exists(tag):
        raise RegistryError(f"{tag} is not registered; `gto show {name}` lists versions")
    files = restored_paths(tag)
    if not force and not same_as("HEAD", files) and rolled_back_to() is None:
        raise RegistryError(
            f"{', '.join(CONFIGURATION)} or a *.dvc file have uncommitted changes: commit "
            "them, or FORCE=1 to overwrite them"
        )
    saved = _snapshot(files)
    git(["restore", f"--source={tag}", "--worktree", "--", *files])
    try:
        with Repo(".") as repo:
            changed = repo.checkout(force=force)
    except DvcException as err:
        _put_back(saved, files)
        with Repo(".") as repo:  # put back whatever was checked out before the failure
            repo.checkout(force=True)
        raise RegistryError(
            f"dvc checkout of {tag} failed, workspace left as it was ({err}). Its outputs may "
            f"not be in the local cache: `dvc pull`, or `git checkout {tag} && dvc repro`."
        ) from err
    outputs = sorted({*changed.get("modified", []), *changed.get("added", [])})
    try:
        assignment = promote(version, stage)
    except RegistryError as err:
        raise RegistryError(
            f"the workspace holds {version} now, but the registry does not say so: {err} "
            f"(then: make promote VERSION={version} STAGE={stage})"
        ) from err
    return Rollback(version, outputs, assignment, head_version())
