"""Permutation importance and partial dependence agree with scikit-learn's own functions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import partial_dependence, permutation_importance

from tabml.data.profile import load_profile
from tabml.model.features import model_frame, split_train_test
from tabml.model.importance import (
    PD_GRID,
    partial_dependence_points,
    pd_grid,
    permutation_importances,
    top_numeric,
)
from tabml.model.train import fit_model
from tabml.params import Params


@pytest.fixture(scope="module", params=["logistic_regression", "random_forest"])
def fitted(request):
    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    train, test = split_train_test(raw, profile.target, 0.3, 42)
    pipeline = fit_model(train, profile, Params().train.model_copy(update={"model": request.param}))
    y = test[profile.target].astype(str).to_numpy(dtype=object)
    return profile, pipeline, model_frame(test, profile.features), y


@pytest.mark.integration  # scikit-learn's reference over every feature: seconds
def test_permutation_importance_is_scikit_learns_over_raw_features(fitted):
    profile, pipeline, X, y = fitted
    rows = permutation_importances(pipeline, X, y, seed=7)
    direct = permutation_importance(
        pipeline, X, y, scoring="neg_log_loss", n_repeats=10, random_state=7
    )
    expected = dict(zip(X.columns, direct.importances_mean, strict=True))
    assert {r["feature"] for r in rows} == set(profile.features.all)  # raw, not one-hot
    for row in rows:
        assert row["importance"] == pytest.approx(expected[row["feature"]], abs=1e-6)
    assert [r["importance"] for r in rows] == sorted((r["importance"] for r in rows), reverse=True)
    assert permutation_importances(pipeline, X, y, seed=7) == rows  # seeded


def test_partial_dependence_is_scikit_learns(fitted):
    profile, pipeline, X, _ = fitted
    points = partial_dependence_points(pipeline, X, ["flipper_length_mm"])
    grid = pd_grid(X["flipper_length_mm"])
    assert len(grid) == PD_GRID
    # scikit-learn on a float64 copy (pandas 3 refuses its float64 grid in float32 columns),
    # with the grid cast to float32 as the model frame holds it
    X64 = X.astype({n: np.float64 for n in profile.features.numeric})
    values = grid.astype(np.float32).astype(np.float64)
    result = partial_dependence(
        pipeline, X64, ["flipper_length_mm"], kind="average", method="brute",
        custom_values={"flipper_length_mm": values}, response_method="predict_proba",
    )  # fmt: skip
    for c, label in enumerate(pipeline.classes_):
        mine = [p["probability"] for p in points if p["class"] == label]
        np.testing.assert_allclose(mine, result["average"][c], atol=2e-6)


def test_top_numeric_skips_categorical_features():
    rows = [{"feature": f} for f in ["island", "b", "sex", "a", "c", "d"]]
    assert top_numeric(rows, ["a", "b", "c", "d"]) == ["b", "a", "c"]
