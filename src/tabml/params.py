"""Typed view of params.yaml: parsed once, unknown or missing keys are errors.

The defaults below are the values in the committed params.yaml (a test keeps them equal),
so code that builds `Params()` directly behaves exactly like the pipeline.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tabml import paths
from tabml.errors import TabmlError, describe_errors

# Classification: logistic_regression, random_forest, gradient_boosting; regression: ridge,
# random_forest, gradient_boosting (the profile's `task` picks classifier or regressor).
ModelFamily = Literal["logistic_regression", "random_forest", "gradient_boosting", "ridge"]


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


class RidgeParams(_Section):
    alpha: float = Field(1.0, ge=0.0)


class TrainParams(_Section):
    model: ModelFamily = "logistic_regression"
    seed: int = 42
    logistic_regression: LogisticRegressionParams = LogisticRegressionParams()
    random_forest: RandomForestParams = RandomForestParams()
    gradient_boosting: GradientBoostingParams = GradientBoostingParams()
    ridge: RidgeParams = RidgeParams()


# --- gates (experiments and review) ---
class GatesParams(_Section):
    """Metric gates: absolute floors/ceilings, the lift over the majority-class baseline, and
    the largest regression allowed vs a base.

    No absolute limit by default: they depend on the dataset, so they live in its profile
    (`configs/<name>.yaml`, section `gates`). A number here wins over the profile's, per key;
    None (null in params.yaml) leaves the profile's value, and lets `dvc exp run -S
    gates.min.accuracy=0.9` set one without the `+` that new keys need.
    """

    min: dict[str, float | None] = {"accuracy": None, "f1_macro": None, "roc_auc_ovr": None}
    max: dict[str, float | None] = {"log_loss": None}
    # must beat the baseline by this much, in the metric's own units (log_loss: must be lower)
    min_lift: dict[str, float] = {"roc_auc_ovr": 0.05, "log_loss": 0.0}
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


# --- regression (profiles with `task: regression`; docs/regression.md) ---
class RegressionParams(_Section):
    """Split-conformal prediction intervals, regression parity and the regression gates."""

    interval_level: float = Field(0.9, gt=0.0, lt=1.0)
    calibration_size: float = Field(0.25, gt=0.0, lt=1.0)  # share of the train split
    coverage_tolerance: float = Field(0.1, gt=0.0, lt=1.0)  # |test coverage - level| allowed
    parity_rtol: float = Field(1.0e-5, ge=0.0, le=0.01)  # relative ONNX parity tolerance
    # Absolute limits belong to the dataset (its profile's `gates:`); these fit any target.
    gates: GatesParams = GatesParams(
        min={"r2": None},
        max={},
        min_lift={"r2": 0.1},
        max_regression={"rmse": 25.0, "mae": 25.0, "r2": 0.02},
    )


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
    package: PackageParams = PackageParams()
    regression: RegressionParams = RegressionParams()
    # Repository files the profile reads (your own CSV): each is a DVC dependency of the
    # `source` stage, so editing it stops `dvc repro` until `make accept-data`. Empty for a
    # source inside an installed package (penguins), which then gets no such stage.
    sources: list[str] = []

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
