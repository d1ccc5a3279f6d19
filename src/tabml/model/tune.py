"""The hyperparameter search: a seeded, resumable Optuna study scored by k-fold CV.

Only the training split is ever seen. Each trial picks `train.model` and that family's
hyperparameters from `tune.space`, fits one pipeline per fold (the same folds for every
trial; tabml.model.tune_cv) and reports the running CV mean after each fold, so the median
pruner can stop a hopeless trial early. The budget is trials and CV fits (pruned trials count
the folds they got through). Trials run one at a time (tune.n_jobs 1), each with a sampler
seeded from (tune.seed, number of finished trials): a resumed study continues exactly as an
uninterrupted one would, and the same seed, params and data give the same trials.
"""

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import optuna
import pandas as pd

from tabml.data.profile import DatasetProfile
from tabml.model.tune_cv import cv_folds, fold_score, task_families
from tabml.params import SearchDimension, TrainParams, TuneParams

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
# How much to search, not what a trial scores: left out of the study's name, so raising it resumes.
BUDGET = {"n_trials", "timeout_s", "max_fits", "n_jobs"}


def study_name(train: pd.DataFrame, train_params: TrainParams, tune: TuneParams) -> str:
    """A name that changes whenever a trial's score could: space, CV, seeds, base params, data.

    The budget (n_trials, timeout_s, max_fits, n_jobs) is left out, so raising it resumes the
    study; any other change starts a fresh study (in the same journal file) instead of mixing
    scores.
    """
    key = {
        "tune": tune.model_dump(mode="json", exclude=BUDGET),
        "train": train_params.model_dump(mode="json", exclude={"model", "use_tuned"}),
        "data": hashlib.sha256(pd.util.hash_pandas_object(train).to_numpy().tobytes()).hexdigest(),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return f"tune-{digest[:12]}"


def sampler_for(
    tune: TuneParams, finished: int, parallel: bool = False
) -> optuna.samplers.TPESampler:
    """TPE seeded for the next trial; `group` models each family's own hyperparameters."""
    seed = int(np.random.SeedSequence([tune.seed, finished]).generate_state(1)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            n_startup_trials=tune.startup_trials,
            seed=seed,
            multivariate=True,
            group=True,
            # One at a time, a RUNNING trial is one killed mid-run, not a peer to steer away
            # from: it must not change the proposals. In parallel, steering away is the point.
            constant_liar=parallel,
        )


def suggest(trial: optuna.Trial, name: str, dim: SearchDimension, whole: bool) -> Any:
    """One hyperparameter value: a categorical choice, or an int/float from the range."""
    if dim.choices is not None:
        return trial.suggest_categorical(name, dim.choices)
    if whole:
        return trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
    return trial.suggest_float(name, float(dim.low), float(dim.high), log=dim.log)


def _is_whole(family_params: type, name: str) -> bool:
    annotation = family_params.model_fields[name].annotation
    return int in (getattr(annotation, "__args__", None) or (annotation,))


def trial_params(
    trial: optuna.Trial, train_params: TrainParams, families: dict[str, Any]
) -> TrainParams:
    """The train params one trial tries: its family, searched values over the train section."""
    family = trial.suggest_categorical("model", list(families))
    space = families[family]
    values = getattr(train_params, family).model_dump()
    for name, dim in space.searched().items():
        whole = _is_whole(space.family_params, name)
        values[name] = suggest(trial, f"{family}.{name}", dim, whole)
    return train_params.model_copy(
        update={"model": family, family: type(space).family_params(**values)}
    )


def make_objective(
    train: pd.DataFrame, profile: DatasetProfile, train_params: TrainParams, tune: TuneParams
) -> Callable[[optuna.Trial], float]:
    """The CV score of a trial (greater is better), reported fold by fold for pruning.

    The folds run through joblib: one after another in this process by default, on the Dask
    workers inside `fold_backend` (results arrive in fold order either way, so the reports,
    the pruning and the score do not depend on where the folds ran).
    """
    families = task_families(tune, profile)
    folds = cv_folds(train, profile, tune)

    def objective(trial: optuna.Trial) -> float:
        params = trial_params(trial, train_params, families)
        earlier = _same_params(trial)
        if earlier is not None:  # TPE can propose a finished trial again: no need to refit
            trial.set_user_attr("same_as_trial", earlier.number)
            if earlier.state == optuna.trial.TrialState.PRUNED:
                raise optuna.TrialPruned()
            return earlier.value
        jobs = (
            joblib.delayed(fold_score)(train, fit, validation, profile, params, tune.metric)
            for fit, validation in folds
        )
        scores: list[float] = []
        results = joblib.Parallel(return_as="generator")(jobs)
        try:
            for step, score in enumerate(results):
                scores.append(score)
                trial.set_user_attr("fold_scores", scores)
                trial.report(float(np.mean(scores)), step)
                if tune.prune and trial.should_prune():
                    raise optuna.TrialPruned()
        finally:
            # A pruned trial's folds still queued are cancelled, running ones thrown away
            # (docs/tuning.md): expected here, so joblib's warning about them is not shown.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "[0-9]+ tasks (have been|which were)")
                results.close()
        return float(np.mean(scores))

    return objective


def _same_params(trial: optuna.Trial) -> optuna.trial.FrozenTrial | None:
    """The first finished trial of the study with exactly this trial's parameters, if any."""
    for earlier in finished_trials(trial.study):
        if earlier.params == trial.params:
            return earlier
    return None


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Complete and pruned trials; a trial killed mid-run (still RUNNING) is not counted."""
    return study.get_trials(deepcopy=False, states=FINISHED)


def trial_fits(trial: optuna.trial.FrozenTrial) -> int:
    """CV fits a trial made: its folds, as far as it got (0 for a reused earlier score)."""
    return len(trial.user_attrs.get("fold_scores", []))


def counted_trials(study: optuna.Study, tune: TuneParams) -> list[optuna.trial.FrozenTrial]:
    """The finished trials the budget covers: the first `n_trials`, each started with room
    for all its folds within `max_fits` (all of them with a timeout only).

    A study resumed to a larger budget and then asked for a smaller one reports what a fresh
    run with the smaller budget would, not its later trials.
    """
    trials = sorted(finished_trials(study), key=lambda t: t.number)
    if tune.n_trials is not None:
        trials = trials[: tune.n_trials]
    if tune.max_fits is None:
        return trials
    counted, fits = [], 0
    for trial in trials:
        if fits + tune.folds > tune.max_fits:
            break
        counted.append(trial)
        fits += trial_fits(trial)
    return counted


def _budget_left(study: optuna.Study, tune: TuneParams) -> bool:
    """Whether a fresh run with this budget would start another trial."""
    finished = finished_trials(study)
    counted = counted_trials(study, tune)
    if len(counted) < len(finished):
        return False
    if tune.n_trials is not None and len(counted) >= tune.n_trials:
        return False
    used = sum(trial_fits(t) for t in counted)
    return tune.max_fits is None or used + tune.folds <= tune.max_fits


def run_study(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    tune: TuneParams,
    on_trial: Callable[[optuna.trial.FrozenTrial], None] | None = None,
) -> int:
    """Run trials until the study holds `n_trials` finished ones, the next trial's folds would
    go past `max_fits`, or `timeout_s` has passed.

    Returns:
        The number of trials this call ran (0 when the stored study already has enough).
    """
    # Optuna calls these with each finished trial (queued trials sit at the end of study.trials)
    callbacks = [lambda _, trial: on_trial(trial)] if on_trial is not None else []
    if tune.n_jobs > 1:
        return _run_parallel(study, objective, tune, callbacks)
    started, ran = time.monotonic(), 0
    while True:
        if not _budget_left(study, tune):
            return ran
        finished = len(finished_trials(study))
        if tune.timeout_s is not None and time.monotonic() - started >= tune.timeout_s:
            return ran
        study.sampler = sampler_for(tune, finished)
        # catch=(): a failing fit is a bug or bad data, not a trial to skip silently
        study.optimize(objective, n_trials=1, catch=(), callbacks=callbacks, gc_after_trial=False)
        ran += 1


def _run_parallel(study, objective, tune: TuneParams, callbacks: list) -> int:
    """`n_jobs` threads share one seeded sampler: faster on idle cores, but which trials
    are finished when a new one is proposed depends on timing, so results are not
    reproducible (docs/tuning.md)."""
    finished = len(finished_trials(study))
    missing = None if tune.n_trials is None else tune.n_trials - finished
    if missing is not None and missing <= 0:
        return 0
    study.sampler = sampler_for(tune, finished, parallel=True)
    study.optimize(objective, n_trials=missing, timeout=tune.timeout_s, n_jobs=tune.n_jobs,
                   catch=(), callbacks=callbacks, gc_after_trial=False)  # fmt: skip
    return len(finished_trials(study)) - finished


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    tune: TuneParams,
    families: dict[str, Any],
    base: TrainParams | None = None,
) -> optuna.Study:
    """Create the study, or load it to resume (the same name means the same search).

    A new study starts with `first_looks(families, base)` queued: its first trials, in order.
    """
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=tune.startup_trials, n_warmup_steps=1, n_min_trials=1
    )
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="maximize",
        sampler=sampler_for(tune, 0),
        pruner=pruner,
        load_if_exists=True,
    )
    if not study.get_trials(deepcopy=False):
        for look in first_looks(families, base):
            study.enqueue_trial(look)
    return study


def first_looks(families: dict[str, Any], base: TrainParams | None = None) -> list[dict[str, Any]]:
    """Warm starts: each family (in `tune.space` order) at its `base` values (train.<family>,
    the defaults the benchmark chose, brought inside the searched ranges), then each family at
    the middle of its space (when that differs).

    The defaults first: a search never ends worse than the default model on its own CV. The
    middles next: random start-up trials can draw a family only where it fits badly
    (boosting with a few trees and a small learning rate), and TPE then never returns to it;
    measured on flights, 2 of 5 seeds never tried a good gradient boosting (docs/tuning.md). A
    look at every family's middle gives each one a fair score before TPE compares them.
    """
    defaults, middles = [], []
    for family, space in families.items():
        whole = {name: _is_whole(space.family_params, name) for name in space.searched()}
        look = {"model": family}
        middles.append(
            look | {f"{family}.{n}": middle(d, whole[n]) for n, d in space.searched().items()}
        )
        if base is not None:
            values = getattr(base, family)
            defaults.append(look | {
                f"{family}.{n}": inside(d, getattr(values, n), whole[n])
                for n, d in space.searched().items()
            })  # fmt: skip
    return defaults + [m for m in middles if m not in defaults]


def inside(dim: SearchDimension, value: Any, whole: bool) -> Any:
    """`value` if the dimension can draw it, else the nearest value it can (the first choice
    for a value not among the choices)."""
    if dim.choices is not None:
        return value if value in dim.choices else dim.choices[0]
    clipped = min(max(float(value), float(dim.low)), float(dim.high))
    return round(clipped) if whole else clipped


def middle(dim: SearchDimension, whole: bool) -> Any:
    """The first choice, or the middle of the range (geometric on a log scale, rounded for
    whole numbers)."""
    if dim.choices is not None:
        return dim.choices[0]
    low, high = float(dim.low), float(dim.high)
    mid = float(np.sqrt(low * high)) if dim.log else (low + high) / 2
    return round(mid) if whole else mid


def journal_storage(path: Path) -> optuna.storages.JournalStorage:
    """The study's storage: an append-only Optuna journal file (a DVC output, persisted)."""
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
