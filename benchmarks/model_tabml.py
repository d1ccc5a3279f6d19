"""tabml's own rows: `train.model: auto` (the default) and the tune stage's search
at the same wall-clock budget as FLAML, both through tabml's own training functions.

The tuned row runs the tune stage's functions (`open_study` with its warm starts,
`run_study`, `chosen`, `apply_tuned`) with the default `tune` section and a `timeout_s`
budget, so it searches whatever families the default `tune.space` lists in this version.
"""

import time
from pathlib import Path

import optuna

from benchmarks.model_systems import BUDGET_S, Data, Result, timed_fit
from tabml.model import tune, tune_cv, tune_summary
from tabml.model.regressors import fit_regression
from tabml.model.tasks import training_task
from tabml.model.train import fit_model
from tabml.model.tuned_params import apply_tuned, tuned_document
from tabml.params import RegressionParams, TrainParams, TuneParams


def _fit(data: Data, params: TrainParams):
    """tabml's own fit: the classifier pipeline, or the regressor with its conformal cut."""
    run = data.run
    if data.task == "regression":
        return fit_regression(run.train, run.profile, params, RegressionParams())[0]
    return fit_model(run.train, run.profile, params)


AUTO_SYSTEM = "tabml auto (the default)"


def tabml_auto(data: Data) -> Result:
    """`train.model: auto` with its defaults, fitted as the train stage fits it."""
    params = TrainParams(model="auto")
    return timed_fit(AUTO_SYSTEM, data, lambda: _fit(data, params), data.x_test)


def tabml_tuned(data: Data, budget_s: float = BUDGET_S) -> Result:
    """The tune stage's search for `budget_s` seconds (no trial or fit cap), then the chosen
    family refitted by tabml's training code and scored on the test split."""
    base = TrainParams()
    metric = "neg_root_mean_squared_error" if data.task == "regression" else "neg_log_loss"
    assert metric in training_task(data.run.profile).tune_metrics
    settings = TuneParams(n_trials=None, max_fits=None, timeout_s=budget_s, metric=metric)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    run = data.run
    started = time.perf_counter()
    study = tune.open_study(
        optuna.storages.InMemoryStorage(),
        "bench",
        settings,
        tune_cv.task_families(settings, run.profile),
        base,
    )
    tune.run_study(study, tune.make_objective(run.train, run.profile, base, settings), settings)
    search_s = time.perf_counter() - started
    best = tune_summary.chosen(study, base, settings)
    document = tuned_document(best["model"], best["hyperparameters"], {}, "bench", best["trial"])
    params = apply_tuned(base, document, Path("bench"))
    result = timed_fit(
        f"tabml tuned {budget_s:g} s",
        data,
        lambda: _fit(data, params),
        data.x_test,
    )
    result.fit_s += search_s
    result.trials = len(tune.finished_trials(study))
    result.note = f"chose {best['model']} {best['hyperparameters']}"
    return result
