"""The dependency canary's parts: lock pins, direct dependencies, the verdict per package, and
SKIPPED (fast) without a package index."""

import socket
import subprocess
import sys
import time

import pytest

from tabml.reproduce.answers import AnswersDiff
from tabml.reproduce.canary import verdict
from tabml.reproduce.compare import Outcome
from tabml.reproduce.outputs import OutputChange
from tabml.reproduce.resolve import (
    ResolveError,
    direct_dependencies,
    pin_changes,
    pins,
    requirement_name,
)
from testkit import ROOT, tool_env

LOCK = """a2wsgi==1.10.10 \\
    --hash=sha256:aa
numpy==2.4.6 ; python_full_version < '3.12' \\
    --hash=sha256:bb
numpy==2.5.5 ; python_full_version >= '3.12' \\
    --hash=sha256:cc
Scikit_Learn==1.9.1 \\
    --hash=sha256:dd
"""


def test_pins_by_canonical_name_with_each_markers_version():
    assert pins(LOCK) == {"a2wsgi": "1.10.10", "numpy": "2.4.6, 2.5.5", "scikit-learn": "1.9.1"}


def test_pin_changes_lists_moved_added_and_removed_packages():
    after = LOCK.replace("Scikit_Learn==1.9.1", "scikit-learn==1.8.0").replace("a2wsgi", "zz")
    assert pin_changes(LOCK, LOCK) == ""
    assert pin_changes(LOCK, after) == (
        "a2wsgi 1.10.10 -> (removed), scikit-learn 1.9.1 -> 1.8.0, zz (new) -> 1.10.10"
    )


def test_direct_dependencies_are_pyprojects_runtime_ones():
    names = direct_dependencies((ROOT / "pyproject.toml").read_text())
    assert {"scikit-learn", "numpy", "onnxruntime", "dvc", "psycopg", "ruamel-yaml-clib"} <= set(
        names
    )
    assert "pytest" not in names and "ruff" not in names  # dev tools make no output
    assert all(name in pins((ROOT / "requirements.lock").read_text()) for name in names)


def test_requirement_names():
    assert requirement_name("scikit-learn==1.8.0") == "scikit-learn"
    assert requirement_name("psycopg[binary]>=3.2") == "psycopg"
    with pytest.raises(ResolveError, match="is not a requirement"):
        requirement_name("==1.0")


def outcome(status: str, diff: AnswersDiff | None = None, error: str | None = None) -> Outcome:
    moved = [OutputChange(stage="train", path="models/model.joblib", recorded="a", reproduced="b")]
    return Outcome(label="numpy", commit="c" * 40, status=status, error=error,
                   moved=moved if status == "different" else [], answers_diff=diff)  # fmt: skip


def diff(label_changes: int, largest: float) -> AnswersDiff:
    return AnswersDiff(rows=(104, 104), changed_rows=max(label_changes, int(largest > 0)),
                       text_changed={"label": label_changes},
                       largest_change={"proba_adelie": largest}, rejects_changed=False)  # fmt: skip


def test_verdicts():
    assert verdict(outcome("identical", diff(0, 0.0)), 1e-5) == ("same bytes", "")
    found, reason = verdict(outcome("different", diff(0, 3e-8)), 1e-5)
    assert found == "within tolerance"
    assert reason.startswith("first differing output: models/model.joblib (stage train)")
    found, reason = verdict(outcome("different", diff(2, 0.4)), 1e-5)
    assert found == "broken" and "beyond tolerance 1e-05" in reason and "2 label changed" in reason
    found, reason = verdict(outcome("failed", error="`dvc repro` failed in stage 'train'\n..."), 1)
    assert (found, reason) == ("broken", "`dvc repro` failed in stage 'train'")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_canary_says_skipped_at_once_without_a_package_index(tmp_path):
    env = {**tool_env(), "UV_DEFAULT_INDEX": f"http://127.0.0.1:{closed_port()}/simple"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tabml.cli", "canary", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("canary: SKIPPED: the package index is unreachable")
    assert time.perf_counter() - start < 30  # a refused connection, not a network timeout
    assert "SKIPPED" in (tmp_path / "report.md").read_text()
