"""Fixtures of the tuning tests: the penguins training split, and the tune stage run in a folder."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tabml.model.features import split_train_test

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def train(raw_penguins, profile):
    labelled = raw_penguins.dropna(subset=[profile.target])
    return split_train_test(labelled, profile.target, 0.3, seed=42)[0]


@pytest.fixture(scope="session")
def run_tune_stage(train) -> Callable[..., subprocess.CompletedProcess]:
    """Run `python -m tabml.stages.tune` in `folder` on the penguins training split (or `frame`
    of `profile`), with params `tune` (and train.use_tuned) and `env` added to a minimal
    environment."""

    def run(folder: Path, tune: dict, env: dict | None = None, profile="penguins", frame=None):
        (folder / "data/processed").mkdir(parents=True, exist_ok=True)
        (train if frame is None else frame).to_parquet(folder / "data/processed/train.parquet")
        (folder / "configs").mkdir(exist_ok=True)
        for name in (f"{profile}.yaml", f"{profile}.schema.yaml"):
            (folder / "configs" / name).write_text((ROOT / "configs" / name).read_text())
        params = {"data": {"profile": profile}, "train": {"use_tuned": True}, "tune": tune}
        (folder / "params.yaml").write_text(yaml.safe_dump(params))
        path = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # the venv's `dask` CLI, if any
        base = {"PYTHONPATH": str(ROOT / "src"), "PYTHONHASHSEED": "0", "PATH": path}
        return subprocess.run(
            [sys.executable, "-m", "tabml.stages.tune"],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            timeout=600,
        )

    return run
