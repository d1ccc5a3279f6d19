"""Many labels into the feedback log at once (`make feedback`): all of them, or none.

The labels are written, in files of `FILE_LINES`, into a hidden staging folder of the log
(`.import-<pid>-<time>/`, which no reader lists). If they would take the log past its
limit the import stops there, the folder is deleted and the refusal says how many labels
would fit: nothing is pruned to make room, least of all the import's own labels. Otherwise
a `COMMITTED` marker is written and the files are moved into the log. A run killed before
the marker leaves a folder that the next import (or server start) deletes, its writer being
gone; killed after it, the next one finishes the move. A reader running during the move (a
few renames) may see part of an import; the next read sees all of it.
"""

import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from tabml.errors import TabmlError
from tabml.serving.log_writer import log_bytes, running, write_lines

FILE_LINES = 100_000  # labels per log file
STAGING_PREFIX, COMMITTED = ".import-", "COMMITTED"


class ImportRefused(TabmlError):
    """The labels do not fit in the feedback log, or could not be written: none imported."""


def finish_imports(directory: Path) -> None:
    """Finish committed imports a killed run left; delete uncommitted ones of dead runs."""
    for staging in Path(directory).glob(f"{STAGING_PREFIX}*"):
        if (staging / COMMITTED).exists():
            _move_into_log(staging, Path(directory))
            continue
        pid = staging.name.removeprefix(STAGING_PREFIX).split("-")[0]
        if pid.isdigit() and not running(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _move_into_log(staging: Path, directory: Path) -> None:
    for file in sorted(staging.glob("*.jsonl")):
        os.replace(file, directory / file.name)
    shutil.rmtree(staging, ignore_errors=True)


def import_lines(chunks: Iterable[list[bytes]], directory: Path, max_bytes: int) -> int:
    """Write every chunk of JSON lines into the log, all or none; return the lines written.

    Raises:
        ImportRefused: they would take the log past `max_bytes` (nothing written), or a
            write failed (nothing written).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    finish_imports(directory)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    staging = directory / f"{STAGING_PREFIX}{os.getpid()}-{stamp}"
    free = max_bytes - log_bytes(directory)
    used = lines = 0
    try:
        staging.mkdir()
        for sequence, chunk in enumerate(chunks):
            for line in chunk:
                used += len(line)
                if used > free:
                    raise ImportRefused(_too_many(lines, directory, max_bytes, free))
                lines += 1
            write_lines(chunk, staging, sequence)
        (staging / COMMITTED).touch()
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise ImportRefused(f"the labels could not be written to {directory}/ ({err}): "
                            "nothing imported") from err  # fmt: skip
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _move_into_log(staging, directory)
    return lines


def _too_many(fit: int, directory: Path, max_bytes: int, free: int) -> str:
    return (
        f"more labels than the feedback log can take: {directory}/ has {max(free, 0):,} of its "
        f"{max_bytes:,} bytes free (TABML_FEEDBACK_MAX_BYTES), room for the first {fit:,} "
        "labels; nothing imported. Labels are never deleted to make room: raise the limit "
        "(for this import and the server) or import fewer"
    )
