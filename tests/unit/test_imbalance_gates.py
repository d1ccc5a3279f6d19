"""The default gates on a strongly imbalanced table: a model that always answers the majority
class is refused, however well its probabilities rank, and the message says why."""

import numpy as np

from tabml.model.evaluate import baseline_metrics, compute_metrics
from tabml.model.gates import DatasetGates, GateError, check_limits, enforce_limits
from tabml.params import Params

CLASSES = np.array(["No", "Yes"], dtype=object)


def _table(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.03, "Yes", "No").astype(object)  # 3% positive
    return y, rng


def _metrics(y_train, y_test, score):
    metrics = compute_metrics(y_test, np.column_stack([1 - score, score]), CLASSES)
    metrics["baseline"] = baseline_metrics(y_train, y_test, CLASSES)
    return metrics


def test_the_always_no_model_is_refused_by_the_default_gates():
    y_train, _ = _table(0)
    y_test, rng = _table(1)
    # ranks defaulters well (ROC AUC ~0.9), yet never crosses 0.5: always "No"
    score = np.clip(0.02 + 0.2 * (y_test == "Yes") + rng.normal(0, 0.06, len(y_test)), 0, 0.45)
    metrics = _metrics(y_train, y_test, score)
    assert metrics["roc_auc_ovr"] > 0.85 and metrics["per_class"]["Yes"]["predicted"] == 0
    gates = DatasetGates(Params().gates, "params.yaml")  # the defaults: no absolute limits
    failures = {f.rule: f for f in check_limits(metrics, gates)}
    assert set(failures) == {"min_lift", "every_class_predicted"}
    assert failures["min_lift"].metric == "f1_macro"
    said = failures["every_class_predicted"].message()
    assert "never predicts class 'Yes'" in said and "class_weight: balanced" in said
    try:
        enforce_limits(metrics, gates)
    except GateError as err:
        assert "f1_macro" in str(err) and "never predicts" in str(err)
    else:
        raise AssertionError("the always-majority model passed the gates")


def test_a_model_that_finds_the_minority_passes():
    y_train, _ = _table(0)
    y_test, rng = _table(1)
    score = np.clip(0.05 + 0.7 * (y_test == "Yes") + rng.normal(0, 0.1, len(y_test)), 0.001, 0.999)
    metrics = _metrics(y_train, y_test, score)
    on = DatasetGates(Params().gates, "params.yaml")
    assert check_limits(metrics, on) == []
    off = Params.model_validate({"gates": {"every_class_predicted": False}})
    assert on.count - DatasetGates(off.gates, "params.yaml").count == 1
