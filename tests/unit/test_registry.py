"""Registry pure parts: the metric gate and the artifact declared in dvc.yaml."""

import pytest

from tabml.registry import (
    RegistryError,
    artifact_name,
    check_gates,
    version_tag,
)

BASELINE = {"accuracy": 0.44, "f1_macro": 0.2, "roc_auc_ovr": 0.5, "log_loss": 1.07}
GOOD = {"accuracy": 0.93, "f1_macro": 0.92, "roc_auc_ovr": 0.99, "log_loss": 0.32}
GOOD["baseline"] = BASELINE


def test_good_metrics_pass_the_gate():
    assert check_gates(GOOD) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"f1_macro": 0.5}, "f1_macro"),
        ({"log_loss": 1.2}, "log_loss"),
        ({"accuracy": float("nan")}, "accuracy"),
        ({"roc_auc_ovr": None}, "roc_auc_ovr"),
    ],
)
def test_each_failing_metric_is_named(change, named):
    problems = check_gates({**GOOD, **change})
    # a missing value also fails its min_lift gate, if it has one: each line names it
    assert problems and all(p.startswith(named) for p in problems)
    # the absolute gate comes first, from the penguins profile
    assert "set gates." in problems[0] and "in configs/penguins.yaml or params.yaml" in problems[0]


def test_a_model_no_better_than_the_baseline_fails_the_relative_gate():
    problems = check_gates(
        {**GOOD, "roc_auc_ovr": 0.96, "baseline": {**BASELINE, "roc_auc_ovr": 0.95}}
    )
    assert len(problems) == 1
    assert (
        "beats the majority-class baseline 0.95 by 0.01, less than the minimum lift 0.05"
        in (problems[0])
    )


def test_the_model_artifact_comes_from_dvc_yaml(tmp_path):
    assert artifact_name() == "model"
    assert version_tag("v1.0.0") == "model@v1.0.0"
    bad = tmp_path / "dvc.yaml"
    bad.write_text("stages: {}\n")
    with pytest.raises(RegistryError, match="exactly one"):
        artifact_name(bad)
