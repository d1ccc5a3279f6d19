"""Typed view of params.yaml: parsed once, unknown or missing keys are errors.

The defaults below are the values in the committed params.yaml (a test keeps them equal),
so code that builds `Params()` directly behaves exactly like the pipeline.
Types are strict (`true` is not a number, `"0.1"` is not a float), numbers are finite
(`.nan` and `.inf` are refused) and every value has its range. A number written `1e-05`
(as `dvc exp run -S` writes 0.00001) is a float: `tabml.yaml_io` reads YAML 1.2 floats.
The model families' sections (`train.<family>`, `tune.space.<family>`) come from the family
registry, `tabml.model.families`.
"""

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from tabml import paths, yaml_io
from tabml.errors import TabmlError, describe_errors
from tabml.model.families import AUTO, FAMILIES, Hyperparameters

# Every family of the registry; the profile's `task` picks its classifier or regressor
# (tabml.model.families.families_for).
ModelFamily = Literal[tuple(FAMILIES)]
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


class _TrainBase(_Section):
    # a family, or "auto": chosen per task at training time (tabml.model.auto)
    model: Literal[(AUTO, *FAMILIES)] = AUTO
    auto_linear_check: bool = True  # auto: CV against the task's linear family too
    # binary tasks: "macro_f1" labels by a threshold chosen on out-of-fold training rows
    decision_threshold: Literal["argmax", "macro_f1"] = "argmax"
    seed: Seed = 42
    use_tuned: bool = False  # train with models/tuned_params.yaml (the tune stage's choice)


# `train`: the fields above, then one hyperparameter section per family (the registry's).
TrainParams = create_model(
    "TrainParams",
    __base__=_TrainBase,
    __module__=__name__,
    **{name: (family.params, family.params()) for name, family in FAMILIES.items()},
)


# --- gates (experiments and review) ---
class SliceGatesParams(_Section):
    """Per-slice floors over reports/slices.json; slices with fewer than `min_rows` are skipped."""

    min_rows: int = Field(20, ge=1)
    min: dict[MetricName, float] = {"f1_macro": 0.0}


class GatesParams(_Section):
    """Metric gates: absolute floors/ceilings, the lift over the majority-class baseline, and
    the largest regression allowed vs a base.

    No absolute limit by default: they depend on the dataset, so they live in its profile
    (`configs/<name>.yaml`, section `gates`). A number here wins over the profile's, per key;
    None (null in params.yaml) leaves the profile's value, and lets `dvc exp run -S
    gates.min.accuracy=0.9` set one without the `+` that new keys need.
    """

    min: dict[MetricName, float | None] = {"accuracy": None, "f1_macro": None, "roc_auc_ovr": None}
    max: dict[MetricName, float | None] = {"log_loss": None}
    # must beat the baseline by this much, in the metric's own units (log_loss: must be lower)
    # f1_macro: the always-majority model's macro-F1 is the baseline's exactly (lift 0)
    min_lift: dict[MetricName, float] = {"roc_auc_ovr": 0.05, "log_loss": 0.0, "f1_macro": 0.01}
    max_regression: dict[MetricName, Annotated[float, Field(ge=0.0)]] = {
        "accuracy": 0.02,
        "f1_macro": 0.02,
        "roc_auc_ovr": 0.01,
        "log_loss": 0.05,
    }
    slices: SliceGatesParams = SliceGatesParams()
    # a classifier must predict every class the test set holds at least once
    every_class_predicted: bool = True


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


# --- regression (profiles with `task: regression`; docs/regression.md) ---
class RegressionParams(_Section):
    """Conformal prediction intervals, regression parity and the regression gates."""

    interval_level: float = Field(0.9, gt=0.0, lt=1.0)
    # cv: model on the whole train split, half-width from k-fold out-of-fold residuals;
    # split: model on the train split minus `calibration_size`, half-width from that part
    interval_method: Literal["cv", "split"] = "cv"
    interval_folds: int = Field(5, ge=2, le=20)  # cv
    calibration_size: float = Field(0.25, gt=0.0, lt=1.0)  # split: share of the train split
    coverage_tolerance: float = Field(0.1, gt=0.0, lt=1.0)  # |test coverage - level| allowed
    parity_rtol: float = Field(1.0e-5, ge=0.0, le=0.01)  # relative ONNX parity tolerance
    # Absolute limits belong to the dataset (its profile's `gates:`); these fit any target.
    gates: GatesParams = GatesParams(
        min={"r2": None},
        max={},
        min_lift={"r2": 0.1},
        max_regression={"rmse": 25.0, "mae": 25.0, "r2": 0.02},
        every_class_predicted=False,  # numbers have no classes
    )


