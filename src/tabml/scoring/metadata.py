"""The typed records that travel with a packaged model: its metadata and training statistics.

The package stage writes `ModelMetadata` into the BentoML model store entry (and so into the
exported bento); serving, batch scoring, monitoring and retraining read it back through
`read_metadata`, which validates it, so a missing or mistyped key is one error line at load
time instead of a KeyError in the middle of a request. `TrainingStatistics` is
`models/training_stats.json` (the train stage writes it, drift and warnings read it).

`schema_version` says which layout a record has: absent (0) in models packaged before the
record existed, which still load; a record from a newer tabml is refused.
"""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tabml.errors import TabmlError, describe_errors
from tabml.scoring.entities import EntityJoin
from tabml.scoring.rules import DomainRule

SCHEMA_VERSION = 1
TaskName = Literal["classification", "regression"]


class MetadataError(TabmlError, ValueError):
    """A packaged model's metadata (or training statistics) is not what this runtime reads."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bins(_Record):
    edges: list[float]
    shares: list[float]


class NumericStats(_Record):
    """What training saw of one numeric model input (a date part counts as one)."""

    min: float
    max: float
    mean: float
    std: float
    missing_share: float
    quantiles: dict[str, float]  # "0.01" ... "0.99"
    percentiles: list[float]  # the CDF at tabml.binning.CDF_POINTS points (KS test)
    bins: Bins  # PSI bins: decile edges and the training share in each


class CategoryStats(_Record):
    categories: list[str]
    shares: dict[str, float]
    missing_share: float


class DateStats(_Record):
    parts: list[str]
    format: str | None = None


class TargetSummary(_Record):
    mean: float
    std: float
    min: float
    max: float


class PredictionInterval(_Record):
    """A regression model's conformal interval: prediction +/- half_width (method `cv`:
    k-fold out-of-fold residuals; `split_conformal`: a held-out share)."""

    method: str = "split_conformal"
    level: float
    half_width: float
    calibration_rows: int
    fit_rows: int
    # the target's physical range (profile `target_bounds`): values and ends clipped to it
    min: float | None = None
    max: float | None = None


class RegressionStats(_Record):
    target: TargetSummary
    interval: PredictionInterval


class ModelChoice(_Record):
    """Which family was fitted; for `train.model: auto`, the CV scores it was chosen by."""

    family: str
    requested: str
    metric: str | None = None
    cv: dict[str, float] | None = None
    skipped: str | None = None  # why the auto check could not cross-validate


class TrainingStatistics(_Record):
    """`models/training_stats.json`: per model input, what the training split held."""

    rows: int
    target: str
    numeric: dict[str, NumericStats]
    categorical: dict[str, CategoryStats]
    # date column -> its parts (older files: a list of parts) and format
    dates: dict[str, DateStats | list[str]] | None = None
    regression: RegressionStats | None = None
    model: ModelChoice | None = None  # older files: none
    decision: dict[str, float | str] | None = None  # a binary decision threshold's choice

    def date_specs(self) -> dict[str, DateStats]:
        """The date columns and what they became (ISO8601 where no format was written)."""
        return {
            column: spec if isinstance(spec, DateStats) else DateStats(parts=list(spec))
            for column, spec in (self.dates or {}).items()
        }


class ModelMetadata(_Record):
    """Everything serving needs besides the ONNX file, plus the model's provenance."""

    schema_version: int = Field(0, ge=0, le=SCHEMA_VERSION)
    task: TaskName = "classification"
    target: str
    classes: list[str] | None = None  # a classifier's labels, in probability column order
    # binary: the second class where its probability reaches this (tabml.model.threshold)
    decision_threshold: float | None = None
    prediction_interval: PredictionInterval | None = None  # a regression model's
    domain_rules: list[DomainRule]
    training_stats: TrainingStatistics
    max_records: int = Field(ge=1)
    max_field_errors: int = Field(20, ge=1)
    params: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    parity_tolerance: float
    # Content ids of the served code, not the HEAD commit (docs/serving.md).
    git_blob_shas: dict[str, str] = {}
    model_card: str | None = None
    # Entity tables whose features the service looks up by key (docs/entity-features.md).
    entities: EntityJoin | None = None

    @model_validator(mode="after")
    def _task_has_its_parts(self) -> "ModelMetadata":
        if self.task == "classification" and not self.classes:
            raise ValueError("a classification model lists its classes")
        if self.task == "regression" and self.prediction_interval is None:
            raise ValueError("a regression model has a prediction_interval")
        return self

    @property
    def profile(self) -> str | None:
        """The dataset profile the model was trained on (params' data.profile)."""
        return (self.params.get("data") or {}).get("profile")

    def to_store(self) -> dict:
        """The JSON-able dict the model store keeps (no None values: BentoML refuses them)."""
        return self.model_dump(mode="json", exclude_none=True)


def read_metadata(data: Mapping[str, Any], where: str = "the packaged model") -> ModelMetadata:
    """Validate a stored metadata dict.

    Raises:
        MetadataError: naming every key that is missing or of the wrong type.
    """
    version = data.get("schema_version", 0) if isinstance(data, Mapping) else 0
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise MetadataError(
            f"{where} was packaged by a newer tabml (metadata version {version}, this one "
            f"reads up to {SCHEMA_VERSION}): update tabml or package it again (`make repro`)"
        )
    try:
        return ModelMetadata.model_validate(data)
    except ValidationError as err:
        raise MetadataError(f"{where}: metadata {describe_errors(err)}") from None


def read_training_stats(data: Mapping[str, Any], where: str) -> TrainingStatistics:
    """Validate a training statistics dict (models/training_stats.json)."""
    try:
        return TrainingStatistics.model_validate(data)
    except ValidationError as err:
        raise MetadataError(f"{where}: {describe_errors(err)}") from None
