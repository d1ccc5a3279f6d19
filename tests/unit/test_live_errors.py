"""A regression model's live metrics, limits and report, against independent references."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error

from tabml.monitoring import alerts, join, live_errors, regression_report
from tabml.params import DriftParams, MonitorParams
from tabml.scoring.prediction_ids import new_ids
from testkit.models import bare_metadata


def _sample(n: int, seed: int = 0, noise: float = 300.0):
    rng = np.random.default_rng(seed)
    predicted = rng.normal(4200.0, 800.0, n)
    true = predicted + rng.normal(0.0, noise, n)
    return true, predicted, predicted - 500.0, predicted + 500.0


@pytest.mark.parametrize("n", [50, 5000])
def test_errors_and_coverage_match_scikit_learn_and_a_hand_count(n):
    true, predicted, low, high = _sample(n)
    low[0] = true[0]  # a true value on the interval's end is inside
    found = live_errors.labelled_errors(true, predicted, low, high, seed=0)
    assert found["rmse"] == pytest.approx(math.sqrt(mean_squared_error(true, predicted)))
    assert found["mae"] == pytest.approx(mean_absolute_error(true, predicted))
    inside = sum(lo <= t <= hi for t, lo, hi in zip(true, low, high, strict=True))
    assert found["interval_coverage"] == pytest.approx(inside / n)
    assert found["bias"] == pytest.approx(np.mean(predicted - true))
    assert found["rmse_low"] < found["rmse"] < found["rmse_high"]
    assert found["interval_coverage_low"] < found["interval_coverage"]


def test_the_bootstrap_is_seeded_and_narrows_with_more_rows():
    small, large = _sample(100)[0] - _sample(100)[1], _sample(2000)[0] - _sample(2000)[1]
    first = live_errors.error_intervals(small, seed=7)
    assert first == live_errors.error_intervals(small, seed=7)
    assert first != live_errors.error_intervals(small, seed=8)
    wide = first["rmse_high"] - first["rmse_low"]
    narrow = live_errors.error_intervals(large, seed=7)
    assert narrow["rmse_high"] - narrow["rmse_low"] < wide / 3  # about 1 / sqrt(20)


def test_the_intervals_cover_the_true_errors_about_95_percent_of_the_time():
    # residuals ~ N(0, 2): true rmse 2, true mae 2 sqrt(2 / pi); 200 windows of 100 rows
    rng = np.random.default_rng(1)
    hits = np.zeros(2)
    for seed in range(200):
        found = live_errors.error_intervals(rng.normal(0.0, 2.0, 100), seed=seed)
        hits += [found["rmse_low"] <= 2.0 <= found["rmse_high"],
                 found["mae_low"] <= 2 * math.sqrt(2 / math.pi) <= found["mae_high"]]  # fmt: skip
    assert ((hits / 200 >= 0.89) & (hits / 200 <= 0.99)).all(), hits


def test_past_the_bootstrap_rows_the_normal_interval_agrees_with_the_bootstrap():
    residuals = np.random.default_rng(2).standard_t(5, live_errors.BOOTSTRAP_ROWS) * 100
    bootstrap = live_errors.error_intervals(residuals, seed=0)
    normal = live_errors.error_intervals(np.concatenate([residuals, residuals[:1]]), seed=0)
    for metric in ("rmse", "mae"):
        half = (bootstrap[f"{metric}_high"] - bootstrap[f"{metric}_low"]) / 2
        for end in ("low", "high"):
            assert abs(normal[f"{metric}_{end}"] - bootstrap[f"{metric}_{end}"]) < 0.15 * half


def test_error_limits_are_ceilings_and_coverage_a_floor():
    reference = {"rmse": 100.0, "mae": 80.0}
    limits = alerts.regression_limits(reference, MonitorParams(), {"rmse": 110.0}, 0.9)
    assert limits["rmse"] == {"limit": 110.0, "why": "ceiling 110", "direction": "max"}
    assert limits["mae"]["limit"] == 100.0 and limits["mae"]["why"] == "test 80.000 + 25%"
    assert limits["interval_coverage"]["limit"] == pytest.approx(0.85)
    window = {"rmse": 150.0, "rmse_low": 120.0, "rmse_high": 180.0,  # whole CI above 110
              "mae": 95.0, "mae_low": 85.0, "mae_high": 105.0,  # CI straddles 100: no breach
              "interval_coverage": 0.86, "interval_coverage_low": 0.80,
              "interval_coverage_high": 0.90}  # fmt: skip
    broken = alerts.breaches(window, limits)
    assert broken == ["rmse 150.000 (95% CI 120.000-180.000) > 110.000 (ceiling 110)"]
    window.update(interval_coverage=0.7, interval_coverage_low=0.6, interval_coverage_high=0.8)
    assert alerts.breaches(window, limits)[1].startswith("interval_coverage 0.700")


def test_the_report_per_window_matches_scikit_learn_on_the_joined_rows():
    n = 400
    true, predicted, low, high = _sample(n, seed=3)
    ids = new_ids(n)
    start = pd.Timestamp("2025-06-01", tz="UTC")
    predictions = pd.DataFrame({
        "prediction_id": ids, "timestamp": start + pd.to_timedelta(np.arange(n) * 432, unit="s"),
        "model_version": "v1", "predicted": predicted, "source": "batch",
        "interval_low": low, "interval_high": high,
    })  # fmt: skip
    labelled = np.arange(n) % 4 != 0  # a quarter never labelled
    labels = pd.DataFrame({"prediction_id": np.array(ids)[labelled], "label": true[labelled],
                           "timestamp": start + pd.Timedelta(days=3)})  # fmt: skip
    joined, counts = join.join_labels(predictions, labels)
    assert counts.matched == labelled.sum() and joined["label"].dtype == np.float64
    metadata = {"v1": bare_metadata(task="regression", metrics={"rmse": 300.0, "mae": 240.0})}
    (report,) = regression_report.live_report(
        joined, metadata, pd.Timedelta("1D"), MonitorParams(), {}, DriftParams()
    ).values()
    windows = report["windows"]
    assert [w["predictions"] for w in windows] == [200, 200]
    for w, rows in zip(windows, (slice(0, 200), slice(200, 400)), strict=True):
        pick = labelled[rows]
        t, p = true[rows][pick], predicted[rows][pick]
        assert w["labelled"] == pick.sum() and w["coverage"] == pytest.approx(pick.mean())
        assert w["rmse"] == pytest.approx(math.sqrt(mean_squared_error(t, p)))
        assert w["mae"] == pytest.approx(mean_absolute_error(t, p))
        inside = (low[rows][pick] <= t) & (t <= high[rows][pick])
        assert w["interval_coverage"] == pytest.approx(inside.mean())
        assert w["mean_predicted"] == pytest.approx(predicted[rows].mean())
        assert w["judged"] and not w["breaches"]
    assert report["verdict"] == alerts.OK
    assert report["overall"]["labelled"] == labelled.sum()
