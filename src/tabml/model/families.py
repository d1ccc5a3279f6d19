"""The model families: one registry entry each, the only place a family is described.

An entry (`Family`) names the family, its hyperparameters (the section `train.<name>` of
params.yaml, a strict pydantic model), its default search space (`tune.space.<name>`), the
scikit-learn estimator it builds for each task, whether numeric inputs are scaled for it,
and, for an estimator skl2onnx does not know, the function that registers its converter.
`tabml.params` builds `train`'s and `tune.space`'s sections from this registry, training
builds the estimator, tuning searches the space, packaging converts it: adding a family is
one entry in `FAMILIES` (docs/architecture.md, "Adding a model family").

Pure data and small functions: scikit-learn is imported only when an estimator is built, so
reading params.yaml stays cheap.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# What every hyperparameter section is: strict, frozen, unknown keys refused (as params.yaml).
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Hyperparameters(BaseModel):
    model_config = STRICT


class LogisticRegressionParams(Hyperparameters):
    C: float = Field(0.02, gt=0.0)
    max_iter: int = Field(1000, ge=1)


class RandomForestParams(Hyperparameters):
    n_estimators: int = Field(25, ge=1)
    max_depth: int | None = Field(2, ge=1)
    min_samples_leaf: int = Field(5, ge=1)


class GradientBoostingParams(Hyperparameters):
    n_estimators: int = Field(15, ge=1)
    learning_rate: float = Field(0.1, gt=0.0)
    max_depth: int = Field(1, ge=1)


class RidgeParams(Hyperparameters):
    alpha: float = Field(1.0, ge=0.0)


Build = Callable[[Any, int], Any]  # (hyperparameters, seed) -> an unfitted estimator


@dataclass(frozen=True)
class Family:
    """One model family, for every task it has an estimator for."""

    name: str
    params: type[Hyperparameters]  # the section train.<name>
    space: Mapping[str, Mapping[str, Any]]  # the default tune.space.<name> (ranges, choices)
    estimators: Mapping[str, Build]  # task name -> estimator builder
    scale_numeric: bool = False  # standardise numeric inputs first (linear models)
    # For an estimator skl2onnx has no converter for (LightGBM, XGBoost, ...): registers one
    # (skl2onnx's `update_registered_converter`) before a pipeline with it is converted.
    register_onnx_converter: Callable[[], None] | None = None

    def build(self, task: str, params: Any, seed: int) -> Any:
        return self.estimators[task](params, seed)


def _logistic_regression(p: LogisticRegressionParams, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=seed)


def _forest(p: RandomForestParams, seed: int) -> dict:
    # n_jobs=1: deterministic and fair on 2 cores
    return {"n_estimators": p.n_estimators, "max_depth": p.max_depth,
            "min_samples_leaf": p.min_samples_leaf, "random_state": seed, "n_jobs": 1}  # fmt: skip


def _forest_classifier(p: RandomForestParams, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**_forest(p, seed))


def _forest_regressor(p: RandomForestParams, seed: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(**_forest(p, seed))


def _boosting(p: GradientBoostingParams, seed: int) -> dict:
    return {"n_estimators": p.n_estimators, "learning_rate": p.learning_rate,
            "max_depth": p.max_depth, "random_state": seed}  # fmt: skip


def _boosting_classifier(p: GradientBoostingParams, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**_boosting(p, seed))


def _boosting_regressor(p: GradientBoostingParams, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(**_boosting(p, seed))


def _ridge(p: RidgeParams, seed: int) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p.alpha)


def _range(low: float, high: float, log: bool = False) -> dict:
    return {"low": low, "high": high, "log": log}


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "logistic_regression",
            LogisticRegressionParams,
            {"C": _range(0.001, 100.0, log=True)},
            {"classification": _logistic_regression},
            scale_numeric=True,
        ),
        Family(
            "random_forest",
            RandomForestParams,
            {
                "n_estimators": _range(10, 200, log=True),
                "max_depth": _range(2, 12),
                "min_samples_leaf": _range(1, 10),
            },
            {"classification": _forest_classifier, "regression": _forest_regressor},
        ),
        Family(
            "gradient_boosting",
            GradientBoostingParams,
            {
                "n_estimators": _range(10, 200, log=True),
                "learning_rate": _range(0.01, 0.5, log=True),
                "max_depth": _range(1, 5),
            },
            {"classification": _boosting_classifier, "regression": _boosting_regressor},
        ),
        Family(
            "ridge",
            RidgeParams,
            {"alpha": _range(0.001, 1000.0, log=True)},
            {"regression": _ridge},
            scale_numeric=True,
        ),
    )
}


def families_for(task: str) -> list[str]:
    """The families with an estimator for `task`, in registry order."""
    return [name for name, family in FAMILIES.items() if task in family.estimators]
