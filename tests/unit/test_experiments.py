"""Parsing `dvc exp show --json` (shape as DVC 3.67 prints it), ranking and the sweep grid."""

import pytest

from tabml.experiments.runs import (
    experiments_table,
    flatten,
    load_grid,
    parse_exp_show,
    rank,
    varying_params,
)


def _data(rev, model, metrics):
    params = {"params.yaml": {"data": {"train": {"model": model, "seed": 42}}}}
    found = {"reports/metrics.json": {"data": metrics}} if metrics else {}
    return {"rev": rev, "timestamp": None, "params": params, "metrics": found, "deps": {}}


def _exp(name, rev, model, metrics, state=None, error=None):
    executor = None if state is None else {"state": state, "name": "dvc-task", "local": {}}
    run = {"rev": rev, "name": name, "data": _data(rev, model, metrics), "error": error}
    return {"revs": [run], "executor": executor, "name": name}


EXP_SHOW = [
    {"rev": "workspace", "name": None, "data": _data("workspace", "lr", {"f1_macro": 0.9})},
    {
        "rev": "c" * 40,
        "name": "main",
        "data": _data("c" * 40, "lr", {"f1_macro": 0.9, "log_loss": 0.3}),
        "experiments": [
            _exp("good", "a" * 40, "gb", {"f1_macro": 0.95, "log_loss": 0.4}),
            _exp("calm", "b" * 40, "rf", {"f1_macro": 0.91, "log_loss": 0.2}, state="success"),
            _exp("waiting", "d" * 40, "rf", {}, state="queued"),
            _exp("broken", "e" * 40, "rf", {}, state="failed", error={"type": "X"}),
        ],
    },
]


def test_parse_splits_baselines_from_experiments_with_states():
    baselines, experiments = parse_exp_show(EXP_SHOW)
    assert [b.name for b in baselines] == ["workspace", "main"]
    assert [(e.name, e.state) for e in experiments] == [
        ("good", "success"),
        ("calm", "success"),
        ("waiting", "queued"),
        ("broken", "failed"),
    ]
    good = experiments[0]
    assert good.params["train.model"] == "gb" and good.metrics["log_loss"] == 0.4
    assert good.baseline == "c" * 40 and good.label == "good (aaaaaaa)"


def test_rank_follows_the_metric_direction_and_skips_unfinished():
    _, experiments = parse_exp_show(EXP_SHOW)
    assert [e.name for e in rank(experiments, "f1_macro")] == ["good", "calm"]
    assert [e.name for e in rank(experiments, "log_loss")] == ["calm", "good"]
    assert [e.name for e in rank(experiments, "log_loss", higher_is_better=True)] == [
        "good",
        "calm",
    ]


def test_rank_refuses_a_metric_of_unknown_direction():
    _, experiments = parse_exp_show(EXP_SHOW)
    with pytest.raises(ValueError, match="higher-is-better"):
        rank(experiments, "test_rows")


def test_flatten_and_varying_params():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}
    baselines, experiments = parse_exp_show(EXP_SHOW)
    assert varying_params(baselines + experiments) == ["train.model"]


def test_table_has_a_row_per_experiment_and_dash_for_missing():
    _, experiments = parse_exp_show(EXP_SHOW)
    table = experiments_table(experiments, ["train.model"], ["f1_macro"]).splitlines()
    assert table[0] == "| experiment | state | train.model | f1_macro |"
    assert "| good (aaaaaaa) | success | gb | 0.95 |" in table
    assert "| waiting (ddddddd) | queued | rf | - |" in table


def test_grid_crosses_values_within_each_family(tmp_path):
    grid = tmp_path / "sweep.yaml"
    grid.write_text(
        "logistic_regression:\n  C: [0.1, 1.0]\n"
        "random_forest:\n  n_estimators: [10, 20]\n  max_depth: [2, 3]\n"
    )
    runs = load_grid(grid)
    assert len(runs) == 2 + 4
    assert runs[0] == ["train.model=logistic_regression", "train.logistic_regression.C=0.1"]
    assert [
        "train.model=random_forest",
        "train.random_forest.max_depth=3",
        "train.random_forest.n_estimators=20",
    ] in runs


def test_committed_sweep_names_only_real_hyperparameters():
    from tabml.params import TrainParams

    for overrides in load_grid("sweep.yaml"):
        family = overrides[0].split("=")[1]
        section = getattr(TrainParams(), family)
        for override in overrides[1:]:
            assert override.split("=")[0].split(".")[-1] in type(section).model_fields


