from pathlib import Path

import pytest

from tabml.data.profile import load_profile
from tabml.model.gates import (
    DatasetGates,
    GateError,
    GateFailure,
    baseline_value,
    check_absolute,
    check_lift,
    check_limits,
    check_regression,
    dataset_gates,
    direction,
    enforce_limits,
    improvement,
)
from tabml.params import GatesParams, Params

GATES = GatesParams(
    min={"f1_macro": 0.9},
    max={"log_loss": 0.4},
    min_lift={},
    max_regression={"f1_macro": 0.02, "log_loss": 0.05},
)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("accuracy", "higher"),
        ("f1_macro", "higher"),
        ("roc_auc_ovr", "higher"),
        ("log_loss", "lower"),
        ("val.rmse", "lower"),
        ("test_rows", None),
    ],
)
def test_direction_knows_which_way_is_better(metric, expected):
    assert direction(metric) == expected


def test_improvement_is_positive_when_better_in_either_direction():
    assert improvement("f1_macro", 0.90, 0.95) == pytest.approx(0.05)
    assert improvement("log_loss", 0.30, 0.20) == pytest.approx(0.10)
    assert improvement("log_loss", 0.20, 0.30) == pytest.approx(-0.10)
    assert improvement("test_rows", 1, 2) is None


def test_absolute_gates_pass_and_fail_on_the_right_side():
    assert check_absolute({"f1_macro": 0.9, "log_loss": 0.4}, GATES) == []
    failures = check_absolute({"f1_macro": 0.89, "log_loss": 0.41}, GATES, {"f1_macro": 0.93})
    assert [(f.metric, f.rule) for f in failures] == [("f1_macro", "min"), ("log_loss", "max")]
    message = failures[0].message()
    assert "f1_macro = 0.89" in message and "minimum 0.9" in message and "base 0.93" in message


def test_a_metric_missing_from_the_file_fails_its_gate():
    failures = check_absolute({"log_loss": 0.1}, GATES)
    assert [(f.metric, f.value) for f in failures] == [("f1_macro", None)]
    assert "missing" in failures[0].message()


def test_regression_within_the_limit_passes_beyond_it_fails():
    base = {"f1_macro": 0.95, "log_loss": 0.30}
    assert check_regression({"f1_macro": 0.93, "log_loss": 0.35}, base, GATES) == []
    failures = check_regression({"f1_macro": 0.92, "log_loss": 0.36}, base, GATES)
    assert [f.metric for f in failures] == ["f1_macro", "log_loss"]
    text = failures[1].message()
    assert "log_loss = 0.36" in text and "regressed by 0.06" in text
    assert "base 0.3" in text and "max regression 0.05" in text


def test_improvement_never_counts_as_regression():
    base = {"f1_macro": 0.80, "log_loss": 0.9}
    assert check_regression({"f1_macro": 0.99, "log_loss": 0.1}, base, GATES) == []


def test_float_noise_at_the_limit_is_not_a_regression():
    # 0.936 - 0.916 is 0.020000000000000018 in floating point
    assert check_regression({"f1_macro": 0.916, "log_loss": 0.3}, {"f1_macro": 0.936}, GATES) == []


def test_unavailable_base_fails_every_regression_gate_but_a_new_metric_is_skipped():
    failures = check_regression({"f1_macro": 0.9, "log_loss": 0.3}, None, GATES)
    assert {f.metric for f in failures} == {"f1_macro", "log_loss"}
    assert all("base value unavailable" in f.message() for f in failures)
    assert check_regression({"f1_macro": 0.9, "log_loss": 0.3}, {"f1_macro": 0.9}, GATES) == []


def test_regression_gate_on_a_metric_of_unknown_direction_is_a_config_error():
    gates = GatesParams(min={}, max={}, max_regression={"test_rows": 1})
    with pytest.raises(ValueError, match="test_rows"):
        check_regression({"test_rows": 10}, {"test_rows": 10}, gates)


def test_enforce_limits_raises_with_every_failure_listed():
    dataset = DatasetGates(GATES, "configs/mydata.yaml or params.yaml")
    enforce_limits({"f1_macro": 0.95, "log_loss": 0.1}, dataset)
    with pytest.raises(GateError) as caught:
        enforce_limits({"f1_macro": 0.5, "log_loss": 0.9}, dataset)
    assert len(caught.value.failures) == 2
    assert "2 metric gate(s) failed" in str(caught.value)
    assert "f1_macro = 0.5 is below the minimum 0.9" in str(caught.value)
    assert "set gates.min.f1_macro in configs/mydata.yaml or params.yaml" in str(caught.value)


