"""`make reproduce`: rebuild registered versions from their own commit and lock file and compare
them with what the registry recorded. Exit 0 identical, 3 something moved, 1 failed."""

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from tabml.errors import TabmlError
from tabml.reproduce.compare import Outcome, Reference, judge, needs_recorded_answers
from tabml.reproduce.rebuild import Say, rebuild
from tabml.reproduce.resolve import pin_changes, resolve
from tabml.reproduce.versions import Version
from tabml.tools import dvc, git

REPORT_DIR = Path("reports/reproduce")
IDENTICAL, DIFFERENT, FAILED = 0, 3, 1


def reference_of(version: Version, requirements: str, root: Path) -> Reference:
    """What the registry recorded for `version` (its commit's lock files and its tag)."""
    return Reference(
        label=version.version,
        commit=version.commit,
        lock=git(["show", f"{version.commit}:dvc.lock"], root),
        requirements_sha256=hashlib.sha256(requirements.encode()).hexdigest(),
        record=version.record,
    )


def reproduce_against(
    reference: Reference,
    requirements: str,
    root: Path,
    log: Path,
    say: Say,
    envs: Path | None = None,
) -> Outcome:
    """Rebuild `reference.commit` with `requirements` (a lock file's text) and judge it.

    `envs`: where to build the environment (default: the cache of environments by lock).
    """
    start = time.perf_counter()
    try:
        rebuilt = rebuild(
            root,
            reference.commit,
            requirements,
            log,
            say,
            lambda lock, answers: needs_recorded_answers(reference, lock, answers),
            envs,
        )
    except TabmlError as err:
        seconds = time.perf_counter() - start
        return Outcome(label=reference.label, commit=reference.commit, status="failed",
                       error=str(err), seconds=seconds)  # fmt: skip
    cache = Path(dvc(["cache", "dir"], root).strip())
    outcome = judge(reference, rebuilt, cache)
    outcome.seconds = time.perf_counter() - start
    return outcome


def reproduce_version(
    version: Version, root: Path, say: Say, changes: Sequence[str] = (), logs: Path = REPORT_DIR
) -> Outcome:
    """Rebuild one registered version with its own commit's requirements.lock.

    `changes` (e.g. `scikit-learn==1.8.0`) re-resolve that lock around other versions first:
    the outcome then shows what those versions would move. The pipeline's output goes to
    `logs/<version>.log`.
    """
    say(f"reproduce {version.version} ({version.tag} at {version.commit[:9]})")
    label = f"{version.version} with {' '.join(changes)}" if changes else version.version
    try:
        requirements = git(["show", f"{version.commit}:requirements.lock"], root)
        reference = reference_of(version, requirements, root).model_copy(update={"label": label})
        if changes:
            pyproject = git(["show", f"{version.commit}:pyproject.toml"], root)
            moved = resolve(pyproject, requirements, list(changes))
            pinned = pin_changes(requirements, moved) or "no pin moved"
            say(f"    with {', '.join(changes)}: {pinned}")
            requirements = moved
    except TabmlError as err:  # no lock at that commit, a change that does not resolve
        return Outcome(label=label, commit=version.commit, status="failed", error=str(err))
    log = root / logs / f"{version.version}.log"
    log.unlink(missing_ok=True)
    return reproduce_against(reference, requirements, root, log, say)


def exit_code(outcomes: list[Outcome]) -> int:
    """1 if any rebuild failed, else 3 if any differs, else 0."""
    statuses = {o.status for o in outcomes}
    return FAILED if "failed" in statuses else DIFFERENT if "different" in statuses else IDENTICAL
