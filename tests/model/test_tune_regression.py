"""Tuning a regression profile: k-fold CV of the point prediction over the regression families."""

from pathlib import Path

import optuna
import pandas as pd
import pytest
from sklearn.model_selection import KFold, cross_val_score

from tabml.data.profile import load_profile
from tabml.model import tune, tune_cv, tune_summary
from tabml.model.families import families_for
from tabml.model.features import model_frame, split_train_test
from tabml.model.regressors import target_values
from tabml.model.train import build_pipeline, check_family
from tabml.model.tuned_params import apply_tuned, read_tuned
from tabml.params import TrainParams, TuneParams

RMSE = "neg_root_mean_squared_error"


@pytest.fixture(scope="module")
def mass():
    profile = load_profile("penguins_mass")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    return profile, split_train_test(raw, profile.target, 0.3, 42, stratify=False)[0]


def test_a_regression_trials_score_is_scikit_learns_kfold_rmse(mass):
    profile, train = mass
    settings = TuneParams(n_trials=6, folds=3, startup_trials=6, metric=RMSE, prune=False)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = tune.open_study(optuna.storages.InMemoryStorage(), "mass", settings,
                            tune_cv.task_families(settings, profile))  # fmt: skip
    tune.run_study(study, tune.make_objective(train, profile, TrainParams(), settings), settings)
    assert {t.params["model"] for t in study.trials} <= set(families_for("regression"))
    best = tune_summary.best_trial(study, settings)
    family = best.params["model"]
    hyper = tune_summary.hyperparameters(best, TrainParams())
    params = TrainParams(model=family, **{family: hyper})
    fold_rows = len(train)  # a fold model is sized by the whole split, like the final fit (hgb)
    expected = cross_val_score(
        build_pipeline(profile, params, rows=fold_rows),
        model_frame(train, profile.features),
        target_values(train, profile),
        cv=KFold(n_splits=3, shuffle=True, random_state=settings.seed),
        scoring=RMSE,
    ).mean()
    assert best.value == pytest.approx(expected, abs=1e-9)
    assert -best.value < target_values(train, profile).std()  # beats predicting the mean


@pytest.mark.parametrize(
    ("profile_name", "metric", "named"),
    [
        ("penguins_mass", "neg_log_loss", r"tune\.metric: neg_log_loss does not score a regr"),
        ("penguins", RMSE, r"tune\.metric: neg_root_mean_squared_error does not score a class"),
    ],
)
def test_a_metric_of_the_other_task_names_the_key(profile_name, metric, named):
    with pytest.raises(tune_cv.TuneError, match=named):
        tune_cv.task_families(TuneParams(metric=metric), load_profile(profile_name))


def test_a_space_without_a_family_of_the_task_is_a_clear_error():
    only_ridge = TuneParams(space={"ridge": {"alpha": {"low": 0.1, "high": 10.0}}})
    with pytest.raises(tune_cv.TuneError, match=r"tune\.space lists no classification family"):
        tune_cv.task_families(only_ridge, load_profile("penguins"))
    mass = tune_cv.task_families(TuneParams(metric=RMSE), load_profile("penguins_mass"))
    assert list(mass) == ["ridge", "hgb"]


def test_the_stage_tunes_a_regression_profile_and_train_accepts_the_choice(
    run_tune_stage, mass, tmp_path
):
    profile, train = mass
    refused = run_tune_stage(tmp_path / "default", {}, profile="penguins_mass", frame=train)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: params.yaml: tune.metric: neg_log_loss does not score a regression model "
        "(profile 'penguins_mass'): set it to e.g. neg_root_mean_squared_error "
        "(-S tune.metric=neg_root_mean_squared_error)"
    ]
    settings = {"n_trials": 4, "folds": 3, "startup_trials": 2, "metric": RMSE}
    result = run_tune_stage(tmp_path / "rmse", settings, profile="penguins_mass", frame=train)
    assert result.returncode == 0, result.stderr
    document = read_tuned(tmp_path / "rmse/models/tuned_params.yaml")
    assert document["cv"]["metric"] == RMSE and document["cv"]["score"] < 0
    applied = apply_tuned(TrainParams(use_tuned=True), document, Path("tuned_params.yaml"))
    check_family(profile, applied.model)  # train's own check: a regression family
