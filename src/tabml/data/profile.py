"""Dataset profiles (`configs/<name>.yaml`): source, target, features and domain schema."""

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from tabml import paths, yaml_io
from tabml.errors import TabmlError, describe_errors
from tabml.scoring.date_formats import ISO8601, check_format
from tabml.scoring.entities import EntityJoin


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the raw file comes from: a file inside a package, or a path in the repo."""

    path: str
    package: str | None = None
    sha256: str | None = None
    # For archives holding several files: the member to extract (e.g. `flights.csv`).
    member: str | None = None

    def resolve(self) -> Path:
        """Absolute location of the raw file, without importing the package.

        Raises:
            ProfileError: the package is not installed or the file does not exist.
        """
        if self.package is None:
            location = Path(self.path)
        else:
            spec = importlib.util.find_spec(self.package)
            if spec is None or not spec.submodule_search_locations:
                raise ProfileError(f"package {self.package!r} is not installed")
            location = Path(next(iter(spec.submodule_search_locations))) / self.path
        if not location.is_file():
            raise ProfileError(f"raw data source {location} does not exist")
        return location


# The numbers a date column can become (tabml.scoring.dates.PARTS computes them; a unit
# test keeps the two lists equal, so loading a profile needs no runtime code).
DatePart = Literal["year", "month", "day", "day_of_year", "day_of_week", "hour", "days_since_epoch"]


class DateFeature(_Strict):
    """A date column: the format its values are written in, and the numbers it becomes."""

    # strptime codes (%Y-%m-%d, %d.%m.%Y, %m/%d/%Y %H:%M, ...) or ISO8601: any ISO 8601 date
    # or date and time (what a profile that lists only the parts means)
    format: str = ISO8601
    parts: list[DatePart]

    @field_validator("format")
    @classmethod
    def _known_codes(cls, fmt: str) -> str:
        return check_format(fmt)

    @field_validator("parts")
    @classmethod
    def _some_parts(cls, parts: list[str]) -> list[str]:
        if not parts:
            raise ValueError("list the numbers to derive, e.g. [year]")
        return parts


class Features(_Strict):
    numeric: list[str]
    categorical: list[str] = []
    # Declared transformations: date columns, each turned into the listed numbers, e.g.
    # `Date Egg: {format: "%d.%m.%Y", parts: [year, day_of_year]}` gives the model
    # `Date Egg (year)` and `Date Egg (day_of_year)`. `Date Egg: [year]` means ISO 8601 dates.
    dates: dict[str, DateFeature] = {}

    @field_validator("dates", mode="before")
    @classmethod
    def _parts_alone_mean_iso(cls, dates: object) -> object:
        if isinstance(dates, dict):
            return {c: {"parts": d} if isinstance(d, list) else d for c, d in dates.items()}
        return dates

    @property
    def all(self) -> list[str]:
        """The input columns a record holds (dates as text), in the request's order."""
        return [*self.numeric, *self.categorical, *self.dates]

    @property
    def model_numeric(self) -> list[str]:
        """The model's numeric inputs: the numeric columns, then every derived date number."""
        derived = [f"{column} ({part})" for column, d in self.dates.items() for part in d.parts]
        return [*self.numeric, *derived]


class TargetRule(_Strict):
    """A target derived from a numeric column: `labels[1]` above the threshold, else `labels[0]`.

    Rows where the column is missing get no label (and are dropped, counted, by validate).
    """

    column: str
    greater_than: float
    labels: tuple[str, str]


class ProductionSource(_Strict):
    """Labelled production rows (`make harvest`): a DVC-tracked parquet file in the repo.

    `sha256` pins the harvested version, as `source.sha256` pins the original data; `make
    harvest` rewrites both the file and the pin.
    """

    path: str
    sha256: str


class TargetBounds(_Strict):
    """A regression target's physical range (e.g. `min: 0` for counts): every prediction and
    interval end is clipped to it, online, in batch and in the evaluation."""

    min: float | None = None
    max: float | None = None


