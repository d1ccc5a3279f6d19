"""The model at run time: an onnxruntime session fed with records or a frame.

Needs only the `.onnx` bytes (class labels and feature order are in the file's metadata):
no scikit-learn, no pickle. Serving and batch scoring both use it.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnxruntime as ort

from tabml.scoring.checks import distinct_codes

LABEL_OUTPUT, PROBA_OUTPUT = "label", "probabilities"


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
