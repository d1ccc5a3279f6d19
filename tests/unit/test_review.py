"""The review markdown: every changed param and metric, deltas, gates and plot numbers."""

import pytest

from tabml.experiments.base_revision import MetricsDiff
from tabml.experiments.plot_summary import (
    area_changes,
    confusion_changes,
    curve_areas,
    top_features,
)
from tabml.experiments.review import (
    MARKER,
    metric_rows,
    param_rows,
    render,
    tuned_rows,
)
from tabml.model.gates import GateFailure
from tabml.params import TrainParams

DIFF = MetricsDiff(
    base="main",
    commit="f" * 40,
    new={"f1_macro": 0.88, "log_loss": 0.25, "test_rows": 104},
    old={"f1_macro": 0.92, "log_loss": 0.3, "test_rows": 104},
    source="the DVC cache",
)
PARAMS_DIFF = {
    "params.yaml": {
        "train.model": {"old": "logistic_regression", "new": "random_forest"},
        "gates.min.f1_macro": {"old": 0.85, "new": 0.8, "diff": -0.05},
    }
}


def test_metric_rows_give_absolute_and_relative_change_and_verdict():
    rows = {r[0]: r for r in metric_rows(DIFF)}
    assert rows["f1_macro"][1:] == [0.92, 0.88, "-0.04", "-4.35%", "worse"]
    assert rows["log_loss"][1:] == [0.3, 0.25, "-0.05", "-16.67%", "better"]
    assert rows["test_rows"][-1] == "unchanged"


def test_metric_rows_without_base_say_so():
    diff = MetricsDiff("main", "f" * 40, {"f1_macro": 0.9}, None, "unavailable: x")
    assert metric_rows(diff) == [["f1_macro", None, 0.9, None, None, "no base value"]]


def test_param_rows_list_every_changed_param_sorted():
    assert param_rows(PARAMS_DIFF) == [
        ["`gates.min.f1_macro`", 0.85, 0.8],
        ["`train.model`", "logistic_regression", "random_forest"],
    ]


def test_confusion_changes_list_only_changed_cells():
    base = [{"actual": "a", "predicted": "a"}] * 3 + [{"actual": "b", "predicted": "b"}]
    new = [{"actual": "a", "predicted": "a"}] * 2 + [
        {"actual": "a", "predicted": "b"},
        {"actual": "b", "predicted": "b"},
    ]
    assert confusion_changes(base, new) == [["a", "a", 3, 2, -1], ["a", "b", 0, 1, 1]]


def test_curve_area_is_the_trapezoid_area():
    rows = [
        {"class": "a", "fpr": 0.0, "tpr": 0.0},
        {"class": "a", "fpr": 1.0, "tpr": 1.0},
        {"class": "b", "fpr": 0.0, "tpr": 1.0},
        {"class": "b", "fpr": 1.0, "tpr": 1.0},
    ]
    assert curve_areas(rows, "fpr", "tpr") == {"a": 0.5, "b": 1.0}
    assert area_changes(None, rows, "fpr", "tpr")[0] == ["a", None, 0.5, None]
    assert area_changes(rows, rows, "fpr", "tpr")[1] == ["b", 1.0, 1.0, 0.0]


def test_top_features_show_old_rank():
    base = [{"feature": "x", "importance": 0.6}, {"feature": "y", "importance": 0.4}]
    new = [{"feature": "y", "importance": 0.7}, {"feature": "z", "importance": 0.3}]
    assert top_features(base, new) == [["y", 1, 2, 0.7, 0.4], ["z", 2, None, 0.3, None]]


@pytest.fixture
def markdown():
    failure = GateFailure("f1_macro", 0.88, "max_regression", 0.02, 0.92)
    plots = ({}, {"confusion": [{"actual": "a", "predicted": "a"}]})
    return render(DIFF, PARAMS_DIFF, [failure], 8, plots, "reports/review/plots/index.html")


