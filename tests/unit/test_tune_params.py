"""The `tune` section of params.yaml: a bad search space stops with a dotted name, no trial."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tabml.params import ParamsError, TuneParams, load_params

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("space", "named"),
    [
        ("{xgboost: {eta: {low: 0.1, high: 0.3}}}", r"tune\.space\.xgboost: Extra inputs"),
        ("{random_forest: {n_trees: {low: 1, high: 9}}}", r"tune\.space\.random_forest\.n_trees"),
        ("{random_forest: {max_depth: {low: 6, high: 2}}}", r"max_depth: .*empty range"),
        ("{random_forest: {max_depth: {low: 3, high: 3}}}", r"max_depth: .*empty range"),
        ("{random_forest: {max_depth: {choices: []}}}", r"max_depth: .*`choices` is empty"),
        ("{random_forest: {max_depth: {low: 2.5, high: 6}}}", r"max_depth: .*valid integer"),
        ("{random_forest: {max_depth: {low: 2}}}", r"max_depth: .*needs `low` and `high`"),
        ("{random_forest: {max_depth: {low: 1, high: 3, choices: [2]}}}", r"max_depth: .*not both"),
        ("{logistic_regression: {C: {low: 0, high: 2}}}", r"logistic_regression\.C: .*greater"),
        ("{logistic_regression: {C: {low: -1, high: 2, log: true}}}", r"\.C: .*log range"),
        ("{gradient_boosting: {max_depth: {choices: [2, 0]}}}", r"gradient_boosting\.max_depth"),
        ("{}", r"tune\.space: .*no model family"),
    ],
)
def test_a_bad_search_space_names_its_dotted_key(tmp_path, space, named):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"tune": {"space": yaml.safe_load(space)}}))
    with pytest.raises(ParamsError, match=named):
        load_params(path)


@pytest.mark.parametrize(
    ("tune", "named"),
    [
        ("n_trials: null", r"tune: .*needs a budget"),
        ("n_trials: 0", r"tune\.n_trials"),
        ("folds: 1", r"tune\.folds"),
        ("metric: f2", r"tune\.metric"),
        ("timeout_s: -5", r"tune\.timeout_s"),
        ("max_fits: 0", r"tune\.max_fits"),
        ("max_fits: 2", r"tune: .*max_fits \(2\) < folds \(3\): no trial fits"),
        ("n_jobs: 2", r"tune: .*parallel trials \(n_jobs > 1\) need max_fits: null"),
    ],
)
def test_bad_budget_cv_or_metric_names_the_key(tmp_path, tune, named):
    path = tmp_path / "params.yaml"
    path.write_text(f"tune:\n  {tune}\n")
    with pytest.raises(ParamsError, match=named):
        load_params(path)


def test_a_space_lists_only_what_it_searches():
    space = TuneParams.model_validate(
        {"space": {"random_forest": {"max_depth": {"choices": [3, None]}}}}
    ).space
    assert list(space.families()) == ["random_forest"]
    assert list(space.random_forest.searched()) == ["max_depth"]
    assert space.random_forest.max_depth.choices == [3, None]


@pytest.mark.integration  # the stage in a child process
def test_the_stage_stops_on_a_bad_space_before_any_trial(tmp_path):
    space = {"random_forest": {"max_depth": {"low": 9, "high": 2}}}
    params = {"train": {"use_tuned": True}, "tune": {"space": space}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run(
        [sys.executable, "-m", "tabml.stages.tune"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: params.yaml: ")
    assert "tune.space.random_forest.max_depth" in lines[0]
    assert not (tmp_path / "models").exists()  # no study, no trial


@pytest.mark.integration  # the stage in a child process
def test_with_defaults_the_stage_runs_no_trial_and_imports_nothing_heavy(tmp_path):
    (tmp_path / "params.yaml").write_text("{}\n")  # every default: train.use_tuned is false
    code = (
        "import sys, tabml.stages.tune as stage; stage.main(); "
        "print(sorted(m for m in ('pandas', 'sklearn', 'optuna') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "tune: train.use_tuned is false, no trial run (see docs/tuning.md)",
        "[]",
    ]
    tuned = yaml.safe_load((tmp_path / "models/tuned_params.yaml").read_text())
    assert tuned["tuned"] is False
    assert sorted(p.name for p in (tmp_path / "models/tune_study").iterdir()) == ["README.txt"]
