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
