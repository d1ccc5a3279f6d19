"""The benchmark's baseline: the real service with the model replaced by a constant answer.

Same request model, request gate (SERVICE_CONFIG's service class), header limits, request
log (with prediction ids), server settings and response shape as `tabml.service`, so the
throughput ratio between the two is the cost of the model alone (feeds, onnxruntime,
probabilities, training-range warnings). The request log belongs to the server, not the
model (it logs inputs, ids and answers); `make bench-serve` measures its own cost separately
(`model` vs `model-requestlog`).
"""

from typing import Any

import bentoml
import numpy as np

from tabml.scoring.prediction_ids import identify
from tabml.scoring.task import task_for
from tabml.serving.service import (
    METADATA,
    SERVICE_CONFIG,
    Answers,
    PredictRequest,
    ServedInputs,
    freeze_startup_heap,
)

# The task's answer shape with constant outputs: the first class for sure, or the value 0.
TASK = task_for(METADATA)
CLASSES = TASK.classes
OUTPUTS = [np.array([CLASSES[0]]), np.eye(1, len(CLASSES))] if CLASSES else [np.zeros(1)]
ANSWER = {**TASK.answers(OUTPUTS, METADATA.target)[0], "warnings": []}


@bentoml.service(**{**SERVICE_CONFIG, "name": "noop_service"})
class NoopService:
    def __init__(self) -> None:
        self.inputs = ServedInputs("noop", METADATA.target, TASK)
        freeze_startup_heap()

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(self, records: list[Any], explain: bool | int = False) -> Answers:
        rows = [record.model_dump(by_alias=True) for record in records]
        answers = identify([dict(ANSWER) for _ in rows], self.inputs.model_version)
        self.inputs.log(rows, answers)
        return answers

    @bentoml.on_shutdown
    def close_request_log(self) -> None:
        self.inputs.close()
