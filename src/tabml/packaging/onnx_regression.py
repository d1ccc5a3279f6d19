"""Build-time ONNX for regression pipelines: conversion and the parity check.

The tolerance is `atol + rtol * |sklearn value|`, `atol` being `package.parity_tolerance`
times the training target's standard deviation: the classifier's tolerance is on
probabilities (scale 1), a regressor's values carry the target's units.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from tabml.data.profile import Features
from tabml.model.features import model_frame
from tabml.packaging.onnx_export import ParityError, convert
from tabml.scoring.model import PackagedModel


def to_onnx_regressor_bytes(pipeline: Any, features: Features) -> bytes:
    """Convert a fitted scikit-learn regression pipeline to ONNX (output `variable`)."""
    return convert(pipeline, features, {"tabml.task": "regression"})


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
    pipeline: Any, model: PackagedModel, data: Any, features: Features, atol: float, rtol: float
) -> RegressionParityReport:
    """Compare ONNX (through the runtime's input path) and scikit-learn on `data`.

    Raises:
        ParityError: a row differs by more than `atol + rtol * |expected|`.
    """
    frame = model_frame(data, features)
    expected = np.asarray(pipeline.predict(frame), dtype=np.float64)
    (got,) = model.predict(model.inputs(data).checked())
    got = got.astype(np.float64).reshape(-1)
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
