"""The systems `make bench-models` compares, each fitted on a table's training split and
scored on its test split (both written by the pipeline's own split stage).

Every system sees the same input: `tabml.model.features.model_frame` (float32 numbers with
NaN for missing, dates as numbers, categories as strings with "" for missing). The references
get categories the way their own documentation recommends (pandas `category` dtype: native
categorical splits), except where scikit-learn's native support stops (more than 255 levels:
those columns are ordinal codes, as numbers). Everything runs on one thread (the benchmark
sets OMP_NUM_THREADS=1 and n_jobs=1): the machine is shared, and one thread for every system
keeps the comparison fair and the 60 s budgets comparable.
"""

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from benchmarks.model_pipeline import PipelineRun
from tabml.model.features import model_frame

BUDGET_S = 60  # FLAML's and the tuned search's wall-clock budget
NATIVE_MAX_LEVELS = 255  # HistGradientBoosting's native categories need <= max_bins levels


@dataclass
class Data:
    """A table's model input: features as the pipeline builds them, labels or values."""

    task: str
    primary: str
    x_train: pd.DataFrame
    y_train: np.ndarray
    x_test: pd.DataFrame
    y_test: np.ndarray
    categorical: list[str]
    run: PipelineRun


def table_data(run: PipelineRun, task: str, primary: str) -> Data:
    """The model frames and targets of the pipeline's own split."""
    features, target = run.profile.features, run.profile.target

    def y(frame: pd.DataFrame) -> np.ndarray:
        if task == "regression":
            return pd.to_numeric(frame[target]).to_numpy(dtype=np.float64)
        return frame[target].astype(str).to_numpy(dtype=object)

    return Data(
        task,
        primary,
        model_frame(run.train, features),
        y(run.train),
        model_frame(run.test, features),
        y(run.test),
        list(features.categorical),
        run,
    )


def as_categories(data: Data, max_levels: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Categorical columns as pandas `category` (levels from the training split; unseen test
    values become missing); above `max_levels` levels, their codes as float numbers."""
    train, test = data.x_train.copy(), data.x_test.copy()
    for column in data.categorical:
        levels = sorted(set(train[column]) - {""})
        dtype = pd.CategoricalDtype(levels)
        coded = [frame[column].replace("", np.nan).astype(dtype) for frame in (train, test)]
        if max_levels is not None and len(levels) > max_levels:
            coded = [c.cat.codes.replace(-1, np.nan).astype(np.float32) for c in coded]
        train[column], test[column] = coded
    return train, test


@dataclass
class Result:
    """One system on one table: test metrics, fit seconds, pickled model bytes, notes."""

    system: str
    metrics: dict
    fit_s: float
    size: int
    note: str = ""
    trials: int | None = None  # searches: configurations tried within the budget


def score(data: Data, model, x_test) -> dict:
    """Test metrics of a fitted model (sklearn-style predict / predict_proba)."""
    if data.task == "regression":
        return regression_scores(data.y_test, np.asarray(model.predict(x_test), dtype=float))
    proba = np.asarray(model.predict_proba(x_test), dtype=float)
    return classification_scores(data.y_test, proba, np.asarray(model.classes_).astype(str))


def classification_scores(y_true, proba, classes, predicted=None) -> dict:
    """accuracy, macro-F1, balanced accuracy, ROC AUC (binary; one-vs-rest macro), log loss."""
    if predicted is None:
        predicted = classes[proba.argmax(axis=1)]
    if len(classes) == 2:
        auc = skm.roc_auc_score(y_true == classes[1], proba[:, 1])
    else:
        auc = skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    return {
        "accuracy": skm.accuracy_score(y_true, predicted),
        "f1_macro": skm.f1_score(y_true, predicted, average="macro", labels=classes),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, predicted),
        "roc_auc": auc,
        "log_loss": skm.log_loss(y_true, np.clip(proba, 1e-15, 1), labels=classes),
    }


def regression_scores(y_true, predicted) -> dict:
    return {
        "r2": skm.r2_score(y_true, predicted),
        "rmse": skm.root_mean_squared_error(y_true, predicted),
        "mae": skm.mean_absolute_error(y_true, predicted),
    }


def timed_fit(name: str, data: Data, fit: Callable[[], object], x_test, note: str = "") -> Result:
    """Fit (wall seconds), score on the test split, measure the pickled size."""
    started = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - started
    return Result(name, score(data, model, x_test), seconds, len(pickle.dumps(model)), note)


def baseline(data: Data) -> Result:
    """Majority class with the training shares as probabilities / the training mean."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    model = DummyRegressor() if data.task == "regression" else DummyClassifier(strategy="prior")
    return timed_fit("baseline", data, lambda: model.fit(data.x_train, data.y_train), data.x_test)


def hgb_defaults(data: Data) -> Result:
    """scikit-learn's HistGradientBoosting with default settings, native categories."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    x_train, x_test = as_categories(data, NATIVE_MAX_LEVELS)
    family = (
        HistGradientBoostingRegressor
        if data.task == "regression"
        else (HistGradientBoostingClassifier)
    )
    model = family(random_state=0)
    return timed_fit("HGB defaults", data, lambda: model.fit(x_train, data.y_train), x_test)


def lgbm_defaults(data: Data) -> Result:
    """LightGBM with default settings, pandas categories (native categorical splits)."""
    import lightgbm

    x_train, x_test = as_categories(data)
    family = lightgbm.LGBMRegressor if data.task == "regression" else lightgbm.LGBMClassifier
    model = family(random_state=0, n_jobs=1, verbose=-1)
    return timed_fit("LightGBM defaults", data, lambda: model.fit(x_train, data.y_train), x_test)


FLAML_METRIC = {"accuracy": "accuracy", "roc_auc": "roc_auc", "f1_macro": "macro_f1", "r2": "r2"}


def flaml_budget(data: Data, budget_s: float = BUDGET_S) -> Result:
    """FLAML AutoML for `budget_s` wall seconds on the table's primary metric, its defaults
    otherwise (its own holdout/CV choice, estimator list, seed 0, one thread)."""
    from flaml import AutoML

    x_train, x_test = as_categories(data)
    automl = AutoML()
    task = "regression" if data.task == "regression" else "classification"

    def fit():
        automl.fit(
            x_train,
            data.y_train,
            task=task,
            time_budget=budget_s,
            seed=0,
            n_jobs=1,
            metric=FLAML_METRIC[data.primary],
            verbose=0,
        )
        return automl

    result = timed_fit(f"FLAML {budget_s:g} s", data, fit, x_test)
    result.trials = len(automl.config_history)
    result.note = f"best {automl.best_estimator}"
    return result
