"""ONNX conversion of every regression family, its parity check and batch independence."""

import numpy as np
import onnx
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.model.families import families_for
from tabml.model.features import model_frame, split_train_test
from tabml.model.regressors import fit_regression
from tabml.packaging.onnx_export import ParityError
from tabml.packaging.onnx_regression import check_regression_parity, to_onnx_regressor_bytes
from tabml.params import Params
from testkit.models import packaged_from


@pytest.fixture(scope="module")
def data():
    profile = load_profile("penguins_mass")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    train, test = split_train_test(raw, profile.target, 0.3, 42, stratify=False)
    return profile, train, test


@pytest.fixture(scope="module", params=families_for("regression"))
def family_model(data, request):
    """(family, fitted pipeline, its ONNX bytes): fitted and converted once per family."""
    profile, train, _ = data
    params = Params()
    pipeline, _ = fit_regression(
        train, profile, params.train.model_copy(update={"model": request.param}), params.regression
    )
    return request.param, pipeline, to_onnx_regressor_bytes(pipeline, profile.features)


def test_every_regression_family_converts_with_parity(data, family_model):
    profile, train, test = data
    _family, pipeline, onnx_bytes = family_model
    model = packaged_from(pipeline, profile, train, onnx_bytes=onnx_bytes)
    report = check_regression_parity(pipeline, model, test, profile.features, 1e-2, 1e-5)
    assert report.ok and report.rows == len(test)
    # independent of our check: onnxruntime's values against scikit-learn's, in grams
    expected = pipeline.predict(model_frame(test, profile.features))
    (got,) = model.predict(model.inputs(test))
    assert got.reshape(-1).shape == (len(test),)
    np.testing.assert_allclose(got.reshape(-1), expected, rtol=1e-5, atol=1e-2)
    assert model.task.classes == []  # a regression model names no class
    assert "tabml.classes" not in {p.key for p in onnx.load_from_string(onnx_bytes).metadata_props}
    assert to_onnx_regressor_bytes(pipeline, profile.features) == onnx_bytes  # deterministic


def _tampered(onnx_bytes: bytes) -> bytes:
    """Scale the ridge model's coefficients: a converter bug we must catch."""
    proto = onnx.load_from_string(onnx_bytes)
    node = next(n for n in proto.graph.node if n.op_type == "LinearRegressor")
    coefficients = next(a for a in node.attribute if a.name == "coefficients")
    coefficients.floats[:] = [c * 1.01 for c in coefficients.floats]
    return proto.SerializeToString()


def test_parity_check_fails_on_a_tampered_model(data):
    profile, train, test = data
    params = Params()
    pipeline, _ = fit_regression(
        train, profile, params.train.model_copy(update={"model": "ridge"}), params.regression
    )
    tampered = _tampered(to_onnx_regressor_bytes(pipeline, profile.features))
    bad = packaged_from(pipeline, profile, train, onnx_bytes=tampered)
    with pytest.raises(ParityError, match=r"disagrees with scikit-learn.*differ by more than"):
        check_regression_parity(pipeline, bad, test, profile.features, atol=1e-2, rtol=1e-5)


def test_parity_tolerance_is_enforced(data, family_model):
    profile, train, test = data
    _, pipeline, onnx_bytes = family_model
    model = packaged_from(pipeline, profile, train, onnx_bytes=onnx_bytes)
    # float32 ONNX vs float64 scikit-learn differ in the last bits: zero tolerance must fail
    with pytest.raises(ParityError):
        check_regression_parity(pipeline, model, test, profile.features, atol=0.0, rtol=0.0)


def test_a_rows_value_does_not_depend_on_its_batch(data, family_model):
    profile, train, test = data
    family, pipeline, onnx_bytes = family_model
    model = packaged_from(pipeline, profile, train, onnx_bytes=onnx_bytes)
    frame = test[profile.features.all]
    (values,) = model.predict(model.inputs(frame))
    for i in range(len(frame)):
        for rows in (frame.iloc[[i]], frame.iloc[[i, (i + 1) % len(frame)]]):
            (alone,) = model.predict(model.inputs(rows))
            assert alone[0] == values[i], (family, i, alone[0], values[i])
