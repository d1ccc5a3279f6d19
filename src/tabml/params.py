"""Typed view of params.yaml: parsed once, unknown or missing keys are errors.

The defaults below are the values in the committed params.yaml (a test keeps them equal),
so code that builds `Params()` directly behaves exactly like the pipeline.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tabml import paths
from tabml.errors import TabmlError, describe_errors

ModelFamily = Literal["logistic_regression", "random_forest", "gradient_boosting"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(_Section):
    profile: str = "penguins"


class ValidateParams(_Section):
    min_rows: int = Field(20, ge=1)


class SplitParams(_Section):
    test_size: float = Field(0.3, gt=0.0, lt=1.0)
    seed: int = 42


class LogisticRegressionParams(_Section):
    C: float = Field(0.02, gt=0.0)
    max_iter: int = Field(1000, ge=1)


class RandomForestParams(_Section):
    n_estimators: int = Field(25, ge=1)
    max_depth: int | None = Field(2, ge=1)
    min_samples_leaf: int = Field(5, ge=1)


class GradientBoostingParams(_Section):
    n_estimators: int = Field(15, ge=1)
    learning_rate: float = Field(0.1, gt=0.0)
    max_depth: int = Field(1, ge=1)


class TrainParams(_Section):
    model: ModelFamily = "logistic_regression"
    seed: int = 42
    logistic_regression: LogisticRegressionParams = LogisticRegressionParams()
    random_forest: RandomForestParams = RandomForestParams()
    gradient_boosting: GradientBoostingParams = GradientBoostingParams()


# --- gates (experiments and review) ---
class GatesParams(_Section):
    """Metric gates: absolute floors/ceilings and the largest regression allowed vs a base."""

    min: dict[str, float] = {"accuracy": 0.85, "f1_macro": 0.85, "roc_auc_ovr": 0.95}
    max: dict[str, float] = {"log_loss": 0.6}
    max_regression: dict[str, float] = {
        "accuracy": 0.02,
        "f1_macro": 0.02,
        "roc_auc_ovr": 0.01,
        "log_loss": 0.05,
    }


# --- drift (production inputs vs the training profile; `make drift`) ---
class DriftParams(_Section):
    """Thresholds of the per-feature drift verdicts."""

    psi_warning: float = Field(0.1, ge=0.0)
    psi_drift: float = Field(0.25, ge=0.0)
    ks_alpha: float = Field(0.01, gt=0.0, lt=1.0)
    ks_min_statistic: float = Field(0.1, ge=0.0, le=1.0)
    max_outside_range_share: float = Field(0.05, ge=0.0, le=1.0)
    max_unseen_share: float = Field(0.01, ge=0.0, le=1.0)
    min_rows: int = Field(50, ge=1)


# --- monitor (live metrics of labelled production predictions; `make monitor`) ---
class MonitorParams(_Section):
    """When a model version's live metrics raise an alert (docs/monitoring.md)."""

    window: str = "1d"  # window length (pandas duration: 1d, 6h, 30min)
    min_labelled: int = Field(100, ge=1)  # fewer labelled predictions: no verdict
    # Floors of the live metrics (accuracy, f1_macro); null: the gates' `min` values.
    min: dict[str, float] | None = None
    # Largest allowed drop below the model's own test-set metric.
    max_drop: dict[str, float] = {"accuracy": 0.05, "f1_macro": 0.05}
    alert_windows: int = Field(1, ge=1)  # N: alert when N of ...
    of_windows: int = Field(1, ge=1)  # ... the last M judged windows break a limit
    bootstrap_seed: int = 0

    @model_validator(mode="after")
    def _n_of_m(self) -> "MonitorParams":
        if self.alert_windows > self.of_windows:
            raise ValueError("alert_windows (N) must not exceed of_windows (M)")
        return self


class PackageParams(_Section):
    parity_tolerance: float = Field(1.0e-5, gt=0.0, le=0.01)
    max_records: int = Field(1000, ge=1)


class Params(_Section):
    data: DataParams = DataParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")
    split: SplitParams = SplitParams()
    train: TrainParams = TrainParams()
    gates: GatesParams = GatesParams()
    drift: DriftParams = DriftParams()
    monitor: MonitorParams = MonitorParams()
    package: PackageParams = PackageParams()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ParamsError(TabmlError, ValueError):
    """params.yaml is missing, malformed, or has unknown/invalid keys."""


def load_params(path: Path = paths.PARAMS) -> Params:
    """Read and check params.yaml.

    Raises:
        ParamsError: naming every offending key, e.g. `train.random_forest.n_estimators`.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ParamsError(f"cannot read {path}: {err}") from err
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(f"{path}: {describe_errors(err)}") from err
