"""What registering a version records for `make reproduce`, in the version's git tag.

The outputs' hashes are already in the tagged commit's `dvc.lock`, and the outputs themselves
in the DVC cache or remote. What only the registering machine knows is written into the GTO
tag's message, so it travels with every clone (`git clone` fetches tags):

    reproduction:
      answers_sha256: 5f1c...   (the test split scored by `tabml.cli batch`)
      answers_rows: 104
      onnx_sha256: 9a0b...
      kernel: x86_64 openblas Haswell
      python: 3.11.7
      lock_sha256: 1d2e...      (requirements.lock as installed)
"""

import hashlib
import sys
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tabml import paths
from tabml.reproduce.answers import score_test_split
from tabml.reproduce.kernel import probe
from tabml.tools import git

HEADER = "reproduction:"
LOCK_FILE = Path("requirements.lock")


class ReproductionRecord(BaseModel, frozen=True):
    answers_sha256: str
    answers_rows: int
    onnx_sha256: str
    kernel: str
    python: str
    lock_sha256: str


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_workspace(root: Path = Path()) -> ReproductionRecord:
    """The record of the workspace's packaged model, scored in this environment."""
    import os

    answers = score_test_split(sys.executable, root, dict(os.environ))
    machine = probe()
    return ReproductionRecord(
        answers_sha256=answers.sha256(),
        answers_rows=len(answers.rows),
        onnx_sha256=sha256_of(root / paths.ONNX_MODEL),
        kernel=machine["kernel"],
        python=machine["python"],
        lock_sha256=sha256_of(root / LOCK_FILE),
    )


def with_reproduction_record(message: str, root: Path = Path()) -> str:
    """The tag message plus the workspace's reproduction record (registering calls this)."""
    fields = record_workspace(root).model_dump()
    block = "\n".join([HEADER, *(f"  {key}: {value}" for key, value in fields.items())])
    return f"{message}\n\n{block}"


def parse_record(message: str) -> ReproductionRecord | None:
    """The record in a tag message; None when the version was registered without one."""
    lines = message.splitlines()
    if HEADER not in lines:
        return None
    start = lines.index(HEADER)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    # Plain `key: value` lines, read as text: YAML would read an all-digit hash as a number.
    fields = dict(line.strip().split(": ", 1) for line in block[1:] if ": " in line)
    try:
        return ReproductionRecord.model_validate(fields)
    except ValidationError:
        return None


def tag_message(tag: str, root: Path = Path()) -> str:
    """The annotation of a git tag (empty for a lightweight tag)."""
    return git(["tag", "--list", "--format=%(contents)", tag], root)
