"""The hyperparameter search: CV scores as scikit-learn computes them, determinism, resume."""

from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from sklearn.model_selection import StratifiedKFold, cross_val_score

from tabml.model import tune, tune_cv, tune_summary
from tabml.model.features import model_frame
from tabml.model.train import build_pipeline
from tabml.model.tuned_params import TunedParamsError, apply_tuned, read_tuned
from tabml.params import TrainParams, TuneParams

SMALL = {"n_trials": 6, "folds": 3, "startup_trials": 3}  # ~10 s on penguins


def _study(train, profile, tune_params, storage=None):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage or optuna.storages.InMemoryStorage()
    name = tune.study_name(train, TrainParams(), tune_params)
    families = tune_cv.task_families(tune_params, profile)
    study = tune.open_study(storage, name, tune_params, families, TrainParams())
    objective = tune.make_objective(train, profile, TrainParams(), tune_params)
    return study, tune.run_study(study, objective, tune_params)


def _trials(study):
    return [
        (t.number, t.state, t.params, t.value, t.intermediate_values)
        for t in sorted(study.trials, key=lambda t: t.number)
    ]


@pytest.fixture(scope="module")
def small(train, profile):
    """One six-trial study (no pruning) for the tests that only read it: settings, study, ran."""
    settings = TuneParams(**SMALL, prune=False)
    return (settings, *_study(train, profile, settings))


@pytest.mark.integration  # searches fitting dozens of models: seconds
def test_a_complete_trials_score_is_scikit_learns_cross_val_score(train, profile, small):
    settings, study, ran = small
    assert ran == 6 and len(study.trials) == 6
    trial = tune_summary.best_trial(study, settings)
    hyper = tune_summary.hyperparameters(trial, TrainParams())
    family = trial.params["model"]
    params = TrainParams(model=family, **{family: hyper})
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    fold_rows = len(train)  # a fold model is sized by the whole split, like the final fit (hgb)
    expected = cross_val_score(
        build_pipeline(profile, params, rows=fold_rows),
        model_frame(train, profile.features),
        labels,
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=settings.seed),
        scoring=settings.metric,
    ).mean()
    assert trial.value == pytest.approx(expected, abs=1e-12)
    # the searched values lie in the declared space
    for name, value in hyper.items():
        dim = getattr(settings.space.families()[family], name)
        if dim is not None:
            assert dim.low <= value <= dim.high


@pytest.mark.integration  # searches fitting dozens of models: seconds
def test_resume_runs_only_the_missing_trials_and_keeps_the_first_ones(
    train, profile, small, tmp_path
):
    settings, uninterrupted, _ = small
    four = settings.model_copy(update={"n_trials": 4})
    journal = tmp_path / "study.journal"
    fresh, first = _study(train, profile, four, tune.journal_storage(journal))
    fresh_trials, fresh_summary = _trials(fresh), tune_summary.summary(fresh, four)
    fresh_chosen = tune_summary.chosen(fresh, TrainParams(), four)
    resumed, second = _study(train, profile, settings, tune.journal_storage(journal))
    assert (first, second) == (4, 2)
    assert len(resumed.trials) == 6
    assert _trials(resumed)[:4] == fresh_trials
    # resuming gives the trials an uninterrupted run gives
    assert _trials(resumed) == _trials(uninterrupted)
    # the budget is reached: a rerun with the same n_trials runs nothing
    assert _study(train, profile, settings, tune.journal_storage(journal))[1] == 0
    # a smaller budget over the longer study reports what the fresh short run reports
    assert tune_summary.summary(resumed, four) == fresh_summary
    assert tune_summary.chosen(resumed, TrainParams(), four) == fresh_chosen


