"""A tuned search over the strong families at a wall-clock budget, on the tune stage's CV.

The folds are the tune stage's own (`tabml.model.tune_cv.cv_folds`: 3 shuffled folds seeded
42, stratified for classes, on the training split only); each trial fits the HGB pipeline
(`benchmarks.model_hgb`, ordinal categories: the exportable one) on two folds and scores the
third, reporting the running mean so Optuna's median pruner can stop a hopeless trial, as the
tune stage does. A seeded TPE sampler proposes; the `auto` defaults (and HGB's own defaults)
are the first trials (warm start). When the budget is spent, the best trial is refitted on the
whole training split and scored on the test split.
"""

import pickle
import time
import warnings

import numpy as np
import optuna
from sklearn.metrics import get_scorer

from benchmarks.model_hgb import AUTO, SEED, hgb_pipeline
from benchmarks.model_systems import BUDGET_S, Data, Result, score
from tabml.model.families import LogisticRegressionParams, RidgeParams
from tabml.model.train import build_pipeline
from tabml.model.tune_cv import cv_folds
from tabml.params import TrainParams, TuneParams

# The space: HGB's capacity (leaves, leaf size), shrinkage, L2 and column subsampling;
# iterations are left to early stopping on a seeded 10% of each fit, except on training
# splits below `auto`'s early-stopping threshold, where they are searched (SMALL_ITER).
SPACE = {
    "learning_rate": (0.01, 0.3, True),
    "max_leaf_nodes": (7, 127, True),
    "min_samples_leaf": (2, 100, True),
    "l2_regularization": (1e-3, 10.0, True),
    "max_features": (0.4, 1.0, False),
}
WHOLE = {"max_leaf_nodes", "min_samples_leaf", "max_iter"}
SMALL_ITER = (30, 500, True)
EARLY_STOPPING = {
    "early_stopping": True,
    "max_iter": 2000,
    "validation_fraction": 0.1,
    "n_iter_no_change": 20,
}
# The linear family (tabml's own pipeline: scaled numbers, one-hot categories): C of the
# logistic regression, alpha of ridge. On some tables (credit default) it ranks best.
LINEAR_STRENGTH = (1e-3, 1e3)


# The `auto` settings, scikit-learn's own defaults and a plain linear model, tried first.
def warm_starts(small: bool) -> list[dict]:
    auto = {
        "family": "hgb",
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        "l2_regularization": 1.0,
        "max_features": 1.0,
    }
    defaults = {**auto, "learning_rate": 0.1, "l2_regularization": 1e-3}
    if small:
        auto, defaults = {**auto, "max_iter": 200}, {**defaults, "max_iter": 100}
    return [auto, defaults, {"family": "linear", "strength": 1.0}]


def tune_metric(data: Data) -> str:
    """The tune stage's default per task: log loss for classes, RMSE for numbers."""
    return "neg_root_mean_squared_error" if data.task == "regression" else "neg_log_loss"


def linear_pipeline(data: Data, strength: float):
    """tabml's linear family: logistic regression with C, or ridge with alpha = strength."""
    profile = data.run.profile
    if data.task == "regression":
        params = TrainParams(model="ridge", ridge=RidgeParams(alpha=strength))
        return build_pipeline(profile, params)
    logistic = LogisticRegressionParams(C=strength, max_iter=1000)
    params = TrainParams(model="logistic_regression", logistic_regression=logistic)
    return build_pipeline(profile, params)


def candidate(data: Data, params: dict):
    """The unfitted pipeline of a trial's parameters."""
    params = dict(params)
    if params.pop("family") == "linear":
        return linear_pipeline(data, params["strength"])
    if "max_iter" in params:  # a small table: iterations searched, no early stopping
        return hgb_pipeline(data, "ordinal", early_stopping=False, **params)
    return hgb_pipeline(data, "ordinal", **params, **EARLY_STOPPING)


