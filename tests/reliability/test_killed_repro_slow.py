"""`dvc repro` killed (SIGKILL) during training, then rerun: complete, correct outputs."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from testkit import tool_env as bench_env
from tests.reliability.helpers import dvc, stray_temp_files

pytestmark = pytest.mark.slow

# Enough trees that fitting penguins takes several seconds even on an idle machine (12,000
# depth-2 trees: about 7 s; 2,500 took 1.4 s, less than the wait before the kill).
SLOW_TRAINING = {"model": "random_forest", "n_estimators": "12000"}
ALIVE_BEFORE_KILL = 3.0  # seconds the train stage runs before the kill (imports take ~1-2 s)


def _slow_training(repo: Path) -> None:
    params = repo / "params.yaml"
    text = re.sub(r"(?m)^(  model:) \w+", rf"\1 {SLOW_TRAINING['model']}", params.read_text())
    text = re.sub(r"(?m)^(    n_estimators:) 25", rf"\1 {SLOW_TRAINING['n_estimators']}", text)
    # 12,000 trees sum their float32 probabilities in another order in onnxruntime: 3e-5 apart
    text = re.sub(r"(?m)^(  parity_tolerance:) \S+", r"\1 1.0e-4", text)
    params.write_text(text)


def _train_process(root: psutil.Process) -> psutil.Process | None:
    for child in root.children(recursive=True):
        try:
            if "tabml.stages.train" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def _repro_killed_in_training(repo: Path) -> None:
    """Start `dvc repro`, wait until training is under way, SIGKILL DVC and its stage."""
    proc = subprocess.Popen(
        ["dvc", "repro"],
        cwd=repo,
        env=bench_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill DVC and the stage together
    )
    root = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    train = None
    while train is None and time.monotonic() < deadline and proc.poll() is None:
        train = _train_process(root)
        time.sleep(0.05)
    assert train is not None, "the train stage never started"
    time.sleep(ALIVE_BEFORE_KILL)
    assert train.is_running(), "training ended before the kill: raise SLOW_TRAINING"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    psutil.wait_procs([train], timeout=30)


def test_repro_killed_during_training_recovers(reproduced: Path, tmp_path: Path) -> None:
    killed = Path(shutil.copytree(reproduced, tmp_path / "killed", symlinks=True))
    clean = Path(shutil.copytree(reproduced, tmp_path / "clean", symlinks=True))
    old_model = (killed / "models" / "model.joblib").read_bytes()
    for repo in (killed, clean):
        _slow_training(repo)

    _repro_killed_in_training(killed)

    # Nothing half-written: the model is the old one or absent (DVC removes a stage's
    # outputs before running it), never a torn file; no temporary files are left behind.
    model = killed / "models" / "model.joblib"
    assert not model.exists() or model.read_bytes() == old_model
    assert stray_temp_files(killed) == []
    status = dvc(killed, "status")
    assert "train:" in status.stdout, status.stdout  # DVC knows training did not finish

    rerun = dvc(killed, "repro")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    reference = dvc(clean, "repro")
    assert reference.returncode == 0, reference.stdout + reference.stderr

    # Complete and correct: the same bytes as an uninterrupted run of the same params.
    assert (killed / "dvc.lock").read_bytes() == (clean / "dvc.lock").read_bytes()
    for name in ["models/model.joblib", "reports/metrics.json", "models/training_stats.json"]:
        assert (killed / name).read_bytes() == (clean / name).read_bytes(), name
    assert model.read_bytes() != old_model  # the new model really was trained
    assert "Data and pipelines are up to date." in dvc(killed, "status").stdout
    assert stray_temp_files(killed) == []