def test_a_new_study_first_tries_each_familys_defaults_then_the_middle_of_its_space(profile, small):
    _, study, _ = small
    first = [t.params for t in sorted(study.trials, key=lambda t: t.number)[:4]]
    # params.yaml's default space for a classifier (ridge is regression only): train's
    # defaults first, then log ranges at their geometric middle, ints rounded
    assert first == [
        {"model": "logistic_regression", "logistic_regression.C": 1.0},
        {
            "model": "hgb",
            "hgb.learning_rate": 0.05,
            "hgb.max_leaf_nodes": 31,
            "hgb.min_samples_leaf": 20,
            "hgb.l2_regularization": 1.0,
            "hgb.max_features": 1.0,
            "hgb.small_max_iter": 200,
        },
        {"model": "logistic_regression", "logistic_regression.C": pytest.approx(0.1**0.5)},
        {
            "model": "hgb",
            "hgb.learning_rate": pytest.approx(0.003**0.5),
            "hgb.max_leaf_nodes": 30,  # sqrt(7 * 127) = 29.8
            "hgb.min_samples_leaf": 14,
            "hgb.l2_regularization": pytest.approx(0.1),
            "hgb.max_features": pytest.approx(0.7),
            "hgb.small_max_iter": 122,  # sqrt(30 * 500) = 122.5
        },
    ]
    # a default outside the searched range starts at the nearest value the range can draw
    narrow = {"logistic_regression": {"C": {"low": 2.0, "high": 8.0, "log": True}}}
    families = tune_cv.task_families(TuneParams(space=narrow), profile)
    assert tune.first_looks(families, TrainParams()) == [
        {"model": "logistic_regression", "logistic_regression.C": 2.0},
        {"model": "logistic_regression", "logistic_regression.C": pytest.approx(4.0)},
    ]
    choices = {"logistic_regression": {"C": {"choices": [0.5, 2.0]}}}
    looks = tune.first_looks(tune_cv.task_families(TuneParams(space=choices), profile))
    assert looks == [{"model": "logistic_regression", "logistic_regression.C": 0.5}]


@pytest.mark.integration  # searches fitting dozens of models: seconds
def test_the_fits_budget_stops_before_a_trial_that_would_go_past_it(train, profile):
    few = TuneParams(**{**SMALL, "n_trials": 40, "max_fits": 10})
    study, ran = _study(train, profile, few)
    summary = tune_summary.summary(study, few)
    assert summary["trials"] == ran < 40
    assert summary["fits"] <= 10 < summary["fits"] + few.folds  # no room for one more trial
    # a study run to a larger budget, read with the smaller one, is the short run
    longer, _ = _study(train, profile, TuneParams(**{**SMALL, "n_trials": 40, "max_fits": 20}))
    assert len(longer.trials) > len(study.trials)
    assert tune_summary.summary(longer, few) == summary
    assert tune_summary.chosen(longer, TrainParams(), few) == tune_summary.chosen(
        study, TrainParams(), few
    )


@pytest.mark.integration  # searches fitting dozens of models: seconds
def test_a_hopeless_trial_is_pruned_below_the_median_before_its_last_fold(train, profile):
    # Tiny C predicts nearly one class: such trials fall far below the others after 2 folds.
    space = {"logistic_regression": {"C": {"low": 1e-5, "high": 10.0, "log": True}}}
    settings = TuneParams(n_trials=8, folds=5, startup_trials=2, space=space)
    study, _ = _study(train, profile, settings)
    state = optuna.trial.TrialState
    pruned = [t for t in study.trials if t.state == state.PRUNED]
    assert pruned
    for trial in pruned:
        step = max(trial.intermediate_values)
        assert step < 4  # stopped before the last fold
        earlier = [
            t.intermediate_values[step]
            for t in study.trials
            if t.state == state.COMPLETE and t.number < trial.number
        ]
        assert trial.intermediate_values[step] < np.median(earlier)
    summary = tune_summary.summary(study, settings)
    assert summary["pruned"] == len(pruned)
    assert summary["fits"] == sum(len(t.intermediate_values) for t in study.trials) < 8 * 5


def test_a_repeated_proposal_reuses_the_earlier_score_without_fitting(train, profile):
    space = {"logistic_regression": {"C": {"choices": [1e-4, 1.0]}}}
    settings = TuneParams(n_trials=6, folds=3, startup_trials=2, space=space)
    study, _ = _study(train, profile, settings)
    repeats = [t for t in study.trials if "same_as_trial" in t.user_attrs]
    assert repeats  # two choices, six trials
    for trial in repeats:
        earlier = study.trials[trial.user_attrs["same_as_trial"]]
        assert earlier.params == trial.params and earlier.value == trial.value
        assert "fold_scores" not in trial.user_attrs
    assert tune_summary.summary(study, settings)["fits"] == 2 * 3


