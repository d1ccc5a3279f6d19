"""The model as ONNX: conversion, the parity check, and a small onnxruntime wrapper.

Serving and batch scoring use `OnnxClassifier` alone: it needs neither scikit-learn nor
pickle, only the `.onnx` bytes. Conversion and the parity check run once, in the package stage.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort

from tabml.dataset import Features
from tabml.inputs import distinct_codes

# Pinned so the same scikit-learn pipeline always gives the same ONNX bytes.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
LABEL_OUTPUT, PROBA_OUTPUT = "label", "probabilities"


class ParityError(ValueError):
    """The ONNX model does not reproduce scikit-learn's predictions on the test set."""


def to_onnx_bytes(pipeline: Any, features: Features) -> bytes:
    """Convert a fitted scikit-learn pipeline to ONNX (one [N, 1] input per feature).

    Class labels and feature order are stored in the model's metadata, so the file is
    self-describing.
    """
    # Imported here: serving loads this module and needs neither skl2onnx nor scikit-learn.
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    from tabml.features import MISSING_CATEGORY

    initial_types = [(name, FloatTensorType([None, 1])) for name in features.numeric]
    initial_types += [(name, StringTensorType([None, 1])) for name in features.categorical]
    model = to_onnx(
        pipeline,
        initial_types=initial_types,
        options={id(pipeline): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    meta = {
        "tabml.classes": json.dumps([str(c) for c in pipeline.classes_]),
        "tabml.numeric": json.dumps(features.numeric),
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
    pipeline: Any, model: "OnnxClassifier", frame: Any, tolerance: float
) -> ParityReport:
    """Compare ONNX and scikit-learn on `frame` (the model frame of the test set).

    Raises:
        ParityError: any label differs, or any probability differs by more than `tolerance`.
    """
    expected_labels = np.asarray(pipeline.predict(frame)).astype(str)
    expected_proba = pipeline.predict_proba(frame)
    labels, proba = model.predict(model.feeds_from_frame(frame))
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


class OnnxClassifier:
    """An ONNX classifier fed with records (mappings) or a model frame."""

    def __init__(self, onnx_bytes: bytes):
        options = ort.SessionOptions()
        # One request is a few microseconds of work: extra threads only add hand-off cost.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.classes: list[str] = json.loads(meta["tabml.classes"])
        self.numeric: list[str] = json.loads(meta["tabml.numeric"])
        self.categorical: list[str] = json.loads(meta["tabml.categorical"])
        self.missing_category: str = meta["tabml.missing_category"]
        # skl2onnx sanitises input names (e.g. "a/b" -> "a_b"); inputs keep the feature order.
        inputs = [i.name for i in self.session.get_inputs()]
        self.input_of = dict(zip([*self.numeric, *self.categorical], inputs, strict=True))

    @classmethod
    def from_file(cls, path: Any) -> "OnnxClassifier":
        with open(path, "rb") as handle:
            return cls(handle.read())

    def feeds_from_records(self, records: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Input tensors from validated records; None becomes NaN or the missing category."""
        feeds = {}
        for name in self.numeric:  # numpy turns None into NaN for float dtypes
            values = np.array([r[name] for r in records], dtype=np.float32)
            feeds[self.input_of[name]] = values.reshape(-1, 1)
        missing = self.missing_category
        for name in self.categorical:
            texts = [missing if r[name] is None else str(r[name]) for r in records]
            feeds[self.input_of[name]] = np.array(texts, dtype=object).reshape(-1, 1)
        return feeds

    def feeds_from_frame(self, frame: Any) -> dict[str, np.ndarray]:
        """Input tensors from a pandas frame (missing values become NaN / the missing category)."""
        feeds = {}
        for name in self.numeric:
            column = frame[name].to_numpy(dtype=np.float32, na_value=np.nan)
            feeds[self.input_of[name]] = column.reshape(-1, 1)
        for name in self.categorical:
            # Convert each distinct value once (batch scoring feeds a million rows at a time).
            codes, uniques = distinct_codes(frame[name])
            texts = np.array([*(str(u) for u in uniques), self.missing_category], dtype=object)
            feeds[self.input_of[name]] = texts[codes].reshape(-1, 1)
        return feeds

    def predict(self, feeds: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Labels [N] and class probabilities [N, classes] (columns in `self.classes` order).

        A single row is scored as a batch of two (the row twice): onnxruntime's one-row path
        (a matrix-vector product) can differ from its batch path in the last float32 bit, and
        a row's answer must not depend on which rows it was scored with (online requests
        batched together, batch scoring, the parity check).
        """
        rows = len(next(iter(feeds.values())))
        if rows == 1:
            feeds = {name: np.repeat(value, 2, axis=0) for name, value in feeds.items()}
        labels, proba = self.session.run([LABEL_OUTPUT, PROBA_OUTPUT], dict(feeds))
        return labels[:rows], proba[:rows]
