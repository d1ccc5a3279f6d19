"""`serve` and `batch` refuse a packaged model of another profile or an unpackaged last run."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tabml import paths
from tabml.cli.stale_model import StaleModelError, check_packaged_model, stale_reasons
from testkit import ROOT, run
from testkit.models import bare_metadata

METRICS = {"accuracy": 0.93, "log_loss": 0.32, "test_rows": 104}
METADATA = bare_metadata(
    params={"data": {"profile": "penguins"}}, metrics=METRICS, target="species"
)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """params.yaml, the last metrics and a dvc.lock that agree with METADATA."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "params.yaml").write_text("data:\n  profile: penguins\n")
    (tmp_path / "configs/penguins.yaml").write_text("name: penguins\n")
    (tmp_path / paths.METRICS).write_text(json.dumps(METRICS))
    deps = [{"path": "configs/penguins.yaml", "md5": md5(tmp_path / "configs/penguins.yaml")}]
    lock = {"stages": {"package": {"deps": deps}}}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_matching_model_is_served(workspace):
    assert stale_reasons(METADATA) == []
    assert check_packaged_model("m:1", METADATA, False, "serve", "--stale-ok") is None


def test_a_model_of_another_profile_is_refused_unless_asked(workspace):
    (workspace / "params.yaml").write_text("data:\n  profile: mine\n")
    with pytest.raises(StaleModelError) as err:
        check_packaged_model("m:1", METADATA, False, "serve", "--stale-ok")
    message = str(err.value)
    assert "m:1 (profile 'penguins', target species" in message
    assert "params.yaml selects profile 'mine'" in message and "--stale-ok" in message
    warning = check_packaged_model("m:1", METADATA, True, "serve", "--stale-ok")
    assert warning.startswith("warning: ") and "profile 'mine'" in warning


def test_a_refused_last_model_makes_the_package_stale(workspace):
    worse = {**METRICS, "accuracy": 0.5}
    (workspace / paths.METRICS).write_text(json.dumps(worse))
    [reason] = stale_reasons(METADATA)
    assert "accuracy 0.5" in reason and "refused" in reason


def test_a_profile_edited_since_packaging_makes_the_package_stale(workspace):
    (workspace / "configs/penguins.yaml").write_text("name: penguins\n# edited\n")
    assert stale_reasons(METADATA) == ["configs/penguins.yaml changed since the model was packaged"]


@pytest.fixture(scope="module")
def bento(packaged) -> Path:
    return packaged / paths.BENTO_ARCHIVE


@pytest.mark.integration  # two CLI processes
@pytest.mark.parametrize("command", ["serve", "batch"])
def test_the_cli_refuses_in_one_line_before_serving(bento, tmp_path, command):
    (tmp_path / "models").mkdir()
    shutil.copy(bento, tmp_path / paths.BENTO_ARCHIVE)
    shutil.copy(bento.parent / "model.onnx", tmp_path / paths.ONNX_MODEL)
    (tmp_path / "configs").mkdir()
    shutil.copy(ROOT / "configs/penguins.yaml", tmp_path / "configs/mine.yaml")
    text = (tmp_path / "configs/mine.yaml").read_text().replace("name: penguins", "name: mine")
    (tmp_path / "configs/mine.yaml").write_text(text)
    (tmp_path / "params.yaml").write_text("data:\n  profile: mine\n")
    (tmp_path / "in.csv").write_text("island\nBiscoe\n")
    args = ["--port", "1"] if command == "serve" else ["in.csv", "--db", "sqlite:///p.db"]
    result = run(["python", "-m", "tabml.cli", command, *args], tmp_path, check=False)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the packaged model models/tabml_service.bento is tabml_model:")
    assert "profile 'penguins'" in line and "params.yaml selects profile 'mine'" in line
    assert not (tmp_path / "p.db").exists()


def test_make_passes_allow_stale_on():
    for target in (["serve"], ["batch", "INPUT=x.csv"]):
        dry = run(["make", "-n", "-o", ".venv/.installed", *target, "ALLOW_STALE=1"], ROOT)
        assert "--stale-ok" in dry.stdout
        plain = run(["make", "-n", "-o", ".venv/.installed", *target], ROOT)
        assert "--stale-ok" not in plain.stdout
