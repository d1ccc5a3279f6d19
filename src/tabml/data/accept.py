"""Accept new source data: pin the source file's current sha256 in its dataset profile.

      python -m tabml.cli accept-data        (make accept-data)

The profile is edited in place (only the `sha256:` value), so its comments and layout stay.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from tabml import atomic, paths
from tabml.data.profile import ProfileError, load_profile
from tabml.tables import sha256_of

# The `sha256:` line of the profile's `source:` block (the only sha256 a profile has).
_SHA_LINE = re.compile(r"^(?P<indent>[ \t]+)sha256:[ \t]*(?P<value>[^\s#]*)", re.MULTILINE)
_SOURCE_LINE = re.compile(r"^source:[ \t]*(#.*)?\n(?P<indent>[ \t]+)", re.MULTILINE)


@dataclass(frozen=True)
class AcceptedData:
    profile_file: Path
    source: Path
    previous: str | None  # the sha256 pinned before (None: there was none)
    current: str

    @property
    def changed(self) -> bool:
        return self.previous != self.current


def accept_data(name: str, configs_dir: Path = paths.CONFIGS) -> AcceptedData:
    """Pin the current sha256 of profile `name`'s source file in `configs/<name>.yaml`."""
    profile = load_profile(name, configs_dir)
    source = profile.source.resolve()
    current = sha256_of(source)
    profile_file = configs_dir / f"{name}.yaml"
    text = profile_file.read_text()
    # the `production:` block (make harvest) pins its own file: not the source's sha256
    production = re.search(r"^production:", text, re.MULTILINE)
    end = production.start() if production else len(text)
    found = [m for m in _SHA_LINE.finditer(text) if m.start() < end]
    if len(found) > 1:
        raise ProfileError(f"{profile_file}: several `sha256:` lines; set `source.sha256` by hand")
    if found:
        match = found[0]
        text = text[: match.start("value")] + current + text[match.end("value") :]
    else:
        block = _SOURCE_LINE.search(text)
        if block is None:
            raise ProfileError(f"{profile_file}: no `source:` block to pin the sha256 in")
        line = f"{block['indent']}sha256: {current}\n"
        text = text[: block.start("indent")] + line + text[block.start("indent") :]
    atomic.write_text(profile_file, text)
    if load_profile(name, configs_dir).source.sha256 != current:  # the edit must read back
        raise ProfileError(f"{profile_file}: could not pin sha256 {current}; set it by hand")
    return AcceptedData(profile_file, source, profile.source.sha256, current)