def test_default_gates_name_only_metrics_the_evaluate_stage_writes():
    import numpy as np

    from tabml.model.evaluate import compute_metrics

    classes = np.array(["a", "b"])
    written = compute_metrics(np.array(["a", "b"]), np.array([[0.8, 0.2], [0.3, 0.7]]), classes)
    gates = dataset_gates(Params(), load_profile("penguins")).gates
    named = set(gates.min) | set(gates.max) | set(gates.min_lift) | set(gates.max_regression)
    assert named <= set(written)
    assert GateFailure("f1_macro", 0.5, "min", 0.9).message().startswith("f1_macro = 0.5")


def test_nan_and_non_numbers_fail_absolute_and_regression_gates():
    bad = {"f1_macro": float("nan"), "log_loss": "high"}
    assert {f.metric for f in check_absolute(bad, GATES)} == {"f1_macro", "log_loss"}
    assert {f.metric for f in check_regression(bad, {"f1_macro": 0.9}, GATES)} == {
        "f1_macro",
        "log_loss",
    }


LIFT = GatesParams(min={}, max={}, min_lift={"accuracy": 0.05, "log_loss": 0.0}, max_regression={})
BASELINE = {"accuracy": 0.76, "log_loss": 0.55}


@pytest.mark.parametrize("flat", [False, True])
def test_lift_is_measured_against_the_baseline_in_the_metrics_good_direction(flat):
    def metrics(accuracy, log_loss):
        values = {"accuracy": accuracy, "log_loss": log_loss}
        if flat:  # as `dvc metrics diff` flattens metrics.json
            return values | {f"baseline.{k}": v for k, v in BASELINE.items()}
        return values | {"baseline": BASELINE}

    assert baseline_value(metrics(0.9, 0.3), "log_loss") == 0.55
    assert check_lift(metrics(0.81, 0.55), LIFT) == []  # exactly at both limits
    failures = check_lift(metrics(0.80, 0.56), LIFT)
    assert [(f.metric, f.base) for f in failures] == [("accuracy", 0.76), ("log_loss", 0.55)]
    assert failures[0].message() == (
        "accuracy = 0.8 beats the majority-class baseline 0.76 by 0.04, less than the minimum "
        "lift 0.05; to change the gate, set gates.min_lift.accuracy in params.yaml"
    )
    assert "by -0.01" in failures[1].message()  # a higher loss than the baseline's


def test_lift_without_a_baseline_in_the_metrics_fails_and_says_what_to_run():
    [failure, _] = check_lift({"accuracy": 0.99, "log_loss": 0.1}, LIFT)
    assert failure.base is None and "dvc repro evaluate" in failure.message()


def test_the_profiles_gates_apply_and_params_yaml_wins_per_key():
    penguins = load_profile("penguins")
    default = dataset_gates(Params(), penguins)
    assert default.gates.min == {"accuracy": 0.85, "f1_macro": 0.85, "roc_auc_ovr": 0.95}
    assert default.gates.max == {"log_loss": 0.6}
    assert default.where == "configs/penguins.yaml or params.yaml"
    tightened = Params(gates=GatesParams(min={"f1_macro": 0.99}))
    gates = dataset_gates(tightened, penguins).gates
    assert gates.min == {"accuracy": 0.85, "f1_macro": 0.99, "roc_auc_ovr": 0.95}
    assert gates.min_lift == Params().gates.min_lift


def test_own_data_without_profile_gates_gets_only_the_relative_ones():
    flights = dataset_gates(Params(), load_profile("flights"))
    assert flights.gates.min == {} and flights.gates.max == {}
    # the default logistic regression on flights (measured): accuracy below the majority
    # class, yet it ranks and calibrates better than the baseline, and passes
    metrics = {
        "accuracy": 0.762647,
        "f1_macro": 0.444103,
        "roc_auc_ovr": 0.653209,
        "log_loss": 0.521637,
        "baseline": {
            "accuracy": 0.762851,
            "f1_macro": 0.432737,
            "roc_auc_ovr": 0.5,
            "log_loss": 0.547772,
        },
    }
    assert check_limits(metrics, flights) == []
    constant = metrics | {"roc_auc_ovr": 0.5, "log_loss": 0.547772}
    assert [f.metric for f in check_limits(constant, flights)] == ["roc_auc_ovr"]


def test_dvc_exp_run_set_param_changes_a_profile_gate_without_a_plus(tmp_path):
    from dvc.utils.hydra import apply_overrides

    from tabml.params import load_params

    params_file = tmp_path / "params.yaml"
    params_file.write_text(Path("params.yaml").read_text())
    # what `dvc exp run -S gates.min.accuracy=0.7` does to params.yaml
    apply_overrides(params_file, ["gates.min.accuracy=0.7"])
    gates = dataset_gates(load_params(params_file), load_profile("penguins")).gates
    assert gates.min == {"accuracy": 0.7, "f1_macro": 0.85, "roc_auc_ovr": 0.95}
    assert dataset_gates(load_params(params_file), load_profile("flights")).gates.min == {
        "accuracy": 0.7
    }
