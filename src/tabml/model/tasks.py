"""Tasks as types, at training time: what classification and regression differ in.

`training_task(profile)` chooses one, once, from the profile's `task`; the stages ask it
instead of comparing strings. A task owns how the target is read, how tuning's folds are cut
and which metrics can score them, how the model is fitted (a regression model also
calibrates its interval), which metrics and plots evaluate it, and which gates apply. Its
other halves: `tabml.scoring.task` (what a packaged model answers: shipped at run time),
`tabml.packaging.tasks` (ONNX, parity, metadata, card) and `tabml.monitoring.tasks` (live
reports). Adding a task is a class in each, listed in their `TASKS`.
"""

from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from tabml import paths
from tabml.data.profile import DatasetProfile
from tabml.errors import TabmlError
from tabml.params import GatesParams, Params, TrainParams, TuneParams

# scikit-learn is imported where a task fits or evaluates: choosing a task (the gates of
# `make gate`, `make monitor`) stays cheap.


class TuneError(TabmlError, ValueError):
    """The search cannot run on this data with these params (e.g. too few rows per fold)."""


class TrainingTask(Protocol):
    name: str
    stratify: bool  # the train/test split keeps the target's class shares
    retrainable: bool  # `make harvest` / `make retrain` support it
    baseline: str  # what the metrics' `baseline` section is
    tune_metrics: tuple[str, ...]  # scikit-learn scorers that fit it; the first is the default
    default_family: str  # what bootstrap suggests for `train.model` (a fast, linear one)

    def target(self, frame: pd.DataFrame, profile: DatasetProfile) -> np.ndarray: ...

    def folds(self, y: np.ndarray, tune: TuneParams) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def fit(
        self,
        train: pd.DataFrame,
        profile: DatasetProfile,
        train_params: TrainParams,
        params: Params,
    ) -> tuple[Any, dict]: ...

    def gates(self, params: Params) -> GatesParams: ...

    def evaluate(
        self, pipeline: Any, test: pd.DataFrame, y_train: np.ndarray, profile: DatasetProfile,
        params: Params, training: dict,
    ) -> dict[Path, Any]: ...  # fmt: skip


class ClassificationTask:
    """Labels: stratified splits and folds, probabilities, the majority-class baseline."""

    name: ClassVar[str] = "classification"
    stratify, retrainable, baseline = True, True, "majority class"
    default_family = "logistic_regression"  # the linear one (bootstrap's suggestion)
    tune_metrics = ("neg_log_loss", "f1_macro", "accuracy", "balanced_accuracy", "roc_auc_ovr")

    def target(self, frame: pd.DataFrame, profile: DatasetProfile) -> np.ndarray:
        return frame[profile.target].astype(str).to_numpy(dtype=object)

    def folds(self, y: np.ndarray, tune: TuneParams) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedKFold

        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < tune.folds:
            rare = classes[counts.argmin()]
            raise TuneError(
                f"tune.folds={tune.folds} but class {rare!r} has only {counts.min()} rows in "
                "the training split: lower tune.folds or add rows of that class"
            )
        splitter = StratifiedKFold(n_splits=tune.folds, shuffle=True, random_state=tune.seed)
        return list(splitter.split(np.zeros(len(y)), y))

    def fit(self, train, profile, train_params, params) -> tuple[Any, dict]:
        from tabml.model.auto import resolve_model
        from tabml.model.threshold import choose_threshold
        from tabml.model.train import fit_model

        train_params, model = resolve_model(train, profile, train_params, params.tune)
        stats = {"model": model}
        decision = choose_threshold(train, profile, train_params, params.tune)
        if decision is not None:
            stats["decision"] = decision
        return fit_model(train, profile, train_params), stats

    def gates(self, params: Params) -> GatesParams:
        return params.gates

    def evaluate(self, pipeline, test, y_train, profile, params, training) -> dict[Path, Any]:
        from tabml.model.evaluate import evaluate_model
        from tabml.model.families import one_thread
        from tabml.model.features import model_frame
        from tabml.model.importance import (
            partial_dependence_points,
            permutation_importances,
            top_numeric,
        )
        from tabml.model.slices import slice_metrics

        X, y_true = model_frame(test, profile.features), self.target(test, profile)
        with one_thread():  # boosting's many predictions
            threshold = training.get("decision", {}).get("threshold")
            result = evaluate_model(pipeline, X, y_true, y_train, threshold)
            importance = permutation_importances(pipeline, X, y_true, params.train.seed)
            top = top_numeric(importance, profile.features.numeric)
            return {
                paths.METRICS: result["metrics"],
                paths.SLICES: slice_metrics(X, y_true, result["predicted"], profile.features),
                paths.CONFUSION_PLOT: result["confusion"],
                paths.ROC_PLOT: result["roc"],
                paths.PR_PLOT: result["precision_recall"],
                paths.IMPORTANCE_PLOT: importance,
                paths.PARTIAL_DEPENDENCE_PLOT: partial_dependence_points(pipeline, X, top),
            }


class RegressionTask:
    """Numbers: k-fold, a split-conformal interval, errors beside the training mean."""

    name: ClassVar[str] = "regression"
    stratify, retrainable, baseline = False, False, "training mean"
    default_family = "ridge"
    tune_metrics = ("neg_root_mean_squared_error", "neg_mean_absolute_error", "r2")

    def target(self, frame: pd.DataFrame, profile: DatasetProfile) -> np.ndarray:
        return pd.to_numeric(frame[profile.target], errors="raise").to_numpy(dtype=np.float64)

    def folds(self, y: np.ndarray, tune: TuneParams) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import KFold

        splitter = KFold(n_splits=tune.folds, shuffle=True, random_state=tune.seed)
        return list(splitter.split(np.zeros(len(y))))

    def fit(self, train, profile, train_params, params) -> tuple[Any, dict]:
        from tabml.model.auto import resolve_model
        from tabml.model.regressors import fit_regression

        train_params, model = resolve_model(train, profile, train_params, params.tune)
        pipeline, block = fit_regression(train, profile, train_params, params.regression)
        return pipeline, {"regression": block, "model": model}

    def gates(self, params: Params) -> GatesParams:
        return params.regression.gates

    def evaluate(self, pipeline, test, y_train, profile, params, training) -> dict[Path, Any]:
        from tabml.model.families import one_thread
        from tabml.model.features import model_frame
        from tabml.model.importance import permutation_importances
        from tabml.model.regression_metrics import evaluate_regression

        X, y_true = model_frame(test, profile.features), self.target(test, profile)
        scoring = "neg_root_mean_squared_error"
        with one_thread():  # boosting's many predictions
            result = evaluate_regression(pipeline, X, y_true, training["regression"])
            importance = permutation_importances(pipeline, X, y_true, params.train.seed, scoring)
        return {
            paths.METRICS: result["metrics"],
            paths.SLICES: {},  # slices are per class share: classification's
            paths.PREDICTED_ACTUAL_PLOT: result["predicted_actual"],
            paths.RESIDUALS_PLOT: result["residuals"],
            paths.RESIDUAL_HISTOGRAM_PLOT: result["residual_histogram"],
            paths.IMPORTANCE_PLOT: importance,
        }


TASKS: dict[str, TrainingTask] = {
    task.name: task() for task in (ClassificationTask, RegressionTask)
}


def training_task(profile: DatasetProfile) -> TrainingTask:
    """The task the profile names (the one place that reads the name at training time)."""
    return TASKS[profile.task]
