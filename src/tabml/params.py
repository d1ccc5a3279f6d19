"""Typed view of params.yaml: parsed once, unknown or missing keys are errors.

The defaults below are the values in the committed params.yaml (a test keeps them equal),
so code that builds `Params()` directly behaves exactly like the pipeline.
Types are strict (`true` is not a number, `"0.1"` is not a float), numbers are finite
(`.nan` and `.inf` are refused) and every value has its range.
"""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tabml import paths
from tabml.errors import TabmlError, describe_errors

ModelFamily = Literal["logistic_regression", "random_forest", "gradient_boosting"]
# numpy's RandomState (scikit-learn's random_state) takes seeds in 0..2**32 - 1
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
MetricName = Annotated[str, Field(min_length=1)]

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Section(BaseModel):
    model_config = _STRICT


class DataParams(_Section):
    # a file name under configs/, never a path out of it
    profile: str = Field("penguins", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ValidateParams(_Section):
    min_rows: int = Field(20, ge=1)


class SplitParams(_Section):
    test_size: float = Field(0.3, gt=0.0, lt=1.0)
    seed: Seed = 42


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
    seed: Seed = 42
    logistic_regression: LogisticRegressionParams = LogisticRegressionParams()
    random_forest: RandomForestParams = RandomForestParams()
    gradient_boosting: GradientBoostingParams = GradientBoostingParams()


# --- gates (experiments and review) ---
class GatesParams(_Section):
    """Metric gates: absolute floors/ceilings and the largest regression allowed vs a base."""

    min: dict[MetricName, float] = {"accuracy": 0.85, "f1_macro": 0.85, "roc_auc_ovr": 0.95}
    max: dict[MetricName, float] = {"log_loss": 0.6}
    max_regression: dict[MetricName, Annotated[float, Field(ge=0.0)]] = {
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

    @model_validator(mode="after")
    def _warning_below_drift(self) -> "DriftParams":
        if self.psi_warning > self.psi_drift:
            raise ValueError(
                f"psi_warning ({self.psi_warning}) must not exceed psi_drift ({self.psi_drift})"
            )
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
    package: PackageParams = PackageParams()

    # Only the names params.yaml uses: `validate_` is this class's spelling, not a key.
    model_config = ConfigDict(**_STRICT, validate_by_alias=True, validate_by_name=False)


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