# --- monitor (live metrics of labelled production predictions; `make monitor`) ---
class RegressionMonitorParams(_Section):
    """A regression model's live limits: rmse and mae ceilings, interval coverage floor."""

    # Ceilings of rmse / mae (target units); null: the dataset's gate ceilings (`gates.max`
    # of the profile and params.yaml's `regression.gates.max`).
    max: dict[str, float] | None = None
    # Largest allowed rise above the model's own test-set value, as a share of it (0.25:
    # live rmse up to 1.25 x the test rmse).
    max_rise: dict[str, float] = {"rmse": 0.25, "mae": 0.25}
    # Interval coverage floor: the interval's nominal level minus this.
    coverage_drop: float = Field(0.05, ge=0.0, lt=1.0)


class MonitorParams(_Section):
    """When a model version's live metrics raise an alert (docs/monitoring.md)."""

    window: str = "1d"  # window length (pandas duration: 1d, 6h, 30min)
    min_labelled: int = Field(100, ge=1)  # fewer labelled predictions: no verdict
    # Floors of the live metrics (accuracy, f1_macro); null: the dataset's gate floors (its
    # profile's `gates.min`, params.yaml's `gates.min` overriding per key, as `make gate`).
    min: dict[str, float] | None = None
    # Largest allowed drop below the model's own test-set metric.
    max_drop: dict[str, float] = {"accuracy": 0.05, "f1_macro": 0.05}
    alert_windows: int = Field(1, ge=1)  # N: alert when N of ...
    of_windows: int = Field(1, ge=1)  # ... the last M judged windows break a limit
    bootstrap_seed: int = 0
    regression: RegressionMonitorParams = RegressionMonitorParams()

    @model_validator(mode="after")
    def _n_of_m(self) -> "MonitorParams":
        if self.alert_windows > self.of_windows:
            raise ValueError("alert_windows (N) must not exceed of_windows (M)")
        return self


# --- retrain (continuous training: challenger vs champion; `make retrain`) ---
class RetrainParams(_Section):
    """When a challenger trained on labelled production rows replaces the champion.

    The newest `comparison_share` of the harvested rows (at least `min_comparison_rows`) are
    held out of training; both models are scored on them (docs/continuous-training.md).
    """

    primary_metric: Literal["accuracy", "f1_macro"] = "f1_macro"
    min_improvement: float = Field(0.01, ge=0.0)  # challenger - champion, primary metric
    # Largest allowed worsening of the other metrics, in their own units (log_loss: a rise).
    max_loss: dict[Literal["accuracy", "f1_macro", "log_loss"], Annotated[float, Field(ge=0.0)]] = {
        "accuracy": 0.01,
        "log_loss": 0.05,
    }
    comparison_share: float = Field(0.3, gt=0.0, lt=1.0)  # newest share held out by time
    min_comparison_rows: int = Field(100, ge=1)
    bootstrap_seed: int = 0


class PackageParams(_Section):
    parity_tolerance: float = Field(1.0e-5, gt=0.0, le=0.01)
    # The body cap is 2 kB per record: 10,000 records is a 20 MB body; more is batch scoring.
    max_records: int = Field(1000, ge=1, le=10_000)
    max_field_errors: int = Field(20, ge=1)


# --- tune (the tune stage: seeded, resumable hyperparameter search) ---
# A search dimension is a range (`low`/`high`, optional `log`) or a list of `choices`; whether a
# range is searched in whole numbers follows the hyperparameter's type in its train section.
Choice = bool | int | float | str | None


