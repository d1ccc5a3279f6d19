"""Atomic file writes: write to a temporary file beside the target, then rename.

A stage that crashes half-way leaves either the old file or no file, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the ingest stage should not pay for pandas
    import pandas as pd


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it over `target` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give outputs the usual mode
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_with(target: Path, writer: Callable[[Path], Any]) -> Path:
    """Call `writer(tmp_path)` and move the result into place atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_bytes(target: Path, data: bytes) -> Path:
    return write_with(target, lambda tmp: tmp.write_bytes(data))


def write_text(target: Path, text: str) -> Path:
    return write_with(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(target: Path, obj: Any) -> Path:
    """Pretty, key-sorted JSON so that equal content gives equal bytes."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_parquet(target: Path, frame: pd.DataFrame) -> Path:
    return write_with(target, lambda tmp: frame.to_parquet(tmp, index=False))


def write_joblib(target: Path, obj: Any) -> Path:
    import joblib

    return write_with(target, lambda tmp: joblib.dump(obj, tmp))
