"""Materialise the configured raw data source into data/raw/, checksum verified."""

import gzip
import shutil
import zipfile
from pathlib import Path

from tabml import atomic
from tabml.data.profile import Source
from tabml.errors import TabmlError
from tabml.tables import sha256_of


class ChecksumError(TabmlError, ValueError):
    """The raw source's bytes differ from the checksum in the dataset profile."""


class UntrackedSourceError(TabmlError, ValueError):
    """A repository source file is not (or not the one) listed in params.yaml `sources`."""


def verify_checksum(path: Path, expected: str | None, pinned_in: str = "the profile") -> str:
    """Return the file's sha256; raise ChecksumError when it differs from `expected`."""
    actual = sha256_of(path)
    if expected is not None and actual != expected.lower():
        raise ChecksumError(
            f"{path} changed: its sha256 is {actual}, {pinned_in} pins {expected} "
            "(`source.sha256`). If the new data is what you want, accept it with "
            "`make accept-data` (python -m tabml.cli accept-data), then `make repro`."
        )
    return actual


def _same_file(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def check_tracked(source: Source, sources: list[str], profile_file: str) -> None:
    """A repository source must be listed in params.yaml `sources` (a DVC dependency).

    Raises:
        UntrackedSourceError: it is not listed, so DVC would not notice when it changes.
    """
    if source.package is None and not any(_same_file(source.path, s) for s in sources):
        raise UntrackedSourceError(
            f"{profile_file} reads {source.path} from the repository, but params.yaml "
            f"`sources` ({sources}) does not list it: add it (`sources: "
            f"[{source.path}]`) so that `dvc repro` notices when the file changes"
        )


def check_listed(source: Source, listed: str, profile_file: str) -> None:
    """`listed` (an entry of params.yaml `sources`) must be the file the profile reads."""
    if source.package is not None or not _same_file(source.path, listed):
        where = f"{source.package}:{source.path}" if source.package else source.path
        raise UntrackedSourceError(
            f"params.yaml `sources` lists {listed}, but {profile_file} reads {where}: "
            f"list only the profile's own file ({'[]' if source.package else [source.path]})"
        )


def materialise(source: Source, destination: Path) -> Path:
    """Copy (or decompress) the verified source to `destination` atomically.

    `.zip` sources are unpacked (the single member, or `source.member`); `.gz` sources
    are gunzipped; anything else is copied byte for byte.
    """
    location = source.resolve()
    verify_checksum(location, source.sha256)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            if location.suffix == ".zip":
                with zipfile.ZipFile(location) as archive:
                    members = [m for m in archive.namelist() if not m.endswith("/")]
                    member = source.member or (members[0] if len(members) == 1 else None)
                    if member is None:
                        raise ValueError(f"{location} holds {members}: set `source.member`")
                    with archive.open(member) as raw:
                        shutil.copyfileobj(raw, out, 1 << 20)
            elif location.suffix == ".gz":
                with gzip.open(location, "rb") as raw:
                    shutil.copyfileobj(raw, out, 1 << 20)
            else:
                with open(location, "rb") as raw:
                    shutil.copyfileobj(raw, out, 1 << 20)

    return atomic.write_with(destination, write)