@pytest.mark.integration  # searches fitting dozens of models: seconds
def test_parallel_trials_fill_the_same_budget(train, profile):
    # Not reproducible (docs/tuning.md), but the budget and the resume rule hold.
    study, ran = _study(
        train, profile, TuneParams(**{**SMALL, "n_trials": 4, "n_jobs": 2, "max_fits": None})
    )
    assert ran == 4 and len(tune.finished_trials(study)) == 4


def test_a_timeout_alone_stops_after_the_trial_that_crosses_it(train, profile):
    settings = TuneParams(**{**SMALL, "n_trials": None, "timeout_s": 0.001})
    study, ran = _study(train, profile, settings)
    assert ran == 1  # a trial (3 fits) takes far longer than 1 ms; the check is between trials
    assert tune_summary.summary(study, settings)["trials"] == 1


def test_too_few_rows_of_a_class_for_the_folds_is_a_clear_error(train, profile):
    small = train.groupby(profile.target).head(3)
    with pytest.raises(tune_cv.TuneError, match=r"tune\.folds=5 but class"):
        tune.make_objective(small, profile, TrainParams(), TuneParams(folds=5))


def test_the_study_name_follows_the_search_not_the_budget(train):
    base = tune.study_name(train, TrainParams(), TuneParams())
    budget = TuneParams(n_trials=50, timeout_s=9, max_fits=99)
    assert tune.study_name(train, TrainParams(), budget) == base
    assert tune.study_name(train, TrainParams(), TuneParams(folds=5)) != base
    assert tune.study_name(train.iloc[1:], TrainParams(), TuneParams()) != base


OUTPUTS = [
    "models/tuned_params.yaml",
    "reports/tune/summary.json",
    "reports/tune/history.json",
    "reports/tune/importance.json",
    "reports/tune/families.json",
]


def test_the_stage_writes_consistent_outputs_and_trains_on_them(run_tune_stage, tmp_path):
    # Byte-identical outputs from separate runs (in process and on three Dask engines):
    # tests/model/test_tune_dask.py, slow tier.
    runs = [tmp_path / "a"]
    result = run_tune_stage(runs[0], SMALL)
    assert result.returncode == 0, result.stderr
    for name in OUTPUTS:
        assert (runs[0] / name).is_file(), name
    summary = yaml.safe_load((runs[0] / "reports/tune/summary.json").read_text())
    assert summary["trials"] == 6 and summary["complete"] + summary["pruned"] == 6
    history = yaml.safe_load((runs[0] / "reports/tune/history.json").read_text())
    best_so_far = [p["best_cv_score"] for p in history if "best_cv_score" in p]
    assert best_so_far == sorted(best_so_far) and best_so_far[-1] == summary["best"]["cv_score"]
    document = read_tuned(runs[0] / "models/tuned_params.yaml")
    assert document["cv"]["score"] == summary["best"]["cv_score"]
    assert document["trial"] == summary["best"]["trial"]
    assert document["cv"]["score"] == summary["families"][document["model"]]["best_cv_score"]
    applied = apply_tuned(TrainParams(use_tuned=True), document, Path("tuned_params.yaml"))
    assert applied.model == document["model"]
    assert getattr(applied, applied.model).model_dump() == document[applied.model]


def test_training_with_an_untuned_file_says_how_to_get_one():
    with pytest.raises(TunedParamsError, match=r"not tuned .*dvc repro"):
        apply_tuned(TrainParams(use_tuned=True), {"tuned": False}, Path("t.yaml"))


def test_a_tuned_file_with_an_invalid_value_names_the_key():
    document = {"tuned": True, "model": "random_forest", "random_forest": {"max_depth": 0}}
    with pytest.raises(TunedParamsError, match=r"random_forest\.max_depth"):
        apply_tuned(TrainParams(use_tuned=True), document, Path("t.yaml"))


def test_importances_are_per_family_and_normalised(small):
    settings, study, _ = small
    points = tune_summary.importance_points(study, settings)
    for family in {p["param"].split(".")[0] for p in points}:
        total = sum(p["importance"] for p in points if p["param"].startswith(family + "."))
        assert total == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.diff([-p["importance"] for p in points]) >= 0)
