"""Build-time ONNX: convert the fitted scikit-learn pipeline and check that ONNX agrees with it.

Runs once, in the package stage. The shipped runtime reads the result with
`tabml.scoring.model.PackagedModel`, which needs neither scikit-learn nor pickle; the parity
check scores the test rows through its input path, as serving and batch scoring do.
"""

import importlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from tabml.data.profile import Features
from tabml.errors import TabmlError
from tabml.model.families import FAMILIES
from tabml.model.features import model_frame
from tabml.scoring.inputs import MISSING_CATEGORY
from tabml.scoring.model import PackagedModel

# Pinned so the same scikit-learn pipeline always gives the same ONNX bytes.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


class ParityError(TabmlError, ValueError):
    """The ONNX model does not reproduce scikit-learn's predictions on the test set."""


def convert(pipeline: Any, features: Features, extra_meta: dict[str, str], **options) -> bytes:
    """A fitted scikit-learn pipeline as self-describing ONNX bytes (one [N, 1] input per feature).

    Feature order, the missing-category token and `extra_meta` (e.g. the class labels) go into
    the model's metadata; `options` pass on to skl2onnx's `to_onnx`.
    """
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    for family in FAMILIES.values():  # converters skl2onnx lacks or gets wrong
        if family.onnx_converter is not None:
            module, function = family.onnx_converter.split(":")
            getattr(importlib.import_module(module), function)()
    # Dates reach the model as their derived numbers (Features.model_numeric).
    initial_types = [(name, FloatTensorType([None, 1])) for name in features.model_numeric]
    initial_types += [(name, StringTensorType([None, 1])) for name in features.categorical]
    model = to_onnx(pipeline, initial_types=initial_types, target_opset=TARGET_OPSET, **options)
    meta = {
        **extra_meta,
        "tabml.numeric": json.dumps(features.model_numeric),
        "tabml.categorical": json.dumps(features.categorical),
        "tabml.missing_category": MISSING_CATEGORY,
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    # skl2onnx lists the opset domains in set order, which follows PYTHONHASHSEED: sorted,
    # the bytes (and dvc.lock) are the same whatever the seed.
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    del model.opset_import[:]
    for domain, version in opsets:
        model.opset_import.add(domain=domain, version=version)
    return model.SerializeToString()


def to_onnx_bytes(pipeline: Any, features: Features) -> bytes:
    """Convert a fitted scikit-learn classification pipeline to ONNX (labels + probabilities).

    Class labels and feature order are stored in the model's metadata, so the file is
    self-describing.
    """
    classes = {"tabml.classes": json.dumps([str(c) for c in pipeline.classes_])}
    return convert(pipeline, features, classes, options={id(pipeline): {"zipmap": False}})


@dataclass(frozen=True)
class ParityReport:
    rows: int
    label_mismatches: int
    max_abs_diff: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.label_mismatches == 0 and self.max_abs_diff <= self.tolerance


def check_parity(
    pipeline: Any, model: PackagedModel, data: Any, features: Features, tolerance: float
) -> ParityReport:
    """Compare ONNX and scikit-learn on `data` (the test split as stored).

    scikit-learn sees training's model frame of it; ONNX gets it through the runtime's input
    path (`PackagedModel.inputs`), as a served record or a batch row would.

    Raises:
        ParityError: any label differs, or any probability differs by more than `tolerance`.
    """
    frame = model_frame(data, features)
    expected_labels = np.asarray(pipeline.predict(frame)).astype(str)
    expected_proba = pipeline.predict_proba(frame)
    labels, proba = model.predict(model.inputs(data).checked())
    report = ParityReport(
        rows=len(frame),
        label_mismatches=int((labels.astype(str) != expected_labels).sum()),
        max_abs_diff=float(np.abs(proba.astype(np.float64) - expected_proba).max(initial=0.0)),
        tolerance=tolerance,
    )
    if not report.ok:
        raise ParityError(
            f"ONNX model disagrees with scikit-learn on the test set ({report.rows} rows): "
            f"{report.label_mismatches} labels differ, max probability difference "
            f"{report.max_abs_diff:.3g} (tolerance {tolerance:g}). The model was not packaged; "
            "check that every pipeline step has an exact skl2onnx converter."
        )
    return report