def suggest(trial: optuna.Trial, families: tuple[str, ...], small: bool) -> dict:
    params = {"family": trial.suggest_categorical("family", list(families))}
    if params["family"] == "linear":
        params["strength"] = trial.suggest_float("strength", *LINEAR_STRENGTH, log=True)
        return params
    space = {**SPACE, "max_iter": SMALL_ITER} if small else SPACE
    for name, (low, high, log) in space.items():
        if name in WHOLE:
            params[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            params[name] = trial.suggest_float(name, low, high, log=log)
    return params


def tuned(
    data: Data,
    budget_s: float = BUDGET_S,
    families: tuple[str, ...] = ("hgb", "linear"),
    metric: str | None = None,
) -> Result:
    """Search for `budget_s` wall seconds, refit the best on the whole split, test-score it."""
    metric = metric or tune_metric(data)
    folds = cv_folds(data.run.train, data.run.profile, TuneParams(folds=3, seed=42))
    scorer = get_scorer(metric)
    small = len(data.y_train) < AUTO.min_rows

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, families, small)
        scores = []
        for step, (fit, validation) in enumerate(folds):
            pipeline = candidate(data, params)
            pipeline.fit(data.x_train.iloc[fit], data.y_train[fit])
            scores.append(scorer(pipeline, data.x_train.iloc[validation], data.y_train[validation]))
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # `group` is experimental; the tune stage uses it too
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=SEED, n_startup_trials=4, multivariate=True, group=True
        )
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    for start in warm_starts(small):
        if start["family"] in families:
            study.enqueue_trial(start)
    started = time.perf_counter()
    study.optimize(objective, timeout=budget_s, gc_after_trial=False)
    search_s = time.perf_counter() - started
    pipeline = candidate(data, study.best_params)
    refit_started = time.perf_counter()
    pipeline.fit(data.x_train, data.y_train)
    refit_s = time.perf_counter() - refit_started
    finished = [t for t in study.trials if t.state.is_finished()]
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished)
    name = " + ".join("HGB" if f == "hgb" else "linear" for f in families)
    result = Result(
        f"{name} tuned {budget_s:g} s",
        score(data, pipeline, data.x_test),
        search_s + refit_s,
        len(pickle.dumps(pipeline)),
    )
    result.trials = len(finished)
    result.note = (
        f"{pruned} pruned; best trial {study.best_trial.number} "
        f"(CV {metric} {study.best_value:.4f}): "
        + ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in study.best_params.items()
        )
    )
    return result


def auto_choice(data: Data, metric: str | None = None) -> Result:
    """`auto` with a linear check: HGB's `auto` settings and the linear family (C or alpha 1)
    scored by the tune stage's 3-fold CV on the training split; the better one is refitted.

    Four extra fits beside the final one: cheap next to a search, and it catches the tables
    where a linear model ranks or fits better than boosting (credit default, wages)."""
    metric = metric or tune_metric(data)
    folds = cv_folds(data.run.train, data.run.profile, TuneParams(folds=3, seed=42))
    scorer = get_scorer(metric)
    small = len(data.y_train) < AUTO.min_rows
    options = warm_starts(small)[0], warm_starts(small)[2]  # auto HGB, linear at 1.0
    started = time.perf_counter()
    scores = []
    for params in options:
        fold_scores = []
        for fit, validation in folds:
            pipeline = candidate(data, params).fit(data.x_train.iloc[fit], data.y_train[fit])
            fold_scores.append(
                scorer(pipeline, data.x_train.iloc[validation], data.y_train[validation])
            )
        scores.append(float(np.mean(fold_scores)))
    best = options[int(np.argmax(scores))]
    pipeline = candidate(data, best).fit(data.x_train, data.y_train)
    result = Result(
        "proposed auto + linear check (3-fold CV choice)",
        score(data, pipeline, data.x_test),
        time.perf_counter() - started,
        len(pickle.dumps(pipeline)),
    )
    result.note = (
        f"chose {best['family']} (CV {metric}: HGB {scores[0]:.4f}, linear {scores[1]:.4f})"
    )
    return result
