"""The estimates in the monitor report: per window (with intervals and the measured ROC AUC),
the version's trust verdict, and the plot data of `dvc plots` (bands, limit, breaches, gaps).
"""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tabml.monitoring import monitor_files
from tabml.monitoring.live_report import live_report
from tabml.params import DriftParams, MonitorParams
from tabml.scoring.prediction_ids import new_ids
from testkit.models import bare_metadata

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _day(day: int, n: int, labelled: int, seed: int, wrong_share: float = 0.0) -> pd.DataFrame:
    """n predictions on `day` whose labels are drawn from their own probabilities (a
    calibrated model), except a `wrong_share` of them labelled with another class."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet([4.0, 1.0, 1.0], size=n)[:, rng.permutation(3)]
    truth = (rng.random(n)[:, None] >= np.cumsum(proba, axis=1)).sum(axis=1).clip(0, 2)
    wrong = rng.random(n) < wrong_share
    truth[wrong] = (proba[wrong].argmax(axis=1) + 1) % 3
    labels = [CLASSES[t] for t in truth[:labelled]] + [None] * (n - labelled)
    return pd.DataFrame({
        "prediction_id": new_ids(n),
        "timestamp": pd.Timestamp(T0) + pd.Timedelta(days=day, hours=1),
        "model_version": "v1", "predicted": [CLASSES[i] for i in proba.argmax(axis=1)],
        "source": "batch", "label": labels, "proba_adelie": proba[:, 0],
        "proba_chinstrap": proba[:, 1], "proba_gentoo": proba[:, 2],
    })  # fmt: skip


def _report(frames: list[pd.DataFrame]) -> dict:
    joined = pd.concat(frames).reset_index(drop=True)
    metadata = {"v1": bare_metadata(classes=CLASSES, metrics={"accuracy": 0.7, "f1_macro": 0.6})}
    versions = live_report(joined, metadata, CLASSES, pd.Timedelta("1D"), MonitorParams(),
                           {"accuracy": 0.5}, DriftParams())  # fmt: skip
    return {"versions": versions, "join": {"unmatched": 0}, "skipped_lines": 0}


def test_every_window_has_estimates_and_a_labelled_one_its_auc_and_check():
    days = [_day(0, 400, 400, seed=1), _day(1, 300, 0, seed=2)]
    report = _report(days)["versions"]["v1"]
    labelled, waiting = report["windows"]
    for window in (labelled, waiting):
        for metric in ("accuracy", "f1_macro", "roc_auc"):
            low, high = window[f"estimated_{metric}_low"], window[f"estimated_{metric}_high"]
            assert low <= window[f"estimated_{metric}"] <= high
    frame = days[0]
    truth = frame["label"].map(CLASSES.index)
    proba = frame[["proba_adelie", "proba_chinstrap", "proba_gentoo"]].to_numpy()
    assert labelled["roc_auc"] == pytest.approx(roc_auc_score(truth, proba, multi_class="ovr"))
    assert labelled["calibration_check"]["status"] == "ok"
    assert "roc_auc" not in waiting and "calibration_check" not in waiting
    assert report["estimates"]["status"] == "ok"


def test_a_window_whose_labels_disagree_with_the_probabilities_distrusts_the_estimates():
    report = _report([_day(0, 400, 400, seed=3, wrong_share=0.4)])["versions"]["v1"]
    assert report["estimates"]["status"] == "poor"
    assert "too poor to trust" in report["estimates"]["reason"]
    markdown = monitor_files.markdown({**_report([_day(0, 400, 400, seed=3, wrong_share=0.4)]),
                                       "window": "1d", "since": None, "predictions": 400,
                                       "sources": "test", "task": "classification",
                                       "join": {"unmatched": 0, "labels_received": 400,
                                                "labelled_ids": 400},
                                       "labels_by_source": {"http": 400},
                                       "excluded_sources": [], "excluded_labels": 0},
                                      monitor_files.classification_section)  # fmt: skip
    assert "Estimates POOR" in markdown and "calibration check" in markdown


def test_plot_rows_carry_bands_limit_breaches_and_break_at_an_empty_window():
    report = _report([_day(0, 200, 200, seed=4), _day(1, 200, 200, seed=5, wrong_share=0.9),
                      _day(3, 200, 0, seed=6)])  # day 2 has no predictions  # fmt: skip
    rows = monitor_files.plot_rows(report)
    measured = [r for r in rows["accuracy"] if r["metric"] == "measured"]
    assert [r["window"][:10] for r in measured] == ["2025-06-01", "2025-06-02", "2025-06-03"]
    assert measured[0]["low"] <= measured[0]["value"] <= measured[0]["high"]
    assert {r["limit"] for r in rows["accuracy"]} == {0.65}  # test 0.7 - 0.05
    assert [r["breach"] for r in measured] == [False, True, False]
    assert measured[2]["value"] is None  # the gap: the line breaks instead of joining
    estimated = [r for r in rows["accuracy"] if r["metric"] == "estimated"]
    assert [r["value"] is None for r in estimated] == [False, False, True, False]
    assert [r["value"] is None for r in rows["coverage"]] == [False, False, True, False]
