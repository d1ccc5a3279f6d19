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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# What every hyperparameter section is: strict, frozen, unknown keys refused (as params.yaml).
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Hyperparameters(BaseModel):
    model_config = STRICT


# "balanced": classes weighted inversely to their share of the training split (scikit-learn's
# `class_weight`); raises a rare class's recall at some accuracy cost. Classification only.
ClassWeight = Literal["balanced"] | None


class LogisticRegressionParams(Hyperparameters):
    C: float = Field(1.0, gt=0.0)
    max_iter: int = Field(1000, ge=1)
    class_weight: ClassWeight = None


class RandomForestParams(Hyperparameters):
    n_estimators: int = Field(25, ge=1)
    max_depth: int | None = Field(2, ge=1)
    min_samples_leaf: int = Field(5, ge=1)
    class_weight: ClassWeight = None  # the classifier's


class GradientBoostingParams(Hyperparameters):
    n_estimators: int = Field(15, ge=1)
    learning_rate: float = Field(0.1, gt=0.0)
    max_depth: int = Field(1, ge=1)


class RidgeParams(Hyperparameters):
    alpha: float = Field(1.0, ge=0.0)


class HistGradientBoostingParams(Hyperparameters):
    """Histogram gradient boosting; defaults chosen on the model benchmark (docs/benchmarks.md,
    "Models"), not on penguins: a lower learning rate with early stopping and L2."""

    learning_rate: float = Field(0.05, gt=0.0)
    max_leaf_nodes: int = Field(31, ge=2)
    min_samples_leaf: int = Field(20, ge=1)
    l2_regularization: float = Field(1.0, ge=0.0)
    max_features: float = Field(1.0, gt=0.0, le=1.0)
    max_bins: int = Field(255, ge=2, le=255)
    # A training split of `early_stopping_rows` or more stops on a seeded 10% validation part
    # (at most `max_iter` iterations); a smaller one runs `small_max_iter` iterations, since a
    # validation part of < 100 rows stops too early or too late.
    early_stopping_rows: int = Field(1000, ge=0)
    max_iter: int = Field(1000, ge=1)
    small_max_iter: int = Field(200, ge=1)
    class_weight: ClassWeight = None  # the classifier's


# (hyperparameters, seed, training rows or None when unknown) -> an unfitted estimator
Build = Callable[[Any, int, int | None], Any]


@dataclass(frozen=True)
class Family:
    """One model family, for every task it has an estimator for."""

    name: str
    params: type[Hyperparameters]  # the section train.<name>
    space: Mapping[str, Mapping[str, Any]]  # the default tune.space.<name> (ranges, choices)
    estimators: Mapping[str, Build]  # task name -> estimator builder
    scale_numeric: bool = False  # standardise numeric inputs first (linear models)
    # "onehot": numbers median-imputed, one column per category; "ordinal": numbers as they
    # are (NaN kept: the estimator handles missing values) and one code per category, unseen
    # categories NaN (the only category encoding the ONNX converter of boosting gets exact).
    encoding: str = "onehot"
    # For an estimator skl2onnx has no (exact) converter for: "module:function" of a function
    # that registers one (skl2onnx's `update_registered_converter`); packaging calls it before
    # converting. A name, not an import: training never loads packaging code.
    onnx_converter: str | None = None
    # in the default tune.space: the weak families are not (their ranges stay documented
    # here and in params.yaml, for a user who lists them)
    searched_by_default: bool = True

    def build(self, task: str, params: Any, seed: int, rows: int | None = None) -> Any:
        return self.estimators[task](params, seed, rows)


def _logistic_regression(p: LogisticRegressionParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=p.C, max_iter=p.max_iter, class_weight=p.class_weight, random_state=seed
    )


def _forest(p: RandomForestParams, seed: int) -> dict:
    # n_jobs=1: deterministic and fair on 2 cores
    return {"n_estimators": p.n_estimators, "max_depth": p.max_depth,
            "min_samples_leaf": p.min_samples_leaf, "random_state": seed, "n_jobs": 1}  # fmt: skip


def _forest_classifier(p: RandomForestParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**_forest(p, seed), class_weight=p.class_weight)


def _forest_regressor(p: RandomForestParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(**_forest(p, seed))


def _boosting(p: GradientBoostingParams, seed: int) -> dict:
    return {"n_estimators": p.n_estimators, "learning_rate": p.learning_rate,
            "max_depth": p.max_depth, "random_state": seed}  # fmt: skip


def _boosting_classifier(p: GradientBoostingParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**_boosting(p, seed))


def _boosting_regressor(p: GradientBoostingParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(**_boosting(p, seed))


def _ridge(p: RidgeParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p.alpha)


def _hgb(p: HistGradientBoostingParams, seed: int, rows: int | None) -> dict:
    # Unknown rows (None) count as large. Early stopping's validation part is drawn with
    # random_state (stratified for classes by scikit-learn), so the fit is seeded.
    early = rows is None or rows >= p.early_stopping_rows
    return {"learning_rate": p.learning_rate, "max_leaf_nodes": p.max_leaf_nodes,
            "min_samples_leaf": p.min_samples_leaf, "l2_regularization": p.l2_regularization,
            "max_features": p.max_features, "max_bins": p.max_bins,
            "early_stopping": early, "max_iter": p.max_iter if early else p.small_max_iter,
            "validation_fraction": 0.1, "n_iter_no_change": 20, "random_state": seed}  # fmt: skip


def _hgb_classifier(p: HistGradientBoostingParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**_hgb(p, seed, rows), class_weight=p.class_weight)


def _hgb_regressor(p: HistGradientBoostingParams, seed: int, rows: int | None = None) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(**_hgb(p, seed, rows))


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
            searched_by_default=False,
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
            searched_by_default=False,
        ),
        Family(
            "ridge",
            RidgeParams,
            {"alpha": _range(0.001, 1000.0, log=True)},
            {"regression": _ridge},
            scale_numeric=True,
        ),
        Family(
            "hgb",
            HistGradientBoostingParams,
            {
                "learning_rate": _range(0.01, 0.3, log=True),
                "max_leaf_nodes": _range(7, 127, log=True),
                "min_samples_leaf": _range(2, 100, log=True),
                "l2_regularization": _range(0.001, 10.0, log=True),
                "max_features": _range(0.4, 1.0),
                "small_max_iter": _range(30, 500, log=True),
            },
            {"classification": _hgb_classifier, "regression": _hgb_regressor},
            encoding="ordinal",
            # skl2onnx's converter is inexact on float32 inputs and fails with our protobuf
            onnx_converter="tabml.packaging.onnx_hgb:register_exact_hgb",
        ),
    )
}


# `train.model: auto` chooses between the boosting family and the task's linear one
# (tabml.model.auto).
AUTO = "auto"


def one_thread() -> Any:
    """A context in which OpenMP (histogram boosting's fit and predict) uses one thread.

    Measured on the 2-core machine under load (penguins, 240 rows): 4.5 s with OpenMP's
    default threads, 0.3 s with one; the tables tabml trains on are small enough that the
    thread start-up and oversubscription cost more than they gain. Models stay identical.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def families_for(task: str) -> list[str]:
    """The families with an estimator for `task`, in registry order."""
    return [name for name, family in FAMILIES.items() if task in family.estimators]