class SearchDimension(_Section):
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    choices: list[Choice] | None = None

    @model_validator(mode="after")
    def _range_or_choices(self) -> "SearchDimension":
        bounds = (self.low is not None) + (self.high is not None)
        if self.choices is not None:
            if bounds or self.log:
                raise ValueError("give either `choices` or `low`/`high` (and `log`), not both")
            if not self.choices:
                raise ValueError("`choices` is empty: list at least one value")
            return self
        if bounds < 2:
            raise ValueError("needs `low` and `high` (a range) or `choices` (a list)")
        if self.low >= self.high:
            raise ValueError(
                f"empty range: low ({self.low}) must be below high ({self.high}); "
                "for a fixed value use `choices: [value]`"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (got {self.low})")
        return self

    def values(self) -> list[Choice]:
        """The values that bound this dimension: both ends of a range, or every choice."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]


class _FamilySpace(_Section):
    """One family's search space: each field names a hyperparameter of its train section."""

    family_params: ClassVar[type[Hyperparameters]]

    @field_validator("*")
    @classmethod
    def _values_fit_the_hyperparameter(
        cls, dim: SearchDimension | None, info: ValidationInfo
    ) -> SearchDimension | None:
        # Each bound or choice must be a value the train section itself accepts (type and
        # limits), so a trial can never build an invalid estimator.
        for value in [] if dim is None else dim.values():
            try:
                cls.family_params.model_validate({info.field_name: value})
            except ValidationError as err:
                message = err.errors()[0]["msg"]
                raise ValueError(f"{value!r} is not a valid value: {message}") from None
        return dim

    def searched(self) -> dict[str, SearchDimension]:
        """The searched hyperparameters, by name, in declaration order."""
        return {name: dim for name in type(self).model_fields if (dim := getattr(self, name))}


def _family_space(name: str, params: type[Hyperparameters]) -> type[_FamilySpace]:
    """A family's space: its hyperparameters, each a SearchDimension or left out (not searched:
    it keeps its train section's value)."""
    fields: dict[str, Any] = {
        field: (SearchDimension | None, None) for field in params.model_fields
    }
    space = create_model(f"{name}_space", __base__=_FamilySpace, __module__=__name__, **fields)
    space.family_params = params
    return space


SPACES = {name: _family_space(name, family.params) for name, family in FAMILIES.items()}


class _SearchSpaceBase(_Section):
    """The families the search may choose (`train.model`); a family left out is not tried.
    Of those listed, only the ones of the profile's task are (ridge: regression only)."""

    @model_validator(mode="after")
    def _some_family(self) -> "_SearchSpaceBase":
        if not self.families():
            raise ValueError("no model family to search: list at least one")
        return self

    def families(self) -> dict[str, _FamilySpace]:
        return {name: space for name in type(self).model_fields if (space := getattr(self, name))}


SearchSpace = create_model(
    "SearchSpace",
    __base__=_SearchSpaceBase,
    __module__=__name__,
    **{name: (space | None, None) for name, space in SPACES.items()},
)
# The registry's own spaces of the families searched by default (the strong family and the
# linear ones; the committed params.yaml lists the same).
DEFAULT_SPACE = SearchSpace(
    **{
        name: SPACES[name](**{k: SearchDimension(**v) for k, v in family.space.items()})
        for name, family in FAMILIES.items()
        if family.searched_by_default
    }
)


# Scorers of scikit-learn (greater is better) a trial's cross-validation can report; which
# of them fit a profile's task is the task's (tabml.model.tasks, `tune_metrics`).
TuneMetric = Literal[
    "neg_log_loss",
    "f1_macro",
    "accuracy",
    "balanced_accuracy",
    "roc_auc_ovr",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
    "r2",
]


class TuneParams(_Section):
    """Budget, cross-validation and search space of the tune stage (docs/tuning.md)."""

    n_trials: int | None = Field(40, ge=1)
    timeout_s: float | None = Field(None, gt=0.0)
    # CV fits in the study in total: a trial starts only if its folds fit in what is left, so
    # a pruned trial (or a repeated proposal, 0 fits) leaves room for more trials.
    max_fits: int | None = Field(40, ge=1)
    n_jobs: int = Field(1, ge=1)
    seed: Seed = 42
    folds: int = Field(3, ge=2)
    metric: TuneMetric = "neg_log_loss"
    startup_trials: int = Field(4, ge=1)
    prune: bool = True
    space: SearchSpace = DEFAULT_SPACE

    @model_validator(mode="after")
    def _some_budget(self) -> "TuneParams":
        if self.n_trials is None and self.timeout_s is None:
            raise ValueError("set `n_trials`, `timeout_s` or both: the search needs a budget")
        if self.max_fits is not None and self.max_fits < self.folds:
            raise ValueError(f"max_fits ({self.max_fits}) < folds ({self.folds}): no trial fits")
        if self.max_fits is not None and self.n_jobs > 1:
            raise ValueError(
                "parallel trials (n_jobs > 1) need max_fits: null (they start before the running "
                "ones have counted their fits); for parallel folds use a Dask engine instead"
            )
        return self


class Params(_Section):
    data: DataParams = DataParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")
    split: SplitParams = SplitParams()
    train: TrainParams = TrainParams()
    gates: GatesParams = GatesParams()
    drift: DriftParams = DriftParams()
    monitor: MonitorParams = MonitorParams()
    retrain: RetrainParams = RetrainParams()
    package: PackageParams = PackageParams()
    regression: RegressionParams = RegressionParams()
    # Repository files the profile reads (your own CSV): each is a DVC dependency of the
    # `source` stage, so editing it stops `dvc repro` until `make accept-data`. Empty for a
    # source inside an installed package (penguins), which then gets no such stage.
    sources: list[str] = []
    tune: TuneParams = TuneParams()

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
        raw = yaml_io.load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ParamsError(f"cannot read {path}: {err}") from err
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(f"{path}: {describe_errors(err)}") from err
