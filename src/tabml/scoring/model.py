"""The packaged model at run time: one object for serving, batch, monitoring and retraining.

`PackagedModel` is loaded once, from the exported bento (`load_packaged`) or a BentoML store
entry (`from_store`): an onnxruntime session over the ONNX bytes, the typed metadata record
(`tabml.scoring.metadata.ModelMetadata`), the task it names (`tabml.scoring.task`) and the
one input path (`inputs`: records or a frame -> checked, normalised inputs and ONNX feeds).
Nothing else in the repository builds ONNX feeds or runs the session
(tests/unit/test_layout.py checks it). It needs no scikit-learn and no pickle.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd

from tabml.scoring.inputs import InputRules, Inputs
from tabml.scoring.metadata import MetadataError, ModelMetadata, read_metadata
from tabml.scoring.packaged import ONNX_FILE, PackagedModelError, read_model
from tabml.scoring.range_warnings import RangeWarnings
from tabml.scoring.task import Task, task_for


def _session(onnx_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # One request is a few microseconds of work: extra threads only add hand-off cost.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


class PackagedModel:
    """An ONNX model with its metadata, task and input path."""

    def __init__(
        self, onnx_bytes: bytes, metadata: ModelMetadata | Mapping[str, Any], version: str = ""
    ):
        self.metadata = (
            metadata if isinstance(metadata, ModelMetadata) else read_metadata(metadata, version)
        )
        self.version = version  # the BentoML model tag, e.g. tabml_model:44799dbe883b456f
        self.session = _session(onnx_bytes)
        meta = self.session.get_modelmeta().custom_metadata_map
        rules = InputRules(tuple(self.metadata.domain_rules), meta["tabml.missing_category"])
        numeric = json.loads(meta["tabml.numeric"])
        categorical = json.loads(meta["tabml.categorical"])
        expected = [*rules.model_numeric, *rules.categorical]
        if [*numeric, *categorical] != expected:
            raise MetadataError(
                f"{version or 'the model'}: its ONNX inputs {[*numeric, *categorical]} are not "
                f"the inputs its domain rules give {expected}"
            )
        self.input_rules = rules
        # skl2onnx sanitises input names (e.g. "a/b" -> "a_b"); inputs keep the feature order.
        names = [i.name for i in self.session.get_inputs()]
        self.input_of = dict(zip([*numeric, *categorical], names, strict=True))
        self.task: Task = task_for(self.metadata)
        self.warnings = RangeWarnings(self.metadata.training_stats)

    @property
    def target(self) -> str:
        return self.metadata.target

    @property
    def rules(self):
        return self.metadata.domain_rules

    def inputs(self, data: pd.DataFrame | Sequence[Mapping[str, Any]]) -> Inputs:
        """The one input path: records or a frame -> checked, normalised inputs and feeds."""
        return self.input_rules.read(data, self.input_of)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The task's ONNX outputs for `feeds` (built by `inputs`, or coalitions of them).

        A single row is scored as a batch of two (the row twice): onnxruntime's one-row path
        (a matrix-vector product) can differ from its batch path in the last float32 bit, and
        a row's answer must not depend on which rows it was scored with (online requests
        batched together, batch scoring, the parity check).
        """
        rows = len(next(iter(feeds.values())))
        if rows == 1:
            feeds = {name: np.repeat(value, 2, axis=0) for name, value in feeds.items()}
        return self._outputs(feeds, rows)

    def predict(self, inputs: Inputs) -> list[np.ndarray]:
        """The task's outputs for every row of `inputs` (check `inputs.problems` first)."""
        if inputs.rows == 1:  # as `run` does, with the row doubled as the feeds are made
            return self._outputs(inputs.repeated_feeds(2), 1)
        return self._outputs(inputs.feeds, inputs.rows)

    def _outputs(self, feeds: Mapping[str, np.ndarray], rows: int) -> list[np.ndarray]:
        outputs = self.session.run(self.task.onnx_outputs, dict(feeds))
        return [output[:rows] for output in outputs]

    def score(self, records: Sequence[Mapping[str, Any]]) -> list[dict]:
        """One answer per record, in order: the task's fields and the range warnings.

        Raises:
            InputError: a record breaks the domain rules (the API's request model refuses
                those before they get here).
        """
        inputs = self.inputs(records).checked()
        answers = self.task.answers(self.predict(inputs), self.metadata.target)
        for answer, warnings in zip(answers, self.warnings.for_inputs(inputs), strict=True):
            answer["warnings"] = warnings
        return answers


def load_packaged(onnx_path: Path, bento_path: Path) -> PackagedModel:
    """The workspace's ONNX model with the metadata and tag stored beside it in the bento.

    Raises:
        PackagedModelError: no model, or the ONNX file is not the one packaged in the bento.
    """
    info, packaged_onnx = read_model(bento_path)
    try:
        onnx_bytes = Path(onnx_path).read_bytes()
    except OSError as err:
        raise PackagedModelError(f"no packaged model ({onnx_path}): run `make repro`") from err
    if onnx_bytes != packaged_onnx:
        raise PackagedModelError(f"{onnx_path} is not the model in {bento_path}: run `make repro`")
    return PackagedModel(onnx_bytes, info["metadata"], f"{info['name']}:{info['version']}")


def from_store(stored: Any) -> PackagedModel:
    """The model of a BentoML model store entry (what the service loads)."""
    onnx_bytes = Path(stored.path_of(ONNX_FILE)).read_bytes()
    return PackagedModel(onnx_bytes, stored.info.metadata, str(stored.tag))
