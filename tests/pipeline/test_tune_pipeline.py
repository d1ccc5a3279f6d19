"""The tune stage under real DVC: a no-op by default, resumed by a larger n_trials."""

import joblib
import optuna
import pytest
import yaml

from testkit import run

ESTIMATORS = {
    "logistic_regression": "LogisticRegression",
    "random_forest": "RandomForestClassifier",
    "gradient_boosting": "GradientBoostingClassifier",
    "hgb": "HistGradientBoostingClassifier",
}
SMALL = ["-S", "train.use_tuned=true", "-S", "tune.folds=3", "-S", "tune.startup_trials=3"]


@pytest.fixture(scope="module")
def repo(repo_copy_factory):
    return repo_copy_factory("tune")


def _journal_trials(repo) -> list:
    from optuna.storages.journal import JournalFileBackend

    storage = optuna.storages.JournalStorage(
        JournalFileBackend(str(repo / "models/tune_study/journal.log"))
    )
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage).trials


def test_defaults_run_no_trial_then_a_larger_budget_resumes_the_study(repo):
    out = run(["dvc", "repro", "train"], repo).stdout
    assert "tune: train.use_tuned is false, no trial run" in out
    assert [p.name for p in (repo / "models/tune_study").iterdir()] == ["README.txt"]
    assert yaml.safe_load((repo / "models/tuned_params.yaml").read_text())["tuned"] is False

    first = run(["dvc", "exp", "run", *SMALL, "-S", "tune.n_trials=4", "train"], repo).stdout
    assert "journal.log: 0 trials" in first and "tune: ran 4 trials" in first
    trials_after_4 = [(t.params, t.value) for t in _journal_trials(repo)]

    second = run(["dvc", "exp", "run", *SMALL, "-S", "tune.n_trials=6", "train"], repo).stdout
    assert "journal.log: 4 trials" in second and "tune: ran 2 trials" in second
    trials = _journal_trials(repo)
    assert len(trials) == 6
    assert [(t.params, t.value) for t in trials[:4]] == trials_after_4

    # train fitted the family and hyperparameters the tune stage chose
    tuned = yaml.safe_load((repo / "models/tuned_params.yaml").read_text())
    estimator = joblib.load(repo / "models/model.joblib").named_steps["model"]
    assert type(estimator).__name__ == ESTIMATORS[tuned["model"]]
    params = estimator.get_params()
    chosen = dict(tuned[tuned["model"]])
    if tuned["model"] == "hgb" and not params["early_stopping"]:  # a small split's own ceiling
        chosen["max_iter"] = chosen.pop("small_max_iter")
    for name, value in chosen.items():
        if name in params:  # the others (e.g. early_stopping_rows) choose between settings
            assert params[name] == value, name