def _row(name, f1, state="success"):
    from tabml.experiments.runs import Experiment

    return Experiment(name, name * 5, state, metrics={} if f1 is None else {"f1_macro": f1})


def test_ties_with_the_best_are_named_in_name_order():
    from tabml.experiments.runs import tie_message, tied_with_best

    rows = [_row("c", 0.93), _row("b", 0.91), _row("a", 0.93), _row("d", 0.93)]
    ranked = rank(rows, "f1_macro")
    tied = tied_with_best(ranked, "f1_macro")
    assert [e.name for e in tied] == ["a", "c", "d"]
    assert tie_message(tied, "f1_macro") == (
        "3 experiments tie at f1_macro=0.93: a, c, d; picked a (first by name)"
    )
    assert tie_message(tied_with_best(rank(rows[:2], "f1_macro"), "f1_macro"), "f1_macro") is None


def test_hidden_rows_are_counted():
    from tabml.experiments.runs import hidden_message

    assert hidden_message(5, 5, 0, "f1_macro") is None
    assert hidden_message(5, 8, 2, "f1_macro") == (
        "3 lower-ranked experiment(s) not shown; 2 experiment(s) not ranked (unfinished, "
        "failed or without f1_macro): `dvc exp show` lists them all"
    )


def test_sweep_progress_is_read_from_the_run_folders_of_this_sweep(tmp_path):
    import json
    import os
    import time

    from tabml.experiments.runs import queue_runs

    since = time.time()
    runs = [("old", 0, "Running stage 'train':\n", since - 100),  # an earlier sweep's
            ("a1", None, "Running stage 'split':\n> x\nRunning stage 'train':\n", since),
            ("b2", 0, "Running stage 'evaluate':\n", since), ("c3", 1, "", since),
            ("d4", None, "", since)]  # fmt: skip
    for rev, code, out, when in runs:
        (tmp_path / rev).mkdir()
        (tmp_path / rev / f"{rev}.json").write_text(json.dumps({"returncode": code}))
        (tmp_path / rev / f"{rev}.out").write_text(out)
        os.utime(tmp_path / rev / f"{rev}.json", (when, when))
    counts = queue_runs(since, 6, tmp_path)
    assert counts.line(125.4) == (
        "sweep: experiment 3-4 of 6 running (stage train, starting), 2/6 done (1 failed), "
        "2 queued; 2m05s"
    )
    assert queue_runs(since, 2, tmp_path / "none").line(3) == (
        "sweep: 0/2 done, 0 running, 2 queued; 0m03s"
    )


def test_queue_refusal_offers_the_way_back_when_params_hold_an_experiment():
    from tabml.experiments.queue_check import GitProblems

    after_exp_run = GitProblems(untracked=[], unstaged=["params.yaml"]).message()
    assert "git add" in after_exp_run and "make restore-baseline" in after_exp_run
    code_edit = GitProblems(untracked=[], unstaged=["src/tabml/model/train.py"]).message()
    assert "make restore-baseline" not in code_edit


def test_test_metrics_keep_bare_names_beside_the_tune_summary():
    # With the tune stage, an experiment reports two metrics files: gates, `make best` and
    # the review still find `f1_macro`; the tune summary's numbers get their file's prefix.
    entry = _data("workspace", "lr", {"f1_macro": 0.9})
    entry["metrics"]["reports/tune/summary.json"] = {"data": {"best": {"cv_score": 0.97}}}
    baselines, _ = parse_exp_show([{"rev": "workspace", "name": None, "data": entry}])
    assert baselines[0].metrics == {
        "f1_macro": 0.9,
        "reports/tune/summary.json:best.cv_score": 0.97,
    }
    (best,) = rank(baselines, "f1_macro")
    assert best.name == "workspace"


def test_main_metrics_keep_bare_names_beside_the_slices_file():
    from tabml.experiments.runs import _files

    section = {
        "reports/metrics.json": {"data": {"f1_macro": 0.9}},
        "reports/slices.json": {"data": {"island": {"Dream": {"f1_macro": 0.8}}}},
    }
    assert _files(section) == {
        "f1_macro": 0.9,
        "reports/slices.json:island.Dream.f1_macro": 0.8,
    }
