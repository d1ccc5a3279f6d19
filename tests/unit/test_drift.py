"""Drift's pure functions: PSI, the KS statistic and p-value, verdicts, input errors."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from tabml.binning import CDF_POINTS, bin_index
from tabml.model.training_stats import psi_bins
from tabml.monitoring.drift import (
    DriftInputError,
    categorical_drift,
    drift_report,
    ks_pvalue,
    ks_statistic,
    psi,
    verdict,
)
from tabml.params import DriftParams
from tabml.scoring.metadata import CategoryStats, TrainingStatistics


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    base = np.full(10, 0.1)
    assert psi(base, base) == 0.0
    small = psi(base, np.r_[0.15, 0.05, np.full(8, 0.1)])
    large = psi(base, np.r_[0.5, 0.0, np.full(8, 0.0625)])
    assert 0 < small < 0.1 < 0.25 < large


def test_psi_bins_are_right_closed_deciles_with_exact_shares():
    values = np.arange(1, 101, dtype=float)
    bins = psi_bins(values)
    assert len(bins["edges"]) == 9 and len(bins["shares"]) == 10
    assert sum(bins["shares"]) == pytest.approx(1.0)
    assert bin_index(np.array([bins["edges"][0]]), bins["edges"])[0] == 0  # edge -> lower bin


def test_ks_statistic_from_percentiles_matches_the_exact_two_sample_test():
    rng = np.random.default_rng(0)
    train, sample = rng.normal(0, 1, 5000), rng.normal(0.5, 1, 400)
    percentiles = np.quantile(train, np.linspace(0, 1, CDF_POINTS))
    exact = ks_2samp(train, sample)
    # The percentile CDF is exact to 1/(CDF_POINTS - 1).
    assert ks_statistic(list(percentiles), sample) == pytest.approx(exact.statistic, abs=0.011)
    assert ks_pvalue(exact.statistic, 5000, 400) == pytest.approx(exact.pvalue, rel=0.05)


def test_ks_statistic_handles_ties_of_discrete_values():
    train = np.repeat([180.0, 190.0, 200.0], 100)
    percentiles = list(np.quantile(train, np.linspace(0, 1, CDF_POINTS)))
    assert ks_statistic(percentiles, np.repeat([180.0, 190.0, 200.0], 5)) < 0.02
    assert ks_statistic(percentiles, np.full(20, 200.0)) > 0.6


def test_unseen_and_missing_categories_are_counted():
    summary = CategoryStats(categories=["a", "b"], shares={"a": 0.5, "b": 0.5}, missing_share=0.0)
    texts = np.array(["a", "b", "zzz", "", "", "a", "b", "a"], dtype=object)
    absent = np.array([False, False, False, True, True, False, False, False])
    result = categorical_drift(texts, absent, summary)
    assert result["unseen_categories"] == ["zzz"]
    assert result["unseen_share"] == pytest.approx(1 / 8)
    assert result["missing_share"] == pytest.approx(2 / 8)
    status, reasons = verdict(result, DriftParams())
    assert status == "drift" and "zzz" in reasons[-1]


def _numeric(psi_value=0.0, d=0.0, p=1.0, outside=0.0):
    return {
        "kind": "numeric",
        "psi": psi_value,
        "ks_statistic": d,
        "ks_pvalue": p,
        "outside_range_share": outside,
    }


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (_numeric(), "ok"),
        (_numeric(psi_value=0.12), "warning"),
        (_numeric(psi_value=0.3), "drift"),
        (_numeric(d=0.3, p=1e-5), "drift"),
        (_numeric(d=0.05, p=1e-5), "warning"),  # significant but tiny: a big sample's noise
        (_numeric(outside=0.2), "drift"),
    ],
)
def test_verdict_follows_the_thresholds(result, expected):
    assert verdict(result, DriftParams())[0] == expected


def test_thresholds_come_from_params():
    strict = DriftParams(psi_warning=0.01, psi_drift=0.02)
    assert verdict(_numeric(psi_value=0.03), strict)[0] == "drift"


def test_missing_feature_columns_and_too_few_rows_are_clear_errors(raw_penguins, profile):
    from tabml.model.training_stats import training_stats

    training = TrainingStatistics.model_validate(training_stats(raw_penguins, profile))
    with pytest.raises(DriftInputError, match="body_mass_g"):
        drift_report(raw_penguins.drop(columns="body_mass_g"), training, DriftParams())
    with pytest.raises(DriftInputError, match="at least 50"):
        drift_report(raw_penguins.head(10), training, DriftParams())
    text = raw_penguins.assign(body_mass_g="heavy")
    with pytest.raises(DriftInputError, match="not numeric"):
        drift_report(text, training, DriftParams())
