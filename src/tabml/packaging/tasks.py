"""Tasks as types, at package time: ONNX conversion, the parity check, what the task adds to
the model's metadata, and the model card's task section.

The package stage asks `packaging_task(profile)` (chosen once, like `tabml.model.tasks`):
- a classifier converts with class probabilities, checks labels and probabilities, records
  its classes, and its card gives accuracy and macro F1 with intervals;
- a regression model is refused first if its interval's test coverage is off, converts to
  one value per row, checks values within `atol + rtol * |value|`, records its interval.
"""

from typing import Any, ClassVar, Protocol

import numpy as np

from tabml.data.profile import DatasetProfile
from tabml.monitoring.live_metrics import wilson_interval
from tabml.packaging.model_card import bootstrap_f1_interval
from tabml.packaging.onnx_export import check_parity, to_onnx_bytes
from tabml.packaging.onnx_regression import check_regression_parity, to_onnx_regressor_bytes
from tabml.params import Params
from tabml.scoring.model import PackagedModel


class PackagingTask(Protocol):
    name: str

    def check_before_converting(self, metrics: dict, training: dict, params: Params) -> None:
        """Refuse a model the task cannot ship (raise a TabmlError)."""

    def to_onnx(self, pipeline: Any, profile: DatasetProfile) -> bytes: ...

    def metadata(self, pipeline: Any, training: dict) -> dict:
        """The task's fields of `ModelMetadata` (task, classes or prediction interval)."""

    def check_parity(
        self, pipeline: Any, model: PackagedModel, test: Any, profile: DatasetProfile,
        params: Params, training: dict,
    ) -> Any: ...  # fmt: skip

    def card_section(self, card: Any) -> tuple[str, dict]:
        """The card's task sentence and {metric: ((low, high), method)} intervals."""

    def answers_tolerance(self, params: Params, scale: float) -> float:
        """How far a rebuilt model's answers may move and still be the same model (`make
        canary`): the parity tolerance, on answers whose largest magnitude is `scale`."""


class ClassificationPackaging:
    name: ClassVar[str] = "classification"

    def check_before_converting(self, metrics: dict, training: dict, params: Params) -> None:
        return None

    def to_onnx(self, pipeline: Any, profile: DatasetProfile) -> bytes:
        return to_onnx_bytes(pipeline, profile.features)

    def metadata(self, pipeline: Any, training: dict) -> dict:
        threshold = training.get("decision", {}).get("threshold")  # a binary decision's
        return {
            "task": self.name,
            "classes": [str(c) for c in pipeline.classes_],
            "decision_threshold": threshold,
        }

    def check_parity(self, pipeline, model, test, profile, params, training) -> Any:
        tolerance = params.package.parity_tolerance
        return check_parity(pipeline, model, test, profile.features, tolerance)

    def answers_tolerance(self, params: Params, scale: float) -> float:
        return params.package.parity_tolerance  # on probabilities: absolute

    def card_section(self, card: Any) -> tuple[str, dict]:
        y_true, predicted = np.asarray(card.y_true), np.asarray(card.predicted)
        accuracy = wilson_interval(int((y_true == predicted).sum()), len(y_true))
        f1 = bootstrap_f1_interval(y_true, predicted, card.params.train.seed)
        classes = ", ".join(f"`{c}`" for c in card.classes)
        text = f"Classification of `{card.profile.target}` into {len(card.classes)} classes: "
        return text + classes + ".", {
            "accuracy": (accuracy, "Wilson"),
            "f1_macro": (f1, "bootstrap"),
        }


class RegressionPackaging:
    name: ClassVar[str] = "regression"

    def check_before_converting(self, metrics: dict, training: dict, params: Params) -> None:
        from tabml.model.intervals import check_coverage

        level = training["regression"]["interval"]["level"]
        check_coverage(metrics, level, params.regression.coverage_tolerance)

    def to_onnx(self, pipeline: Any, profile: DatasetProfile) -> bytes:
        return to_onnx_regressor_bytes(pipeline, profile.features)

    def metadata(self, pipeline: Any, training: dict) -> dict:
        return {"task": self.name, "prediction_interval": training["regression"]["interval"]}

    def check_parity(self, pipeline, model, test, profile, params, training) -> Any:
        # the classifier's tolerance is on probabilities (scale 1); values have the target's
        atol = params.package.parity_tolerance * training["regression"]["target"]["std"]
        rtol = params.regression.parity_rtol
        return check_regression_parity(pipeline, model, test, profile.features, atol, rtol)

    def answers_tolerance(self, params: Params, scale: float) -> float:
        return params.regression.parity_rtol * max(1.0, scale)  # on values: relative

    def card_section(self, card: Any) -> tuple[str, dict]:
        level = card.params.regression.interval_level
        return (
            f"Regression of `{card.profile.target}`, with a split-conformal prediction "
            f"interval ({level:.0%} nominal coverage) on every answer.",
            {},
        )


TASKS: dict[str, PackagingTask] = {
    task.name: task() for task in (ClassificationPackaging, RegressionPackaging)
}


def packaging_task(profile: DatasetProfile) -> PackagingTask:
    """The task the profile names, as the package stage needs it."""
    return TASKS[profile.task]
