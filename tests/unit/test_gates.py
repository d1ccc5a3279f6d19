import pytest

from tabml.model.gates import (
    GateError,
    GateFailure,
    check_absolute,
    check_regression,
    direction,
    enforce_absolute,
    improvement,
)
from tabml.params import GatesParams

GATES = GatesParams(
    min={"f1_macro": 0.9},
    max={"log_loss": 0.4},
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


def test_enforce_absolute_raises_with_every_failure_listed():
    enforce_absolute({"f1_macro": 0.95, "log_loss": 0.1}, GATES)
    with pytest.raises(GateError) as caught:
        enforce_absolute({"f1_macro": 0.5, "log_loss": 0.9}, GATES)
    assert len(caught.value.failures) == 2
    assert "2 metric gate(s) failed" in str(caught.value)
    assert "f1_macro = 0.5 is below the minimum 0.9" in str(caught.value)


def test_default_gates_name_only_metrics_the_evaluate_stage_writes():
    import numpy as np

    from tabml.model.evaluate import compute_metrics

    classes = np.array(["a", "b"])
    written = compute_metrics(np.array(["a", "b"]), np.array([[0.8, 0.2], [0.3, 0.7]]), classes)
    gates = GatesParams()
    assert set(gates.min) | set(gates.max) | set(gates.max_regression) <= set(written)
    assert GateFailure("f1_macro", 0.5, "min", 0.9).message().startswith("f1_macro = 0.5")


def test_nan_and_non_numbers_fail_absolute_and_regression_gates():
    bad = {"f1_macro": float("nan"), "log_loss": "high"}
    assert {f.metric for f in check_absolute(bad, GATES)} == {"f1_macro", "log_loss"}
    assert {f.metric for f in check_regression(bad, {"f1_macro": 0.9}, GATES)} == {
        "f1_macro",
        "log_loss",
    }
