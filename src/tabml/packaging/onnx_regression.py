"""Build-time ONNX for regression pipelines: conversion and the parity check.

The tolerance is `atol + rtol * |sklearn value|`, `atol` being `package.parity_tolerance`
times the training target's standard deviation: the classifier's tolerance is on
probabilities (scale 1), a regressor's values carry the target's units.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from tabml.data.profile import Features
from tabml.packaging.onnx_export import ParityError, convert
from tabml.scoring.onnx_regressor import OnnxRegressor


def to_onnx_regressor_bytes(pipeline: Any, features: Features) -> bytes:
    """Convert a fitted scikit-learn regression pipeline to ONNX (output `variable`)."""
    return convert(pipeline, features, {"tabml.task": "regression", "tabml.classes": "[]"})


@dataclass(frozen=True)
class RegressionParityReport:
    rows: int
    max_abs_diff: float
    tolerance: float  # the largest allowed difference on any test row
    failing_rows: int

    @property
    def ok(self) -> bool:
        return self.failing_rows == 0


def check_regression_parity(
    pipeline: Any, model: OnnxRegressor, frame: Any, atol: float, rtol: float
) -> RegressionParityReport:
    """Compare ONNX and scikit-learn predictions on `frame` (the test set's model frame).

    Raises:
        ParityError: a row differs by more than `atol + rtol * |expected|`.
    """
    expected = np.asarray(pipeline.predict(frame), dtype=np.float64)
    got = model.predict(model.feeds_from_frame(frame)).astype(np.float64)
    diff = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    report = RegressionParityReport(
        rows=len(frame),
        max_abs_diff=float(diff.max(initial=0.0)),
        tolerance=float(allowed.max(initial=atol)),
        failing_rows=int((diff > allowed).sum()),
    )
    if not report.ok:
        raise ParityError(
            f"ONNX model disagrees with scikit-learn on the test set ({report.rows} rows): "
            f"{report.failing_rows} predictions differ by more than {atol:.3g} + {rtol:g} * "
            f"|value| (max difference {report.max_abs_diff:.3g}). The model was not packaged; "
            "check that every pipeline step has an exact skl2onnx converter."
        )
    return report


def package_regression(
    pipeline: Any, features: Features, test_frame: Any, params: Any, training: dict, metrics: dict
) -> tuple[bytes, RegressionParityReport, dict]:
    """ONNX bytes, parity report and the extra model metadata of a regression model.

    Refuses (CoverageError) a model whose test-set interval coverage is off the nominal
    level by more than `regression.coverage_tolerance`, before converting anything.
    """
    from tabml.model.intervals import check_coverage

    interval = training["regression"]["interval"]
    check_coverage(metrics, interval["level"], params.regression.coverage_tolerance)
    onnx_bytes = to_onnx_regressor_bytes(pipeline, features)
    atol = params.package.parity_tolerance * training["regression"]["target"]["std"]
    parity = check_regression_parity(
        pipeline, OnnxRegressor(onnx_bytes), test_frame, atol, params.regression.parity_rtol
    )
    return onnx_bytes, parity, {"task": "regression", "prediction_interval": interval}
