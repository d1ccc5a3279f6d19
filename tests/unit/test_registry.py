"""Registry pure parts: the metric gate and the artifact declared in dvc.yaml."""

import pytest

from tabml.registry import (
    RegistryError,
    artifact_name,
    check_gates,
    version_tag,
)

GOOD = {"accuracy": 0.93, "f1_macro": 0.92, "roc_auc_ovr": 0.99, "log_loss": 0.32}


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
    assert len(problems) == 1 and problems[0].startswith(named)


def test_the_model_artifact_comes_from_dvc_yaml(tmp_path):
    assert artifact_name() == "model"
    assert version_tag("v1.0.0") == "model@v1.0.0"
    bad = tmp_path / "dvc.yaml"
    bad.write_text("stages: {}\n")
    with pytest.raises(RegistryError, match="exactly one"):
        artifact_name(bad)