def test_render_has_marker_gates_params_metrics_and_plots(markdown):
    assert markdown.startswith(MARKER)
    assert "# Review: workspace vs `main` (fffffff)" in markdown
    assert "Base metrics: the DVC cache." in markdown
    assert "**1 of 8 gates fail:**" in markdown
    assert "- f1_macro = 0.88 regressed by 0.04 from base 0.92 (max regression 0.02)" in markdown
    assert "| `train.model` | logistic_regression | random_forest |" in markdown
    assert "| f1_macro | 0.92 | 0.88 | -0.04 | -4.35% | worse |" in markdown
    assert "log_loss (lower is better)" in markdown
    assert "`reports/review/plots/index.html`" in markdown
    assert "| a | a | 0 | 1 | 1 |" in markdown


def test_a_changed_dataset_is_said_and_no_metric_is_called_better_or_worse():
    from tabml.experiments.base_revision import dataset_change

    assert dataset_change("penguins", "penguins") is None
    assert dataset_change(None, "wine") is None  # base params unreadable: nothing to say
    note = dataset_change("penguins", "wine")
    assert "data.profile=penguins" in note and "data.profile=wine" in note
    markdown = render(DIFF, PARAMS_DIFF, [], 6, ({}, {}), None, dataset_change=note)
    assert "**Note:** The dataset changed: the base uses data.profile=penguins" in markdown
    assert "| f1_macro | 0.92 | 0.88 | -0.04 | -4.35% | other dataset |" in markdown
    assert "| worse |" not in markdown and "| better |" not in markdown


def test_lift_over_the_baseline_is_tabled_in_each_metrics_good_direction():
    diff = MetricsDiff(
        base="main",
        commit="f" * 40,
        new={
            "accuracy": 0.9,
            "log_loss": 0.3,
            "test_rows": 104,
            "baseline.accuracy": 0.44,
            "baseline.log_loss": 1.07,
        },
        old=None,
        source="unavailable",
    )
    markdown = render(diff, {}, [], 2, ({}, {}), None, min_lift={"log_loss": 0.0})
    assert "## Lift over the majority-class baseline (same test rows)" in markdown
    assert "| accuracy | 0.44 | 0.9 | +0.46 | - |" in markdown
    assert "| log_loss | 1.07 | 0.3 | +0.77 | 0 |" in markdown
    assert "baseline.accuracy (higher is better)" not in markdown


TUNED = {
    "tuned": True,
    "model": "random_forest",
    "random_forest": {"n_estimators": 57, "max_depth": 6, "min_samples_leaf": 5},
    "cv": {"metric": "f1_macro", "folds": 5, "score": 0.98},
}


def test_tuned_parameters_stand_next_to_the_hand_set_ones():
    rows = tuned_rows(TUNED, TrainParams().model_dump())
    assert rows == [
        ["`train.model`", "auto", "random_forest"],
        ["`train.random_forest.max_depth`", 2, 6],
        ["`train.random_forest.min_samples_leaf`", 5, 5],
        ["`train.random_forest.n_estimators`", 25, 57],
        ["CV f1_macro (5 folds)", None, 0.98],
    ]
    markdown = render(DIFF, PARAMS_DIFF, [], 8, ({}, {}), None, tuned=rows)
    assert "## Tuned parameters (models/tuned_params.yaml)" in markdown
    assert "| `train.random_forest.n_estimators` | 25 | 57 |" in markdown


def test_an_untuned_file_adds_no_table():
    assert tuned_rows({"tuned": False}, TrainParams().model_dump()) == []
    assert "Tuned parameters" not in render(DIFF, PARAMS_DIFF, [], 8, ({}, {}), None, tuned=[])


def test_metrics_diff_keeps_test_metric_names_beside_the_tune_summary():
    from tabml.experiments.base_revision import _by_file

    diff = {
        "reports/metrics.json": {"f1_macro": {"old": 0.9, "new": 0.95}},
        "reports/tune/summary.json": {"best": {"cv_score": {"old": None, "new": 0.97}}},
    }
    old, new = _by_file(diff)
    assert new == {"f1_macro": 0.95, "reports/tune/summary.json:best.cv_score": 0.97}
    assert old == {"f1_macro": 0.9, "reports/tune/summary.json:best.cv_score": None}
