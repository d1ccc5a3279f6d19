"""Slice metrics against scikit-learn on hand-made masks, and the per-slice gates."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from tabml.data.profile import Features
from tabml.model.gates import GateError, check_slices, enforce_slices, slice_checks
from tabml.model.slices import quartile_slices, slice_metrics
from tabml.params import Params, SliceGatesParams

FEATURES = Features(numeric=["mass"], categorical=["island"])


def _frame(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "mass": rng.normal(4000, 500, n).astype(np.float32),
            "island": rng.choice(["Biscoe", "Dream", ""], n).astype(object),
        }
    )
    y = rng.choice(["A", "B", "C"], n).astype(object)
    return X, y


def test_slice_metrics_match_scikit_learn_per_slice():
    X, y = _frame()
    predicted = np.where(X["island"] == "Dream", "A", y)  # poor on Dream only
    slices = slice_metrics(X, y, predicted, FEATURES)
    assert set(slices["island"]) == {"Biscoe", "Dream", "missing"}
    dream = (X["island"] == "Dream").to_numpy()
    got = slices["island"]["Dream"]
    assert got["rows"] == dream.sum()
    assert got["accuracy"] == pytest.approx((y[dream] == "A").mean(), abs=1e-6)
    expected = f1_score(y[dream], predicted[dream], average="macro", zero_division=0)
    assert got["f1_macro"] == pytest.approx(expected, abs=1e-6)
    assert slices["island"]["Biscoe"]["accuracy"] == 1.0
    quarters = slices["mass"]
    assert len(quarters) == 4 and sum(s["rows"] for s in quarters.values()) == len(X)


def test_quartiles_split_evenly_and_keep_missing_apart():
    values = pd.Series([float(v) for v in range(1, 9)] + [np.nan])
    found = quartile_slices(values)
    assert [name for name, _ in found] == ["(-inf, 2.75]", "(2.75, 4.5]", "(4.5, 6.25]",
                                           "(6.25, inf)", "missing"]  # fmt: skip
    assert [int(mask.sum()) for _, mask in found] == [2, 2, 2, 2, 1]


SLICES = {
    "island": {
        "Biscoe": {"rows": 50, "accuracy": 0.98, "f1_macro": 0.97},
        "Dream": {"rows": 40, "accuracy": 0.55, "f1_macro": 0.40},
        "Torgersen": {"rows": 10, "accuracy": 0.2, "f1_macro": 0.1},  # too small to gate
    }
}


def test_a_model_poor_on_one_slice_fails_and_is_named():
    gates = SliceGatesParams(min_rows=20, min={"f1_macro": 0.8})
    failures = check_slices(SLICES, gates)
    assert [f.metric for f in failures] == ["f1_macro on slice island=Dream (40 rows)"]
    assert "0.4 is below the minimum 0.8" in failures[0].message()
    with pytest.raises(GateError, match="island=Dream"):
        enforce_slices(SLICES, gates)
    assert slice_checks(SLICES, gates) == 2


def test_slices_above_the_floor_and_the_permissive_default_pass():
    assert check_slices(SLICES, SliceGatesParams(min_rows=20, min={"f1_macro": 0.3})) == []
    assert check_slices(SLICES, Params().gates.slices) == []  # default: f1_macro >= 0
    small = SliceGatesParams(min_rows=5, min={"accuracy": 0.5})
    assert [f.metric.split(" (")[0] for f in check_slices(SLICES, small)] == [
        "accuracy on slice island=Torgersen"
    ]
