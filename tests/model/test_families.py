"""The family registry: every family's entry is all the code a family needs.

A family added as one entry (here: scikit-learn's ExtraTreesClassifier, in a fresh
interpreter, before params.yaml's models are built) is a `train.model` choice with its own
params section and search space, trains, tunes, converts to ONNX and passes the parity check,
with no other change.
"""

import json
import subprocess
import sys

import pytest

from tabml.model.families import FAMILIES, families_for
from tabml.params import Params, TrainParams, load_params
from testkit import ROOT

ONE_ENTRY = r"""
import json
import pandas as pd
from pydantic import Field

from tabml.model import families

class ExtraTreesParams(families.Hyperparameters):
    n_estimators: int = Field(20, ge=1)
    max_depth: int = Field(3, ge=1)

def build(p, seed, rows=None):
    from sklearn.ensemble import ExtraTreesClassifier
    return ExtraTreesClassifier(n_estimators=p.n_estimators, max_depth=p.max_depth,
                                random_state=seed, n_jobs=1)

families.FAMILIES["extra_trees"] = families.Family(
    "extra_trees", ExtraTreesParams, {"max_depth": {"low": 2, "high": 6}},
    {"classification": build},
)
# --- nothing below knows about the new family ---
import optuna
from tabml.data.profile import load_profile
from tabml.model import tune, tune_cv
from tabml.model.features import split_train_test
from tabml.model.tasks import training_task
from tabml.packaging.tasks import packaging_task
from tabml.params import Params, TuneParams
from testkit.models import packaged_from

profile = load_profile("penguins")
raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
train, test = split_train_test(raw, profile.target, 0.3, 42)
params = Params.model_validate({"train": {"model": "extra_trees", "extra_trees": {"max_depth": 4}}})
pipeline, _ = training_task(profile).fit(train, profile, params.train, params)
model = packaged_from(pipeline, profile, train)
parity = packaging_task(profile).check_parity(pipeline, model, test, profile, params, {})
space = TuneParams(n_trials=2, max_fits=6, folds=3, startup_trials=2,
                   space={"extra_trees": {"max_depth": {"low": 2, "high": 6}}})
optuna.logging.set_verbosity(optuna.logging.WARNING)
families = tune_cv.task_families(space, profile)
study = tune.open_study(optuna.storages.InMemoryStorage(), "x", space, families)
tune.run_study(study, tune.make_objective(train, profile, params.train, space), space)
print(json.dumps({
    "estimator": type(pipeline[-1]).__name__,
    "parity_ok": parity.ok,
    "default_space": list(Params().tune.space.families()),
    "trials": [t.params["model"] for t in study.trials],
    "accuracy": float((model.predict(model.inputs(test))[0] == test[profile.target]).mean()),
}))
"""


def test_a_family_is_one_registry_entry():
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", ONE_ENTRY], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["estimator"] == "ExtraTreesClassifier" and found["parity_ok"]
    assert "extra_trees" in found["default_space"]  # its search space joined the default
    assert set(found["trials"]) == {"extra_trees"}
    assert found["accuracy"] > 0.8


def test_params_sections_and_spaces_come_from_the_registry():
    params = load_params()
    assert list(FAMILIES) == [f for f in TrainParams.model_fields if f in FAMILIES]
    searched = params.tune.space.families()
    for name, family in FAMILIES.items():
        assert type(getattr(params.train, name)) is family.params
        assert (name in searched) is family.searched_by_default
        if name in searched:
            assert set(searched[name].searched()) == set(family.space)
    assert set(searched) == {"logistic_regression", "ridge", "hgb"}
    assert Params() == params  # the registry's defaults are the committed params.yaml's


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("classification", ["logistic_regression", "random_forest", "gradient_boosting", "hgb"]),
        ("regression", ["random_forest", "gradient_boosting", "ridge", "hgb"]),
    ],
)
def test_families_for_a_task(task, expected):
    assert families_for(task) == expected
