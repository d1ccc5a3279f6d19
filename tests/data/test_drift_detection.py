"""Drift detection on real penguins: a shifted sample is flagged, same-distribution ones not."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tabml.model.features import split_train_test
from tabml.model.training_stats import training_stats
from tabml.monitoring.drift import drift_report
from tabml.params import DriftParams
from tabml.scoring.metadata import TrainingStatistics
from testkit import ROOT


@pytest.fixture(scope="module")
def split(raw_penguins, profile):
    labelled = raw_penguins.dropna(subset=[profile.target])
    return split_train_test(labelled, profile.target, 0.3, seed=42)


@pytest.fixture(scope="module")
def training(split, profile):
    return training_stats(split[0], profile)


def test_body_mass_plus_1500_g_is_flagged_for_body_mass_only(split, training):
    shifted = split[1].assign(body_mass_g=split[1]["body_mass_g"] + 1500)
    report = drift_report(shifted, TrainingStatistics.model_validate(training), DriftParams())
    assert report["drifted"] == ["body_mass_g"]
    mass = report["features"]["body_mass_g"]
    assert mass["psi"] > 1.0 and mass["ks_pvalue"] < 1e-10 and mass["outside_range_share"] > 0.1


@pytest.mark.parametrize("sample", ["test_split", "resample"])
def test_same_distribution_samples_are_not_flagged(split, training, raw_penguins, sample):
    if sample == "test_split":
        frame = split[1]
    else:
        frame = raw_penguins.sample(n=2000, replace=True, random_state=7)
    report = drift_report(frame, TrainingStatistics.model_validate(training), DriftParams())
    assert report["drifted"] == []
    assert all(r["verdict"] != "drift" for r in report["features"].values())
    if sample == "resample":
        # With enough rows, sampling noise stays well under every threshold.
        assert all(r["verdict"] == "ok" for r in report["features"].values())


@pytest.mark.integration  # the CLI in a child process
def test_cli_writes_metrics_plot_data_and_verdicts(tmp_path, split, training):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "training_stats.json").write_text(json.dumps(training))
    (tmp_path / "params.yaml").write_text(Path("params.yaml").read_text())  # the defaults
    shifted = split[1].assign(body_mass_g=split[1]["body_mass_g"] + 1500)
    shifted.to_csv(tmp_path / "shifted.csv", index=False)

    result = subprocess.run(
        [sys.executable, "-m", "tabml.cli", "drift", "--input", "shifted.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 3, result.stderr  # DRIFT is a non-zero exit, not an error (1)
    assert "FAIL_ON_DRIFT=0" in result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "DRIFT" in lines["body_mass_g"] and "OK" not in lines["body_mass_g"]
    assert "DRIFT" not in lines["island"]
    out = tmp_path / "reports" / "drift"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["drifted"] == ["body_mass_g"]
    assert metrics["features"]["body_mass_g"]["verdict"] == "drift"
    psi_rows = json.loads((out / "psi.json").read_text())
    assert {r["feature"] for r in psi_rows} == set(metrics["features"])
    bins = pd.DataFrame(json.loads((out / "distributions.json").read_text()))
    shares = bins.groupby(["feature", "sample"])["share"].sum()
    assert shares.between(0.999, 1.001).all()  # every feature's bins cover every row
    assert "body_mass_g" in (out / "report.md").read_text()


def test_drift_plots_are_declared_for_dvc_plots_show():
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    declared = {next(iter(p)) for p in plots}
    assert {"reports/drift/psi.json", "reports/drift/distributions.json"} <= declared
    assert (ROOT / ".dvc" / "plots" / "drift_bins.json").is_file()


@pytest.mark.parametrize(
    ("shift", "args", "code"),
    [(1500, ["--no-fail-on-drift"], 0), (0, [], 0), (1500, ["--fail-on-drift"], 3)],
)
@pytest.mark.integration  # the CLI in a child process
def test_drift_exit_code_is_3_on_drift_unless_opted_out(
    tmp_path, split, training, shift, args, code
):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "training_stats.json").write_text(json.dumps(training))
    (tmp_path / "params.yaml").write_text(Path("params.yaml").read_text())  # the defaults
    # 2,000 rows of the training distribution: no feature drifts (see above)
    sample = split[0].sample(n=2000, replace=True, random_state=7)
    sample.assign(body_mass_g=sample["body_mass_g"] + shift).to_csv(
        tmp_path / "in.csv", index=False
    )
    cmd = [sys.executable, "-m", "tabml.cli", "drift", "--input", "in.csv", *args]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == code, result.stdout + result.stderr
    report = json.loads((tmp_path / "reports" / "drift" / "metrics.json").read_text())
    assert report["drifted"] == (["body_mass_g"] if shift else [])  # written either way
