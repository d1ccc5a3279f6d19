"""ONNX conversion of every estimator family, the parity check, and the record/frame inputs."""

import numpy as np
import onnx
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.model.features import split_train_test
from tabml.model.train import fit_model
from tabml.packaging.onnx_export import ParityError, check_parity, to_onnx_bytes
from tabml.params import Params, TrainParams
from testkit.models import packaged_from

FAMILIES = ["logistic_regression", "random_forest", "gradient_boosting", "hgb"]


@pytest.fixture(scope="module")
def data():
    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    train, test = split_train_test(raw, profile.target, 0.3, 42)
    return profile, train, test


@pytest.fixture(scope="module", params=FAMILIES)
def family_model(data, request):
    """(family, fitted pipeline, its ONNX bytes): fitted and converted once per family."""
    profile, train, _ = data
    update = {"model": request.param}
    pipeline = fit_model(train, profile, Params().train.model_copy(update=update))
    return request.param, pipeline, to_onnx_bytes(pipeline, profile.features)


def test_every_family_in_params_is_covered():
    from tabml.model.families import FAMILIES as REGISTRY
    from tabml.model.families import families_for

    # Regression families: tests/unit/test_onnx_regression.py.
    assert set(FAMILIES) == set(families_for("classification"))
    everything = set(families_for("classification")) | set(families_for("regression"))
    assert everything == set(REGISTRY)
    assert {"auto", *REGISTRY} == set(TrainParams.model_fields["model"].annotation.__args__)


def test_every_family_converts_with_parity(data, family_model):
    profile, train, test = data
    _, pipeline, onnx_bytes = family_model
    model = packaged_from(pipeline, profile, train, onnx_bytes=onnx_bytes)
    report = check_parity(pipeline, model, test, profile.features, tolerance=1e-5)
    assert report.ok and report.rows == len(test) and report.max_abs_diff <= 1e-5
    assert model.task.classes == list(pipeline.classes_)
    assert to_onnx_bytes(pipeline, profile.features) == onnx_bytes  # deterministic bytes


def _tampered(onnx_bytes: bytes) -> bytes:
    """Scale the linear model's coefficients: a converter bug we must catch."""
    proto = onnx.load_from_string(onnx_bytes)
    node = next(n for n in proto.graph.node if n.op_type == "LinearClassifier")
    coefficients = next(a for a in node.attribute if a.name == "coefficients")
    coefficients.floats[:] = [c * 1.7 for c in coefficients.floats]
    return proto.SerializeToString()


def test_parity_check_fails_on_a_tampered_model(data):
    profile, train, test = data
    pipeline = fit_model(train, profile, TrainParams(model="logistic_regression"))
    tampered = _tampered(to_onnx_bytes(pipeline, profile.features))
    bad = packaged_from(pipeline, profile, train, onnx_bytes=tampered)
    with pytest.raises(ParityError, match=r"disagrees with scikit-learn.*tolerance 1e-05"):
        check_parity(pipeline, bad, test, profile.features, tolerance=1e-5)


def test_parity_tolerance_is_enforced(data):
    profile, train, test = data
    pipeline = fit_model(train, profile, Params().train)
    model = packaged_from(pipeline, profile, train)
    # float32 ONNX vs float64 scikit-learn differ by ~1e-7: a zero tolerance must fail
    with pytest.raises(ParityError):
        check_parity(pipeline, model, test, profile.features, tolerance=1e-12)


def test_record_and_frame_inputs_agree(data):
    profile, train, test = data
    model = packaged_from(fit_model(train, profile, Params().train), profile, train)
    frame = test[profile.features.all].head(20).copy()
    frame.loc[frame.index[0], "sex"] = None
    frame.loc[frame.index[1], "bill_length_mm"] = np.nan
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]
    by_records = model.predict(model.inputs(records).checked())
    by_frame = model.predict(model.inputs(frame).checked())
    assert list(by_records[0]) == list(by_frame[0])
    assert np.array_equal(by_records[1], by_frame[1])
    assert np.allclose(by_records[1].sum(axis=1), 1.0, atol=1e-5)


def test_a_rows_answer_does_not_depend_on_its_batch(data, family_model):
    # The service scores concurrent requests together (microbatch.py): a record must get
    # the same bits alone, with others, and in batch scoring's whole-file call.
    profile, train, test = data
    family, pipeline, onnx_bytes = family_model
    model = packaged_from(pipeline, profile, train, onnx_bytes=onnx_bytes)
    frame = test[profile.features.all]
    labels, proba = model.predict(model.inputs(frame))
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for i in range(len(frame)):
        for rows in (frame.iloc[[i]], frame.iloc[[i, (i + 1) % len(frame)]], records[i : i + 1]):
            alone_labels, alone_proba = model.predict(model.inputs(rows))
            assert alone_labels[0] == labels[i]
            assert np.array_equal(alone_proba[0], proba[i]), (family, i, alone_proba[0], proba[i])


def test_boosting_thresholds_floored_to_float32_change_no_prediction(data):
    # skl2onnx compares x <= float32(t); scikit-learn float64(x) <= t. Floored thresholds are
    # float32 numbers, never above t, and give scikit-learn's own answers on float32 inputs.
    from tabml.model.features import model_frame
    from tabml.packaging.onnx_hgb import float32_thresholds

    profile, train, test = data
    pipeline = fit_model(train, profile, TrainParams(model="hgb"))
    model = pipeline[-1]
    floored = float32_thresholds(model)
    for old, new in zip(model._predictors, floored._predictors, strict=True):
        for a, b in zip(old, new, strict=True):
            branch = ~a.nodes["is_leaf"].astype(bool)
            t, t32 = a.nodes["num_threshold"][branch], b.nodes["num_threshold"][branch]
            assert np.array_equal(t32.astype(np.float32).astype(np.float64), t32)
            assert (t32 <= t).all()
    X = pipeline[:-1].transform(model_frame(test, profile.features))
    assert np.array_equal(floored.predict_proba(X), model.predict_proba(X))


def test_boosting_parity_holds_for_missing_and_unseen_values(data):
    # Ordinal codes: "" is a category of its own, an unseen one is NaN, which the ONNX graph
    # must route down the same missing-value branch as scikit-learn.
    profile, train, test = data
    pipeline = fit_model(train, profile, TrainParams(model="hgb"))
    model = packaged_from(pipeline, profile, train)
    stressed = test.copy()
    stressed.loc[stressed.index[::3], "island"] = "Atlantis"  # never seen in training
    stressed.loc[stressed.index[1::4], "sex"] = None
    stressed.loc[stressed.index[::5], "bill_length_mm"] = np.nan
    stressed.loc[stressed.index[2::6], "flipper_length_mm"] = np.nan
    report = check_parity(pipeline, model, stressed, profile.features, tolerance=1e-5)
    assert report.ok and report.max_abs_diff <= 1e-5
