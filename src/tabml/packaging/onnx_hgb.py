"""An exact ONNX converter for scikit-learn's HistGradientBoosting estimators.

skl2onnx (1.20) converts them with its random-forest converter, with two defects this module
works around until a release with the fixes can be locked:

- its leaves pass Python `False` in `nodes_missing_value_tracks_true`, which protobuf >= 5
  refuses in an int list ("Expected an int, got a boolean"): no conversion at all;
- scikit-learn routes `float64(x) <= t`, ONNX `x <= float32(t)`: where `float32(t)` rounds up,
  rows between the two go the other way (probabilities off by ~2e-3 on penguins, which the
  parity check refuses). The converter exports a copy whose thresholds are floored to the
  largest float32 `<= t`: for float32 inputs (the model frame's numbers) the same test, so no
  scikit-learn prediction changes (skl2onnx does this upstream after 1.20).

Measured parity with both fixes: <= 1.8e-6 on seven benchmark tables (docs/benchmarks.md).
"""

import copy
from typing import Any

import numpy as np


def float32_thresholds(model: Any) -> Any:
    """A copy of a fitted HistGradientBoosting model whose split thresholds are float32 numbers."""
    model = copy.deepcopy(model)
    for predictors in model._predictors:
        for predictor in predictors:
            branch = ~predictor.nodes["is_leaf"].astype(bool)
            t = predictor.nodes["num_threshold"][branch]
            t32 = t.astype(np.float32)
            above = t32.astype(np.float64) > t
            t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
            predictor.nodes["num_threshold"][branch] = t32.astype(np.float64)
    return model


def _exact(original: Any, floor: bool) -> Any:
    """skl2onnx's converter `original`, given int flags and (if `floor`) float32 thresholds."""

    def convert(scope, operator, container):
        model, add_node = operator.raw_operator, container.add_node

        def add_int_flags(*args, **attrs):
            flags = attrs.get("nodes_missing_value_tracks_true")
            if flags is not None:
                attrs["nodes_missing_value_tracks_true"] = [int(f) for f in flags]
            return add_node(*args, **attrs)

        exported = float32_thresholds(model) if floor else model
        operator.raw_operator, container.add_node = exported, add_int_flags
        try:
            original(scope, operator, container)
        finally:
            operator.raw_operator, container.add_node = model, add_node

    return convert


def register_exact_hgb(threshold_fix: bool = True) -> None:
    """Register the exact converter for both estimators (skl2onnx's own options).

    `threshold_fix=False` keeps only the protobuf fix (the model benchmark measures what the
    threshold fix is worth).
    """
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from skl2onnx.operator_converters.random_forest import (
        convert_sklearn_random_forest_classifier,
        convert_sklearn_random_forest_regressor_converter,
    )
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    update_registered_converter(
        HistGradientBoostingClassifier,
        "SklearnHistGradientBoostingClassifier",
        calculate_linear_classifier_output_shapes,
        _exact(convert_sklearn_random_forest_classifier, threshold_fix),
        options={
            "zipmap": [True, False, "columns"],
            "raw_scores": [True, False],
            "output_class_labels": [False, True],
            "nocl": [True, False],
        },
    )
    update_registered_converter(
        HistGradientBoostingRegressor,
        "SklearnHistGradientBoostingRegressor",
        calculate_linear_regressor_output_shapes,
        _exact(convert_sklearn_random_forest_regressor_converter, threshold_fix),
        options={"raw_scores": [True, False]},
    )
