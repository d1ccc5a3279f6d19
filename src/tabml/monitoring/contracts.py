"""The typed records of what monitoring writes: the drift report and the monitor report.

One definition each. The writers check their dict against it before writing (a key renamed
in one place fails there, not in a reader weeks later), and readers (`read_drift_metrics`,
`read_monitor_report`, the dashboard) validate the file when they read it. A window's
metrics are the task's (accuracy and macro F1, or rmse and coverage: `tabml.monitoring.tasks`)
and stay open beside the fields every window has.
"""

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from tabml.errors import TabmlError, describe_errors

Verdict = Literal["ok", "warning", "drift"]


class ReportError(TabmlError, ValueError):
    """A report file is missing, not JSON, or not the record its reader expects."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureDrift(_Record):
    """One feature's measurements against training, and its verdict."""

    kind: Literal["numeric", "categorical"]
    psi: float
    missing_share: float
    verdict: Verdict
    reasons: list[str]
    # numeric features
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    outside_range_share: float | None = None
    non_finite_share: float | None = None
    mean: float | None = None
    # categorical features
    unseen_share: float | None = None
    unseen_categories: list[str] | None = None
    # the plot bins (in drift_report's result, not in metrics.json)
    bins: list[str] | None = None
    training_shares: list[float] | None = None
    production_shares: list[float] | None = None


class DriftReport(_Record):
    """`make drift`'s result: reports/drift/metrics.json (with its `source`)."""

    rows: int
    training_rows: int
    drifted: list[str]
    features: dict[str, FeatureDrift]
    source: str | None = None


class WindowDrift(_Record):
    status: Literal["ok", "warning", "drift", "skipped"]
    reason: str | None = None
    rows: int | None = None
    drifted: list[str] | None = None
    warnings: list[str] | None = None


class Window(BaseModel):
    """One window of one version; the task's metrics are the extra fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    start: str
    end: str
    predictions: int
    labelled: int
    coverage: float
    judged: bool
    breaches: list[str]
    drift: WindowDrift


class EstimatesTrust(_Record):
    """Whether a classifier's label-free estimates can be trusted: the calibration check of
    its newest window with enough labels (`tabml.monitoring.estimates.trust`)."""

    status: Literal["ok", "poor", "unchecked"]
    reason: str
    window: str | None = None


class VersionReport(_Record):
    reference: dict[str, Any] | None
    limits: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    windows: list[Window]
    verdict: Literal["ALERT", "OK", "NO VERDICT"]
    reasons: list[str]
    estimates: EstimatesTrust | None = None  # a classifier's (a regression model has none)
    registry_version: str | None  # v1.2.0 when the registry names the model tag
    retired: bool  # replaced by a later version and not in a stage: reported, not alerted on
    replaced_by: str | None  # the model tag that replaced it


class MonitorReport(_Record):
    """`make monitor`'s result: reports/monitor/windows.json."""

    task: Literal["classification", "regression"]
    window: str
    since: str | None
    predictions: int
    sources: str
    skipped_lines: int
    join: dict[str, int]
    versions: dict[str, VersionReport]
    # labels per source (`http`, `http:<name>`, `file:<name>`) and those left out
    labels_by_source: dict[str, int]
    excluded_sources: list[str]
    excluded_labels: int


Record = TypeVar("Record", bound=BaseModel)


def checked(record: type[Record], data: Any, where: str) -> Record:
    """`data` as `record`, or ReportError naming every key that does not fit."""
    try:
        return record.model_validate(data)
    except ValidationError as err:
        raise ReportError(f"{where}: {describe_errors(err)}") from None


def read_file(record: type[Record], path: Path) -> Record:
    """A report file validated as `record`."""
    import json

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ReportError(f"cannot read {path}: {err}") from None
    return checked(record, data, str(path))


def read_drift_metrics(path: Path) -> DriftReport:
    """reports/drift/metrics.json, validated."""
    return read_file(DriftReport, path)


def read_monitor_report(path: Path) -> MonitorReport:
    """reports/monitor/windows.json, validated."""
    return read_file(MonitorReport, path)
