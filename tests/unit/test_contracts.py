"""The records written across processes (model metadata, training statistics, drift and
monitor reports, the retrain decision) have one definition each and are validated when read:
a missing or mistyped key is one error line naming it, not a KeyError later."""

import json

import pandas as pd
import pytest

from tabml import paths
from tabml.monitoring import alerts, monitor_files
from tabml.monitoring.contracts import ReportError, read_drift_metrics, read_monitor_report
from tabml.monitoring.drift import drift_report
from tabml.monitoring.drift_files import write_report
from tabml.params import DriftParams, MonitorParams
from tabml.retrain.decision_files import read_decision, write_decision
from tabml.scoring.metadata import (
    MetadataError,
    TrainingStatistics,
    read_metadata,
    read_training_stats,
)
from testkit.models import bare_metadata


def test_the_packaged_models_metadata_is_a_valid_record(model):
    assert model.metadata.schema_version == 1 and model.metadata.task == "classification"
    assert model.metadata.classes == ["Adelie", "Chinstrap", "Gentoo"]
    stored = model.metadata.to_store()
    assert read_metadata(stored) == model.metadata
    broken = {k: v for k, v in stored.items() if k != "training_stats"}
    with pytest.raises(MetadataError, match="training_stats: Field required"):
        read_metadata(broken, "m:1")
    with pytest.raises(MetadataError, match="packaged by a newer tabml"):
        read_metadata({**stored, "schema_version": 99}, "m:1")


def test_a_model_packaged_before_the_record_still_loads(model):
    """schema_version 0: no schema_version, no task key for a classifier, dates without a
    format (the metadata of models packaged before this record)."""
    old = {
        k: v for k, v in model.metadata.to_store().items() if k not in ("schema_version", "task")
    }
    assert read_metadata(old).schema_version == 0


def test_training_statistics_are_checked_when_read(packaged):
    stats = json.loads((packaged / paths.TRAINING_STATS).read_text())
    assert (
        read_training_stats(stats, "x").numeric["body_mass_g"].max
        == stats["numeric"]["body_mass_g"]["max"]
    )
    del stats["numeric"]["body_mass_g"]["bins"]
    with pytest.raises(MetadataError, match=r"numeric\.body_mass_g\.bins: Field required"):
        read_training_stats(stats, "models/training_stats.json")


def test_drift_metrics_are_checked_when_written_and_read(tmp_path, packaged, raw_penguins):
    stats = json.loads((packaged / paths.TRAINING_STATS).read_text())
    report = drift_report(raw_penguins, TrainingStatistics.model_validate(stats), DriftParams())
    write_report(report, "penguins.csv", tmp_path)
    read = read_drift_metrics(tmp_path / "metrics.json")
    assert read.rows == len(raw_penguins) and read.source == "penguins.csv"
    assert read.features["island"].kind == "categorical"
    data = json.loads((tmp_path / "metrics.json").read_text())
    data["features"]["island"]["verdict"] = "fine"
    (tmp_path / "metrics.json").write_text(json.dumps(data))
    with pytest.raises(ReportError, match=r"features\.island\.verdict"):
        read_drift_metrics(tmp_path / "metrics.json")


def test_the_monitor_report_is_checked_when_written_and_read(tmp_path):
    from tabml.monitoring.live_report import live_report

    n = 40
    joined = pd.DataFrame({
        "prediction_id": [f"id{i}" for i in range(n)], "model_version": "v1",
        "timestamp": pd.Timestamp("2025-06-01", tz="UTC"), "predicted": "Adelie",
        "source": "batch", "label": "Adelie", "proba_adelie": 0.9, "proba_gentoo": 0.1,
    })  # fmt: skip
    versions = live_report(joined, {"v1": bare_metadata()}, ["Adelie", "Gentoo"],
                           pd.Timedelta("1D"), MonitorParams(), {}, DriftParams())  # fmt: skip
    versions["v1"].update(registry_version="v1.0.0", retired=False, replaced_by=None)
    report = {"task": "classification", "window": "1d", "since": None, "predictions": n,
              "sources": "test", "skipped_lines": 0, "versions": versions,
              "join": {"labels_received": n, "labelled_ids": n, "matched": n, "unmatched": 0,
                       "duplicate_predictions": 0},
              "labels_by_source": {"file:labels.csv": n}, "excluded_sources": [],
              "excluded_labels": 0}  # fmt: skip
    monitor_files.write_report(report, tmp_path, monitor_files.classification_section)
    read = read_monitor_report(tmp_path / "windows.json")
    assert read.versions["v1"].verdict in (alerts.OK, alerts.NO_VERDICT)
    assert read.versions["v1"].windows[0].labelled == n
    assert read.versions["v1"].estimates.status == "unchecked"  # fewer labels than it needs
    assert read.versions["v1"].registry_version == "v1.0.0"
    assert read.labels_by_source == {"file:labels.csv": n}
    without = {k: v for k, v in report.items() if k != "labels_by_source"}
    with pytest.raises(ReportError, match=r"labels_by_source: Field required"):
        monitor_files.write_report(without, tmp_path, monitor_files.classification_section)
    with pytest.raises(ReportError, match=r"versions\.v1\.verdict"):
        monitor_files.write_report(
            {**report, "versions": {"v1": {**versions["v1"], "verdict": "maybe"}}},
            tmp_path, monitor_files.classification_section,
        )  # fmt: skip


DECISION = {
    "params": {"primary_metric": "f1_macro"},
    "overrides": ["train.logistic_regression.C=0.5"],
    "data": {
        "path": "data/production/labelled.parquet",
        "md5": "0" * 32,
        "rows": 10,
        "rejected": 0,
        "training_rows": 7,
        "comparison_rows": 3,
        "comparison_from": "2025-06-01T00:00:00+00:00",
        "original": {"sha256": "1" * 64},
        "labels_by_source": {"http": 8, "file:labels.csv": 2},
        "excluded_sources": [],
    },
    "champion": {"version": "v1.0.0", "model_version": "m:1", "comparison": {}},
    "challenger": {"branch": "retrain/x", "model_version": "m:2", "comparison": {}},
    "verdict": "promote",
    "reasons": ["f1_macro better"],
    "registered": {"version": "v1.1.0", "stage": "prod"},
}


def test_the_retrain_decision_is_checked_when_written_and_read(tmp_path):
    json_path, _ = write_decision(DECISION, tmp_path)
    read = read_decision(json_path)
    assert read.challenger.branch == "retrain/x" and read.registered.version == "v1.1.0"
    assert read.overrides == ["train.logistic_regression.C=0.5"]
    with pytest.raises(ReportError, match=r"registered\.stage: Field required"):
        write_decision({**DECISION, "registered": {"version": "v1.1.0"}}, tmp_path / "bad")
    with pytest.raises(ReportError, match="verdict"):
        write_decision({**DECISION, "verdict": "maybe"}, tmp_path / "bad")