class ProfileGates(_Strict):
    """The dataset's own absolute metric gates; params.yaml's `gates.min/max` win per key."""

    min: dict[str, float] = {}
    max: dict[str, float] = {}


class DatasetProfile(_Strict):
    name: str
    description: str = ""
    source: Source
    target: str
    # classification: the target is a label; regression: a number (docs/regression.md).
    task: Literal["classification", "regression"] = "classification"
    features: Features
    # Optional column that identifies a row (used as the key in batch scoring).
    key: str | None = None
    # Optional: derive `target` from another column instead of reading it from the raw data.
    target_rule: TargetRule | None = None
    # Optional: absolute metric gates for this dataset (e.g. `min: {accuracy: 0.85}`).
    gates: ProfileGates = ProfileGates()
    # Optional: labelled production rows added to the training data (docs/continuous-training.md).
    production: ProductionSource | None = None
    # Optional: features looked up by an entity key as of each row's time
    # (docs/entity-features.md); the features stage joins them into data/raw/dataset.csv.
    entities: EntityJoin | None = None
    # Columns bootstrap suspected of leaking the target (column -> why; tabml.data.leakage):
    # named again if the model's test score is implausibly perfect.
    leak_suspects: dict[str, str] = {}
    # A perfect test score (accuracy or r2 >= 0.999) is expected for this data: not refused.
    expect_perfect: bool = False
    # Regression: the target's physical range; predictions and intervals are clipped to it.
    target_bounds: TargetBounds = TargetBounds()

    @model_validator(mode="after")
    def _entity_features_are_features(self):
        if self.entities is None:
            return self
        unlisted = [f for f in self.entities.features if f not in self.features.all]
        if unlisted:
            raise ValueError(f"entity features not listed under features: {unlisted}")
        if self.target in [self.entities.row_time, *(t.key for t in self.entities.tables)]:
            raise ValueError("the target cannot be an entity key or the row time")
        return self

    @model_validator(mode="after")
    def _target_not_a_feature(self):
        if self.target in self.features.all:
            raise ValueError(f"target {self.target!r} is also listed as a feature")
        duplicated = {c for c in self.features.all if self.features.all.count(c) > 1}
        if duplicated:
            raise ValueError(f"features listed twice: {sorted(duplicated)}")
        rule = self.target_rule
        if rule is not None and rule.column in [self.target, *self.features.all]:
            # the rule's column is the answer itself: as a feature it would leak the label
            raise ValueError(f"target_rule.column {rule.column!r} is the target or a feature")
        if rule is not None and self.production is not None:
            raise ValueError("production rows carry their label: not with a target_rule")
        if self.production is not None and self.task == "regression":
            raise ValueError("production rows (retraining) are supported for classification")
        if rule is not None and self.task == "regression":
            raise ValueError("target_rule derives class labels: it needs task: classification")
        return self


class ProfileError(TabmlError, ValueError):
    """A dataset profile is missing or invalid."""


def load_profile(name: str, configs_dir: Path = paths.CONFIGS) -> DatasetProfile:
    """Load `configs/<name>.yaml`, naming every invalid key in the error."""
    path = configs_dir / f"{name}.yaml"
    try:
        raw = yaml_io.load(path.read_text())
    except FileNotFoundError as err:
        known = sorted(p.stem for p in configs_dir.glob("*.yaml") if ".schema" not in p.name)
        raise ProfileError(f"no dataset profile {path} (known profiles: {known})") from err
    try:
        profile = DatasetProfile.model_validate(raw)
    except ValidationError as err:
        raise ProfileError(f"{path}: {describe_errors(err)}") from err
    if profile.name != name:
        raise ProfileError(f"{path}: `name` is {profile.name!r}, expected {name!r}")
    return profile


def schema_path(profile: DatasetProfile, configs_dir: Path = paths.CONFIGS) -> Path:
    """The profile's pandera schema: `configs/<name>.schema.yaml` by convention."""
    return configs_dir / f"{profile.name}.schema.yaml"
