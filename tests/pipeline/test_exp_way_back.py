"""After real `dvc exp run`s: ties in `make best`, a new commit, and the way back to the baseline.

Two experiments change only `train.seed`, which the default logistic regression (lbfgs)
does not use: their metrics are identical, a real tie.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import run

TOOLS = Path(sys.executable).parent
GIT_USER = ["-c", "user.name=t", "-c", "user.email=t@t"]


def make(repo: Path, *args: str) -> subprocess.CompletedProcess:
    # this interpreter's .venv; `-o` keeps make from (re)installing one in the copy
    cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={TOOLS}", *args]
    return run(cmd, repo, check=False)


def metrics(repo: Path) -> dict:
    return json.loads((repo / "reports" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def repo(reproduced, tmp_path_factory):
    """A private copy of the reproduced repo with two finished experiments that tie."""
    repo = Path(
        shutil.copytree(reproduced, tmp_path_factory.mktemp("back") / "repo", symlinks=True)
    )
    if run(["git", "status", "--porcelain", "dvc.lock"], repo).stdout.strip():
        run(["git", *GIT_USER, "commit", "-qam", "lock"], repo)  # base names the cached outputs
    base = metrics(repo)
    for seed in (1, 2):
        run(["dvc", "exp", "run", "-S", f"train.seed={seed}", "evaluate"], repo)
    assert metrics(repo)["f1_macro"] == base["f1_macro"]  # the tie is real
    return repo


def _experiment_names(repo: Path) -> list[str]:
    shown = json.loads(run(["dvc", "exp", "show", "--json", "-A"], repo).stdout)
    return sorted(e["name"] for b in shown for e in b.get("experiments") or [])


def test_best_states_the_tie_and_a_new_commit_points_at_all_commits(repo):
    names = _experiment_names(repo)
    assert len(names) == 2
    f1 = metrics(repo)["f1_macro"]

    result = make(repo, "best")
    assert result.returncode == 0, result.stderr
    assert f"best: {names[0]} f1_macro={f1}" in result.stdout
    expected = f"2 experiments tie at f1_macro={f1}: {names[0]}, {names[1]}; picked {names[0]}"
    assert expected in result.stdout

    # a new commit: `dvc exp show` lists only experiments based on HEAD
    run(["git", *GIT_USER, "commit", "-q", "--allow-empty", "-m", "next"], repo)
    result = make(repo, "best")
    assert result.returncode != 0
    assert "2 finished experiment(s) of other commits exist: `make best ALL_COMMITS=1`" in (
        result.stderr
    )
    result = make(repo, "best", "ALL_COMMITS=1")
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^best: {names[0]} f1_macro=", result.stdout, re.M)


def test_restore_baseline_undoes_the_experiment_in_the_workspace(repo):
    committed = run(["git", "show", "HEAD:params.yaml"], repo).stdout
    assert (repo / "params.yaml").read_text() != committed  # the last experiment's seed

    refused = make(repo, "check-queue")
    assert refused.returncode != 0
    assert "params.yaml" in refused.stderr and "make restore-baseline" in refused.stderr

    result = make(repo, "restore-baseline")
    assert result.returncode == 0, result.stderr
    assert "params.yaml" in result.stdout
    assert "  train.seed: 2 -> 42" in result.stdout  # the change given up, as it was
    assert (repo / "params.yaml").read_text() == committed
    assert run(["git", "status", "--porcelain", "params.yaml", "dvc.lock"], repo).stdout == ""
    assert "Data and pipelines are up to date" in run(["dvc", "status"], repo).stdout
    assert len(_experiment_names(repo)) == 2  # the experiments are kept
    assert make(repo, "check-queue").returncode == 0
