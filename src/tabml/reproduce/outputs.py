"""Which DVC outputs a reproduction moved: every output of two `dvc.lock` files, by stage.

The recorded side is the tagged commit's `dvc.lock`; the reproduced side is the one
`dvc repro` wrote in the worktree. Outputs are compared by their DVC hash, in pipeline order,
and each moved one is described by `tabml.reproduce.describe` from the DVC cache.
"""

from pathlib import Path

from pydantic import BaseModel

from tabml import yaml_io


class Output(BaseModel, frozen=True):
    stage: str
    path: str
    md5: str
    size: int | None = None


class OutputChange(BaseModel, frozen=True):
    """One output whose hash moved (or that only one side has), and by how much."""

    stage: str
    path: str
    recorded: str | None  # md5; None when the recorded lock has no such output
    reproduced: str | None
    detail: str = ""


def lock_outputs(lock_text: str) -> list[Output]:
    """Every cached output in a dvc.lock, in the file's (pipeline) order."""
    stages = (yaml_io.load(lock_text) or {}).get("stages") or {}
    found = []
    for stage, entry in stages.items():
        for out in entry.get("outs") or []:
            md5 = out.get("md5") or out.get("etag") or ""
            found.append(Output(stage=stage, path=out["path"], md5=md5, size=out.get("size")))
    return found


def moved_outputs(recorded_lock: str, reproduced_lock: str) -> list[OutputChange]:
    """The outputs whose hash differs between two dvc.lock texts, in pipeline order."""
    recorded = {(o.stage, o.path): o for o in lock_outputs(recorded_lock)}
    reproduced = {(o.stage, o.path): o for o in lock_outputs(reproduced_lock)}
    changes = []
    for key in [*recorded, *(k for k in reproduced if k not in recorded)]:
        old, new = recorded.get(key), reproduced.get(key)
        if old is None or new is None or old.md5 != new.md5:
            changes.append(
                OutputChange(
                    stage=key[0],
                    path=key[1],
                    recorded=old.md5 if old else None,
                    reproduced=new.md5 if new else None,
                )
            )
    return changes


def cache_object(cache: Path, md5: str) -> Path | None:
    """The DVC cache file holding `md5` (DVC 3 layout, then DVC 2's), if it is there."""
    for candidate in (cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]):
        if candidate.is_file():
            return candidate
    return None
