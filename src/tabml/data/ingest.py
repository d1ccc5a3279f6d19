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


def verify_checksum(path: Path, expected: str | None) -> str:
    """Return the file's sha256; raise ChecksumError when it differs from `expected`."""
    actual = sha256_of(path)
    if expected is not None and actual != expected.lower():
        raise ChecksumError(
            f"{path}: sha256 is {actual}, the dataset profile expects {expected}. "
            "If the source changed on purpose, update `source.sha256` in the profile."
        )
    return actual


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
