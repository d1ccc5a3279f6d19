"""A tampered output in the workspace is detected by `dvc status` and restored by DVC."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.reliability.helpers import dvc

pytestmark = pytest.mark.slow


def _locked_md5(repo: Path, path: str) -> str:
    """The md5 that dvc.lock records for output `path`."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == path:
                return out["md5"]
    raise KeyError(path)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_tampered_model_is_detected_and_restored_by_checkout(repo: Path) -> None:
    model = repo / "models" / "model.joblib"
    with open(model, "ab") as handle:
        handle.write(b"tampered")

    status = dvc(repo, "status")
    assert "modified:           models/model.joblib" in status.stdout, status.stdout
    # Plain checkout refuses to overwrite an unsaved change; --force restores the cached copy.
    refused = dvc(repo, "checkout", "models/model.joblib")
    assert refused.returncode != 0 and _md5(model) != _locked_md5(repo, "models/model.joblib")
    restored = dvc(repo, "checkout", "--force", "models/model.joblib")
    assert restored.returncode == 0, restored.stderr

    assert _md5(model) == _locked_md5(repo, "models/model.joblib")
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout


def test_tampered_data_file_is_detected_and_restored_by_repro(repo: Path) -> None:
    test_data = repo / "data" / "processed" / "test.parquet"
    frame = pd.read_parquet(test_data)
    frame.loc[0, "bill_length_mm"] = 99.0  # a plausible-looking edit, same size and schema
    frame.to_parquet(test_data, index=False)

    status = dvc(repo, "status")
    assert "modified:           data/processed/test.parquet" in status.stdout, status.stdout
    repro = dvc(repo, "repro")
    assert repro.returncode == 0, repro.stdout + repro.stderr

    assert _md5(test_data) == _locked_md5(repo, "data/processed/test.parquet")
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout
