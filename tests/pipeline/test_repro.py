"""A real `dvc repro` in a temporary copy of the repository."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tabml import paths
from tabml.data.profile import load_profile
from testkit import ROOT, run
from testkit.workspace import run_stages


def dvc_outputs(root: Path) -> list[str]:
    """Every path dvc.yaml declares as an output, metric or plot file."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    paths = []
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key, []):
                paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return paths


def test_fresh_copy_reproduces_the_committed_lock_byte_for_byte(reproduced):
    assert (reproduced / "dvc.lock").read_bytes() == (ROOT / "dvc.lock").read_bytes()


def test_status_is_clean_and_a_second_repro_is_a_no_op(reproduced):
    status = run(["dvc", "status"], reproduced).stdout
    assert "up to date" in status
    second = run(["dvc", "repro"], reproduced).stdout
    assert "Running stage" not in second


def test_outputs_are_ignored_by_git_after_the_run(reproduced):
    porcelain = run(["git", "status", "--porcelain", "--untracked-files=all"], reproduced).stdout
    for output in dvc_outputs(reproduced):
        assert output not in porcelain
    assert (reproduced / "reports" / "metrics.json").is_file()


def test_forced_rerun_gives_identical_hashes(repo):
    before = (repo / "dvc.lock").read_bytes()
    model = repo / "models" / "model.joblib"
    model_hash = hashlib.sha256(model.read_bytes()).hexdigest()
    run(["dvc", "repro", "--force", "--single-item", "train"], repo)
    run(["dvc", "repro", "--force", "--single-item", "evaluate"], repo)
    assert hashlib.sha256(model.read_bytes()).hexdigest() == model_hash
    assert (repo / "dvc.lock").read_bytes() == before


# A module and the stages whose import closure reaches it (tests/unit/test_layout.py).
CODE_CHANGES = {
    "src/tabml/tables/_plan.py": {"ingest", "features", "validate", "package"},
    # the runtime's input path: training's model frame reads through it too (and the entity
    # tables' reader, which the features stage shares with batch scoring)
    "src/tabml/scoring/rules.py": {
        *("features", "validate", "split", "tune", "train", "evaluate", "package")
    },
    "src/tabml/serving/request_schema.py": {"package"},
    "src/tabml/model/features.py": {"split", "tune", "train", "evaluate", "package"},
    "src/tabml/serving/service.py": {"package"},
    "src/tabml/errors.py": {
        *("ingest", "features", "validate", "split", "tune", "train", "evaluate", "package")
    },
}


def test_changing_code_a_stage_runs_makes_dvc_status_report_it(repo):
    for module, stages in CODE_CHANGES.items():
        original = (repo / module).read_bytes()
        (repo / module).write_bytes(original + b"\n# changed\n")
        status = json.loads(run(["dvc", "status", "--json"], repo).stdout)
        (repo / module).write_bytes(original)
        assert set(status) == stages, module


def test_no_dvc_output_is_tracked_by_git():
    tracked = set(run(["git", "ls-files"], ROOT).stdout.splitlines())
    for output in dvc_outputs(ROOT):
        assert not any(t == output or t.startswith(output.rstrip("/") + "/") for t in tracked)
        assert run(["git", "check-ignore", "-q", output], ROOT, check=False).returncode == 0, output


def _use_raw_file(repo: Path, content: bytes) -> None:
    """Point the pipeline at a user CSV (a copy of the penguins profile with a path source)."""
    (repo / "data" / "external").mkdir(parents=True, exist_ok=True)
    (repo / "data" / "external" / "bad.csv").write_bytes(content)
    profile = yaml.safe_load((repo / "configs" / "penguins.yaml").read_text())
    profile.update(name="bad", source={"path": "data/external/bad.csv"})
    (repo / "configs" / "bad.yaml").write_text(yaml.safe_dump(profile))
    shutil.copy(repo / "configs" / "penguins.schema.yaml", repo / "configs" / "bad.schema.yaml")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"] = "bad"
    params["sources"] = ["data/external/bad.csv"]  # a repository source is a DVC dependency
    (repo / "params.yaml").write_text(yaml.safe_dump(params))


def _corrupt(kind: str) -> bytes:
    text = load_profile("penguins").source.resolve().read_text()
    if kind == "unknown_category":
        return text.replace("Adelie,Torgersen,39.1", "Adelie,Atlantis,39.1", 1).encode()
    return b""


BAD_RAW_DATA = [("unknown_category", "Atlantis"), ("empty_file", "is empty")]


@pytest.mark.parametrize(("kind", "expected"), BAD_RAW_DATA)
def test_bad_raw_data_stops_the_validate_stage_with_a_report(packaged_copy, capsys, kind, expected):
    clean = (packaged_copy / paths.CLEAN_DATA).read_bytes()
    _use_raw_file(packaged_copy, _corrupt(kind))
    run_stages(packaged_copy, "ingest", "features")
    with pytest.raises(SystemExit) as stopped:
        run_stages(packaged_copy, "validate")
    assert stopped.value.code == 1
    assert expected in capsys.readouterr().err
    assert (packaged_copy / paths.CLEAN_DATA).read_bytes() == clean  # the last good rows stay
    report = (packaged_copy / paths.VALIDATION_REPORT_MD).read_text()
    assert "FAILED" in report and expected in report
    if kind == "unknown_category":
        assert "island" in report and "Atlantis" in report and "| 0 |" in report


# One real `dvc repro` for the failure class: DVC stops at validate and runs nothing after it.
@pytest.mark.parametrize(("kind", "expected"), BAD_RAW_DATA[:1])
def test_bad_raw_data_stops_at_validate_and_keeps_the_model(reproduced, tmp_path, kind, expected):
    repo = shutil.copytree(reproduced, tmp_path / "repo", symlinks=True)
    model = repo / "models" / "model.joblib"
    model_before = model.read_bytes()
    _use_raw_file(repo, _corrupt(kind))

    result = run(["dvc", "repro"], repo, check=False)

    assert result.returncode != 0
    assert "Running stage 'validate'" in result.stdout
    assert "Running stage 'split'" not in result.stdout
    assert expected in result.stdout + result.stderr
    assert model.read_bytes() == model_before
    report = (repo / "reports" / "validation" / "report.md").read_text()
    assert "FAILED" in report and expected in report
    if kind == "unknown_category":
        assert "island" in report and "Atlantis" in report and "| 0 |" in report


def test_metrics_carry_sklearns_majority_class_baseline_on_the_same_split(packaged):
    import json

    import numpy as np
    import pandas as pd
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    target = load_profile("penguins").target
    train = pd.read_parquet(packaged / "data" / "processed" / "train.parquet")[target]
    test = pd.read_parquet(packaged / "data" / "processed" / "test.parquet")[target]
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(train), 1)), train.astype(str))
    rows = np.zeros((len(test), 1))
    y = test.astype(str)

    baseline = json.loads((packaged / "reports" / "metrics.json").read_text())["baseline"]

    assert baseline["accuracy"] == pytest.approx(accuracy_score(y, dummy.predict(rows)), abs=1e-6)
    f1 = f1_score(y, dummy.predict(rows), average="macro", zero_division=0)
    assert baseline["f1_macro"] == pytest.approx(f1, abs=1e-6)
    assert baseline["roc_auc_ovr"] == 0.5
    assert baseline["log_loss"] == pytest.approx(log_loss(y, dummy.predict_proba(rows)), abs=1e-6)
