"""A rebuild against its reference: moved outputs by stage, the ONNX model, the answers, and
the environment facts (CPU kernel, Python, lock) that explain a difference.

The reference is what the registry recorded for a version (its commit's dvc.lock and the
record in its tag) or, for the dependency canary, a baseline rebuild with the locked versions.
"""

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tabml import paths
from tabml.reproduce import kernel
from tabml.reproduce.answers import Answers, AnswersDiff, compare_answers
from tabml.reproduce.describe import describe
from tabml.reproduce.outputs import OutputChange, cache_object, lock_outputs, moved_outputs
from tabml.reproduce.rebuild import Rebuilt
from tabml.reproduce.record import ReproductionRecord

Status = Literal["identical", "different", "failed"]


class Reference(BaseModel, frozen=True):
    label: str  # a version (v1.0.0) or what the canary tried
    commit: str
    lock: str  # the recorded dvc.lock
    requirements_sha256: str  # of the commit's requirements.lock
    record: ReproductionRecord | None = None
    answers: Answers | None = None  # full answers (the canary's baseline)


class Outcome(BaseModel):
    label: str
    commit: str
    status: Status
    moved: list[OutputChange] = []
    answers: str = ""
    answers_diff: AnswersDiff | None = None
    notes: list[str] = []
    kernel: str = ""
    environment: str = ""
    seconds: float = 0.0
    error: str | None = None

    @property
    def first_moved(self) -> OutputChange | None:
        return self.moved[0] if self.moved else None


def needs_recorded_answers(reference: Reference, lock: str, answers: Answers) -> bool:
    """Whether scoring the recorded outputs too would say more than the reference does."""
    if reference.answers is not None:
        return False
    if reference.record is not None:
        return answers.sha256() != reference.record.answers_sha256
    return bool(moved_outputs(reference.lock, lock))


def onnx_sha256(lock: str, cache: Path) -> str | None:
    """sha256 of the ONNX model a dvc.lock names, read from the DVC cache."""
    for out in lock_outputs(lock):
        if out.path == paths.ONNX_MODEL.as_posix():
            found = cache_object(cache, out.md5)
            return hashlib.sha256(found.read_bytes()).hexdigest() if found else None
    return None


def _answers(
    reference: Reference, rebuilt: Rebuilt, moved: bool
) -> tuple[bool, str, AnswersDiff | None]:
    """(identical, summary, diff) of the rebuilt answers against the reference's."""
    got = rebuilt.answers
    if reference.answers is not None:
        diff = compare_answers(reference.answers, got)
        return diff.identical, diff.summary(), diff
    record, recorded = reference.record, rebuilt.recorded_answers
    if record is not None and got.sha256() == record.answers_sha256:
        return True, f"identical to the recorded sha256 ({record.answers_rows} rows)", None
    if recorded is not None:
        diff = compare_answers(recorded, got)
        if record is not None and recorded.sha256() != record.answers_sha256:
            return (
                False,
                (
                    "the recorded model and test split, scored in this environment, no longer give "
                    "the recorded answers either (the scoring runtime answers differently here); "
                    f"reproduced vs recorded outputs: {diff.summary()}"
                ),
                diff,
            )
        return diff.identical, diff.summary(), diff
    if record is not None:
        return (
            False,
            (
                f"sha256 differs from the recorded one ({record.answers_rows} rows recorded, "
                f"{len(got.rows)} now); the recorded outputs are not in the DVC cache, so no "
                "per-row diff (`dvc pull`)"
            ),
            None,
        )
    if not moved:
        return (
            True,
            "no recorded answers; the model and test split bytes are the recorded ones",
            None,
        )
    return False, "no recorded answers, and the recorded outputs are not in the DVC cache", None


def _environment_notes(reference: Reference, rebuilt: Rebuilt) -> list[str]:
    here, record = rebuilt.machine, reference.record
    notes = []
    if record is not None and record.kernel != here["kernel"]:
        note = f"CPU kernel: registered with {record.kernel!r}, reproduced with {here['kernel']!r}"
        if here.get("coretype") and here["coretype"] != kernel.PINNED:
            note += (
                f" (OPENBLAS_CORETYPE={here['coretype']} is set here; tabml pins "
                f"{kernel.PINNED} only when it is unset: unset it to reproduce)"
            )
        notes.append(note)
    if record is not None and here.get("python") and record.python != here["python"]:
        notes.append(f"Python: registered with {record.python}, reproduced with {here['python']}")
    if record is not None and record.lock_sha256 != reference.requirements_sha256:
        notes.append(
            "the registering environment's requirements.lock was not the commit's (sha256 "
            f"{record.lock_sha256[:12]} vs {reference.requirements_sha256[:12]}): it was "
            "registered from an uncommitted lock"
        )
    return notes


def judge(reference: Reference, rebuilt: Rebuilt, cache: Path) -> Outcome:
    """Compare a rebuild with its reference: identical only if every output and answer is."""
    moved = moved_outputs(reference.lock, rebuilt.lock)
    moved = [m.model_copy(update={"detail": describe(m, cache)}) for m in moved]
    same_answers, summary, diff = _answers(reference, rebuilt, bool(moved))
    notes = rebuilt.notes + _environment_notes(reference, rebuilt)
    onnx_moved = False
    if reference.record is not None:
        sha = onnx_sha256(rebuilt.lock, cache)
        onnx_moved = sha is not None and sha != reference.record.onnx_sha256
        if onnx_moved and not any(m.path == paths.ONNX_MODEL.as_posix() for m in moved):
            notes.append(f"{paths.ONNX_MODEL}: sha256 differs from the one the tag records")
    identical = not moved and same_answers and not onnx_moved
    return Outcome(
        label=reference.label,
        commit=reference.commit,
        status="identical" if identical else "different",
        moved=moved,
        answers=summary,
        answers_diff=diff,
        notes=notes,
        kernel=rebuilt.machine["kernel"],
        environment=f"{rebuilt.env.key} ({rebuilt.env.built})",
        seconds=rebuilt.seconds,
    )
