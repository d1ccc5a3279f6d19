"""Corrupted raw data is rejected at validate, with a report, and the previous model stays."""

import hashlib
import json
import random
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.reliability.helpers import dvc, stray_temp_files

pytestmark = pytest.mark.slow

KEPT = [  # outputs of the last good run that a rejected input must not touch
    "models/model.joblib",
    "models/training_stats.json",
    "reports/metrics.json",
    "data/processed/train.parquet",
]
OUTPUT_DIRS = ("models/", "reports/", "data/raw/", "data/interim/", "data/processed/")


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _with(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    out = frame.astype({column: object})
    out.loc[row, column] = value
    return out


def _garbage() -> bytes:
    # A PNG signature then seeded random bytes: binary, not text, not a table.
    return b"\x89PNG\r\n\x1a\n" + random.Random(0).randbytes(4096)


# kind -> (corrupt the good CSV, what the report or error must name)
CORRUPTIONS = {
    "missing_column": (
        lambda f: _csv(f.drop(columns=["bill_depth_mm"])),
        {"column_or_value": "bill_depth_mm", "check": "column_in_dataframe"},
    ),
    "wrong_dtype": (
        lambda f: _csv(_with(f, 3, "body_mass_g", "heavy")),
        {"column": "body_mass_g", "check": "coerce_dtype", "row": 3},
    ),
    "out_of_range": (
        lambda f: _csv(_with(f, 5, "flipper_length_mm", 999.0)),
        {"column": "flipper_length_mm", "check": "in_range", "row": 5},
    ),
    "unknown_category": (
        lambda f: _csv(_with(f, 7, "island", "Atlantis")),
        {"column": "island", "check": "isin", "row": 7},
    ),
    "header_only": (lambda f: _csv(f.head(0)), {"check": "labelled rows"}),
    "empty_file": (lambda f: b"", {"error": "is empty"}),
    "binary_garbage": (lambda f: _garbage(), {"error": "not a readable CSV"}),
}


def _point_profile_at(repo: Path, data: bytes) -> None:
    """Make the profile's source a CSV in the repo (as a user's own data would be)."""
    source = repo / "data" / "source.csv"
    source.write_bytes(data)
    profile_path = repo / "configs" / "penguins.yaml"
    profile = yaml.safe_load(profile_path.read_text())
    digest = hashlib.sha256(data).hexdigest()
    profile["source"] = {"path": "data/source.csv", "sha256": digest}
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["sources"] = ["data/source.csv"]  # a repository source is a DVC dependency
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _digests(repo: Path) -> dict[str, str]:
    return {name: hashlib.sha256((repo / name).read_bytes()).hexdigest() for name in KEPT}


def _matches(failure: dict, expected: dict) -> bool:
    if "column" in expected and failure["column"] != expected["column"]:
        return False
    if "column_or_value" in expected and expected["column_or_value"] not in (
        [failure["column"], *map(str, failure["failing_values"])]
    ):
        return False
    if "row" in expected and expected["row"] not in failure["rows"]:
        return False
    return expected["check"] in failure["check"]


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_raw_data_is_rejected_and_model_kept(repo: Path, kind: str) -> None:
    corrupt, expected = CORRUPTIONS[kind]
    before = _digests(repo)
    good = pd.read_csv(repo / "data" / "raw" / "dataset.csv")
    _point_profile_at(repo, corrupt(good))

    result = dvc(repo, "repro")
    output = result.stdout + result.stderr

    assert result.returncode != 0, output
    assert "Running stage 'validate'" in output
    assert "Running stage 'train'" not in output
    assert _digests(repo) == before, "a rejected input changed the previous model or metrics"
    assert stray_temp_files(repo) == []
    if "error" in expected:  # not a table at all: one clear line naming the file
        assert expected["error"] in output and "data/raw/dataset.csv" in output
        return
    report = json.loads((repo / "reports" / "validation" / "report.json").read_text())
    assert report["ok"] is False
    assert any(_matches(f, expected) for f in report["failures"]), report["failures"]
    markdown = (repo / "reports" / "validation" / "report.md").read_text()
    assert "FAILED" in markdown and expected["check"] in markdown
    # DVC issue 11091: a failed repro can drop .gitignore entries; outputs must stay ignored
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not [line for line in status.splitlines() if line[3:].startswith(OUTPUT_DIRS)]
