"""Tasks as types, at run time: what a model's outputs are and how each surface shows them.

A packaged model's metadata names its task once; `task_for` turns it into a `Classification`
or a `Regression`, and every surface asks that object instead of comparing strings: the
ONNX outputs to read, the API answer and its JSON schema, the request log's fields, the batch
table's columns, what an explanation explains and what a feedback label is. The training side
of a task (fitting, metrics, plots, gates) is `tabml.model.tasks`, which builds on this one.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

from tabml.scoring.bounds import bounded_interval
from tabml.scoring.metadata import ModelMetadata


def proba_column(label: str) -> str:
    """Batch column of one class's probability: `proba_<label>` in lowercase snake case."""
    return "proba_" + (re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_") or "class")


class Task(Protocol):
    """What differs between tasks at run time; see the two implementations below."""

    name: str
    onnx_outputs: list[str]  # the ONNX outputs to read, in order
    classes: list[str]  # the labels a prediction names (none: the task predicts a number)

    def answers(self, outputs: Sequence[np.ndarray], target: str) -> list[dict]:
        """One answer dict per row (without warnings, ids or explanations)."""

    def answer_schema(self, target: str) -> dict:
        """JSON schema of one answer's task-specific fields (OpenAPI)."""

    def describe(self) -> str:
        """What the model predicts, for the API's description."""

    def logged(self, answer: Mapping[str, Any], target: str) -> dict:
        """The request log's prediction fields of one answer."""

    def logged_columns(self) -> dict[str, str]:
        """Batch column -> request-log key of what an answer logs beside its prediction (the
        monitor reads both sources into one frame with these columns)."""

    def batch_columns(self) -> list[tuple[str, Literal["text", "float"]]]:
        """The batch `prediction_rows` columns of a prediction (after id and key)."""

    def batch_values(self, outputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """One array per batch column, for the rows of `outputs`."""

    def explained(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        """[N, K] numbers an explanation may explain (K classes, or the one value)."""

    def explanation_head(self, index: int) -> dict:
        """What an explanation says it explains, given the column chosen in `explained`."""

    def feedback_label(self) -> Any:
        """The type of a true label sent to /feedback (a class, or a number)."""


class Classification:
    """Label and class probabilities (classes in the metadata's order)."""

    name: ClassVar[str] = "classification"
    onnx_outputs: ClassVar[list[str]] = ["label", "probabilities"]

    def __init__(self, classes: Sequence[str], threshold: float | None = None):
        self.classes = list(classes)
        self.threshold = threshold  # binary: label by the second class's probability

    @classmethod
    def from_metadata(cls, metadata: ModelMetadata) -> "Classification":
        return cls(metadata.classes, metadata.decision_threshold)

    def _labels(self, outputs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The graph's argmax labels, or the decision threshold's (serving and batch alike)."""
        labels, proba = outputs
        if self.threshold is not None:
            high = np.asarray(proba)[:, 1] >= self.threshold
            labels = np.where(high, self.classes[1], self.classes[0]).astype(object)
        return labels, proba

    def answers(self, outputs: Sequence[np.ndarray], target: str) -> list[dict]:
        labels, proba = self._labels(outputs)
        classes = self.classes
        # One tolist() per batch: a numpy row per record costs more than its dict.
        return [
            {target: str(label), "probabilities": dict(zip(classes, row, strict=True))}
            for label, row in zip(labels.tolist(), proba.tolist(), strict=True)
        ]

    def answer_schema(self, target: str) -> dict:
        return {
            target: {"type": "string", "enum": self.classes, "description": f"predicted {target}"},
            "probabilities": {
                "type": "object",
                "description": "probability of each class",
                "properties": {label: {"type": "number"} for label in self.classes},
                "required": self.classes,
            },
        }

    def describe(self) -> str:
        return ", ".join(self.classes)

    def logged(self, answer: Mapping[str, Any], target: str) -> dict:
        return {
            "prediction_id": answer.get("prediction_id"),
            "predicted": answer.get(target),
            "probabilities": answer.get("probabilities"),
        }

    def logged_columns(self) -> dict[str, str]:
        return {proba_column(name): f"probabilities.{name}" for name in self.classes}

    def batch_columns(self) -> list[tuple[str, Literal["text", "float"]]]:
        return [("label", "text"), *((proba_column(c), "float") for c in self.classes)]

    def batch_values(self, outputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        labels, proba = self._labels(outputs)
        return [labels, *proba.T.astype(np.float64)]

    def explained(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        return np.asarray(outputs[1], dtype=np.float64)

    def explanation_head(self, index: int) -> dict:
        return {"class": self.classes[index]}

    def feedback_label(self) -> Any:
        return Literal[tuple(self.classes)]


class Regression:
    """A value and its split-conformal prediction interval (value +/- half-width)."""

    name: ClassVar[str] = "regression"
    onnx_outputs: ClassVar[list[str]] = ["variable"]  # skl2onnx's name for a regressor's
    classes: ClassVar[list[str]] = []  # it predicts a number, not a class
    INTERVAL: ClassVar[tuple[str, str]] = ("interval_low", "interval_high")

    def __init__(
        self, half_width: float, level: float, low: float | None = None, high: float | None = None
    ):
        self.half_width, self.level = float(half_width), float(level)
        self.low, self.high = low, high  # the target's physical range (None: unbounded)

    @classmethod
    def from_metadata(cls, metadata: ModelMetadata) -> "Regression":
        interval = metadata.prediction_interval
        return cls(interval.half_width, interval.level, interval.min, interval.max)

    def _values(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        # float64 before the arithmetic: the interval ends are exactly value -/+ half-width.
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1)

    def bounded(self, raw: np.ndarray) -> list[np.ndarray]:
        """Value, interval low, interval high, each clipped to the target's range."""
        return bounded_interval(raw, self.half_width, self.low, self.high)

    def answers(self, outputs: Sequence[np.ndarray], target: str) -> list[dict]:
        values, lows, highs = (v.tolist() for v in self.bounded(self._values(outputs)))
        return [
            {target: value, "interval": [low, high]}
            for value, low, high in zip(values, lows, highs, strict=True)
        ]

    def answer_schema(self, target: str) -> dict:
        return {
            target: {"type": "number", "description": f"predicted {target}"},
            "interval": {
                "type": "array",
                "description": f"{self.level:.0%} prediction interval [low, high] (split "
                "conformal)",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
            },
        }

    def describe(self) -> str:
        return f"a number, with a {self.level:.0%} prediction interval"

    def logged(self, answer: Mapping[str, Any], target: str) -> dict:
        low, high = answer["interval"]
        return {
            "prediction_id": answer.get("prediction_id"),
            "predicted": answer.get(target),
            "interval_low": low,
            "interval_high": high,
        }

    def logged_columns(self) -> dict[str, str]:
        return {name: name for name in self.INTERVAL}

    def batch_columns(self) -> list[tuple[str, Literal["text", "float"]]]:
        return [("prediction", "float"), *((name, "float") for name in self.INTERVAL)]

    def batch_values(self, outputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.bounded(self._values(outputs))

    def explained(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        return self._values(outputs).reshape(-1, 1)

    def explanation_head(self, index: int) -> dict:
        return {}

    def feedback_label(self) -> Any:
        return float


# Adding a task: a class like the two above (and its training side in tabml.model.tasks),
# listed here and in ModelMetadata.task.
TASKS: dict[str, Any] = {task.name: task for task in (Classification, Regression)}


def task_for(metadata: ModelMetadata) -> Task:
    """The task a packaged model's metadata names (the one place that reads the name)."""
    return TASKS[metadata.task].from_metadata(metadata)
