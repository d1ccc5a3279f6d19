"""Explanations from the ONNX model: additive, equal to brute-force Shapley values, sensible."""

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.model.features import model_frame, split_train_test
from tabml.model.train import fit_model
from tabml.model.training_stats import training_stats
from tabml.params import Params
from tabml.scoring.explain import (
    DEFAULT_TOP,
    Explainer,
    exact_design,
    requested_top,
    sampled_design,
)
from testkit.models import packaged_from

FAMILIES = ["logistic_regression", "random_forest", "gradient_boosting"]
GENTOO = {"island": "Biscoe", "bill_length_mm": 48.6, "bill_depth_mm": 16.0,
          "flipper_length_mm": 230.0, "body_mass_g": 5800.0, "sex": "male"}  # fmt: skip


@pytest.fixture(scope="module")
def data():
    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    train, test = split_train_test(raw, profile.target, 0.3, 42)
    return profile, train, test, training_stats(train, profile)


@pytest.fixture(scope="module", params=FAMILIES)
def fitted(data, request):
    """(family, pipeline, packaged model, explainer): fitted and converted once per family."""
    profile, train, _, _ = data
    pipeline = fit_model(train, profile, Params().train.model_copy(update={"model": request.param}))
    model = packaged_from(pipeline, profile, train)
    return request.param, pipeline, model, Explainer(model)


def _records(frame: pd.DataFrame, features: list[str]) -> list[dict]:
    rows = frame[features].astype(object).to_dict("records")
    return [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows]


def test_contributions_add_up_to_the_answers_probability(data, fitted):
    profile, _, test, _ = data
    family, _, model, explainer = fitted
    records = _records(test, profile.features.all)
    inputs = model.inputs(records)
    labels, proba = model.predict(inputs)  # the answers
    for top in (1, DEFAULT_TOP, 6):
        for record, label, row, e in zip(
            records, labels, proba, explainer.explain(inputs, top), strict=True
        ):
            assert e["class"] == label, (family, record)
            assert len(e["contributions"]) == top
            total = e["base_value"] + sum(c["contribution"] for c in e["contributions"])
            total += e["other_features"]
            p = float(row[model.task.classes.index(label)])
            assert total == pytest.approx(p, abs=1e-6), (family, record, e)


def test_contributions_are_the_shapley_values_scikit_learn_gives(data, fitted):
    """Brute force: every coalition scored by the scikit-learn pipeline, Shapley's formula."""
    profile, _, test, _ = data
    family, pipeline, model, explainer = fitted
    features = profile.features.all
    base = explainer.baseline
    d = len(features)
    for record in _records(test.iloc[::25], features):
        coalitions = [set(c) for k in range(d + 1) for c in combinations(features, k)]
        mixed = [{f: (record[f] if f in s else base[f]) for f in features} for s in coalitions]
        frame = model_frame(pd.DataFrame(mixed), profile.features)
        proba = pipeline.predict_proba(frame)
        c = int(proba[-1].argmax())  # the last coalition is the whole record
        v = {frozenset(s): proba[i, c] for i, s in enumerate(coalitions)}
        expected = []
        for f in features:
            phi = 0.0
            for s in coalitions:
                if f not in s:
                    weight = math.factorial(len(s)) * math.factorial(d - len(s) - 1)
                    phi += weight / math.factorial(d) * (v[frozenset(s | {f})] - v[frozenset(s)])
            expected.append(phi)
        _, base_value, contributions = explainer.contributions(model.inputs([record]))
        # float32 ONNX vs float64 scikit-learn: within the parity tolerance, summed
        np.testing.assert_allclose(contributions[0], expected, atol=5e-5, err_msg=family)
        assert base_value[0] == pytest.approx(v[frozenset()], abs=1e-5)


def test_a_gentoo_with_long_flippers_is_explained_by_its_flippers(fitted):
    family, _, model, explainer = fitted
    (e,) = explainer.explain(model.inputs([GENTOO]))
    assert e["class"] == "Gentoo"
    first = e["contributions"][0]
    # checked for all three families: flipper length moves p(Gentoo) most (+0.29..0.42)
    assert first["feature"] == "flipper_length_mm", (family, e)
    assert first["contribution"] > 0.2


def test_a_feature_at_its_baseline_contributes_nothing(fitted):
    _, _, model, explainer = fitted
    # the penguin baseline is a male on Biscoe: those two features equal it
    assert (explainer.baseline["island"], explainer.baseline["sex"]) == ("Biscoe", "male")
    (e,) = explainer.explain(model.inputs([GENTOO]), top=6)
    by_feature = {c["feature"]: c["contribution"] for c in e["contributions"]}
    assert abs(by_feature["island"]) < 1e-12 and abs(by_feature["sex"]) < 1e-12


def test_the_baseline_is_the_training_median_and_mode(data, fitted):
    profile, train, _, _ = data
    base = fitted[3].baseline
    for name in profile.features.numeric:
        assert base[name] == pytest.approx(float(train[name].median()))
    for name in profile.features.categorical:
        assert base[name] == train[name].value_counts().idxmax()


def test_all_records_are_explained_in_one_onnxruntime_call(data, fitted):
    profile, _, test, _ = data
    _, _, model, explainer = fitted
    inputs = model.inputs(_records(test.head(50), profile.features.all))
    calls = []
    run = model.session.run
    model.session.run = lambda *args: calls.append(1) or run(*args)
    try:
        explainer.explain(inputs)
    finally:
        del model.session.run
    assert len(calls) == 1


def _additive(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    return masks.astype(float) @ values


def test_designs_recover_an_additive_function_and_split_an_interaction():
    a = np.arange(1.0, 13.0)
    for masks, weights in (exact_design(6), sampled_design(12, orders=7)):
        d = masks.shape[1]
        np.testing.assert_allclose(weights @ _additive(a[:d], masks), a[:d], atol=1e-12)
    masks, weights = exact_design(3)
    both = (masks[:, 0] & masks[:, 1]).astype(float)  # v = 1 only when features 0 and 1 join
    np.testing.assert_allclose(weights @ both, [0.5, 0.5, 0.0], atol=1e-12)


def test_sampled_design_is_additive_for_any_function():
    masks, weights = sampled_design(11, orders=5, seed=3)
    v = np.random.default_rng(0).normal(size=len(masks))
    full = np.flatnonzero(masks.all(axis=1))
    empty = np.flatnonzero(~masks.any(axis=1))
    # every order ends at the full record and starts at the baseline
    assert (weights @ v).sum() == pytest.approx(v[full].mean() - v[empty].mean(), abs=1e-12)


@pytest.mark.parametrize(("value", "top"), [(True, 3), (False, None), (2, 2), (6, 6)])
def test_requested_top(value, top):
    assert requested_top(value) == top
