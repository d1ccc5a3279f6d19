"""Tasks as types, in monitoring: what a labelled window of each task reports, and how.

`monitor_task(task)` picks the half that `make monitor` needs for the packaged model's task
(`tabml.scoring.task`): whether true labels are numbers, the per-version report (a
classifier: accuracy, macro F1, log loss, calibration against floors; a regression model:
rmse, mae, interval coverage against ceilings and a coverage floor) and its section of
reports/monitor/report.md. The gates' limits come in from `make monitor` (the dataset's, as
`make gate` applies them): a classifier reads their `min`, a regression model their `max`.
"""

from typing import Any, ClassVar, Protocol

import pandas as pd

from tabml.monitoring import live_report, monitor_files, regression_report
from tabml.params import GatesParams, Params
from tabml.scoring.metadata import ModelMetadata
from tabml.scoring.task import Task


class MonitorTask(Protocol):
    name: str
    numeric_labels: bool  # true labels are numbers (read as float64, non-numbers skipped)

    def versions(
        self, joined: pd.DataFrame, models: dict[str, ModelMetadata], task: Task,
        window: pd.Timedelta, params: Params, gates: GatesParams | None,
    ) -> dict[str, dict]: ...  # fmt: skip

    def section(self, version: str, found: dict) -> list[str]: ...


class ClassificationMonitor:
    name: ClassVar[str] = "classification"
    numeric_labels = False

    def versions(self, joined, models, task, window, params, gates) -> dict[str, dict]:
        floors = (gates or params.gates).min
        return live_report.live_report(
            joined, models, task.classes, window, params.monitor, floors, params.drift
        )

    def section(self, version: str, found: dict) -> list[str]:
        return monitor_files.classification_section(version, found)


class RegressionMonitor:
    name: ClassVar[str] = "regression"
    numeric_labels = True

    def versions(self, joined, models, task, window, params, gates) -> dict[str, dict]:
        ceilings = (gates or params.regression.gates).max
        return regression_report.live_report(
            joined, models, window, params.monitor, ceilings, params.drift
        )

    def section(self, version: str, found: dict) -> list[str]:
        return monitor_files.regression_section(version, found)


TASKS: dict[str, Any] = {task.name: task() for task in (ClassificationMonitor, RegressionMonitor)}


def monitor_task(task: Task) -> MonitorTask:
    """The monitoring half of a packaged model's task."""
    return TASKS[task.name]
