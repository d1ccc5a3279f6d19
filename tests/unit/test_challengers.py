"""Shadow and canary pieces in process: the share by hash, the off-path scorer (logs under the
client's ids, counts a failing model's rows, never raises), the paired statistics against
scikit-learn."""

import dataclasses
import json
import time

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    root_mean_squared_error,
)

from tabml import paths
from tabml.monitoring.log_lines import read_lines
from tabml.monitoring.paired_stats import (
    ClassPairs,
    class_metrics,
    gain_interval,
    paired_bootstrap,
    value_metrics,
)
from tabml.scoring.model import PackagedModel
from tabml.serving.challengers import ChallengerError, in_share, parse_share
from tabml.serving.off_path import OffPathScorer
from tabml.serving.request_log import RequestLogger
from testkit import GOOD_RECORD


def test_share_is_a_stable_hash_of_the_key():
    keys = [f"id-{i}" for i in range(20_000)]
    picked = [in_share(k, 0.1) for k in keys]
    assert 0.09 < np.mean(picked) < 0.11
    assert picked == [in_share(k, 0.1) for k in keys]  # the same on every call and worker
    assert all(in_share(k, 1.0) for k in keys[:10])
    with pytest.raises(ChallengerError, match=r"\(0, 1\]"):
        parse_share("1.5", "CANARY=v1:1.5")


def narrowed(model: PackagedModel, onnx: bytes, feature: str, allowed: tuple) -> PackagedModel:
    """The same ONNX model whose rules allow fewer categories: it refuses the other records."""
    rules = [dataclasses.replace(r, allowed=allowed) if r.name == feature else r
             for r in model.metadata.domain_rules]  # fmt: skip
    metadata = model.metadata.model_copy(update={"domain_rules": rules})
    return PackagedModel(onnx, metadata, "narrowed:1")


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_off_path_scorer_logs_under_the_clients_ids_and_counts_failures(model, packaged, tmp_path):
    records = [
        {"island": "Biscoe", "bill_length_mm": 48.6, "bill_depth_mm": 16.0,
         "flipper_length_mm": 230.0, "body_mass_g": 5800.0, "sex": "male"},
        {"island": "Dream", "bill_length_mm": 39.0, "bill_depth_mm": 18.5,
         "flipper_length_mm": 190.0, "body_mass_g": 3600.0, "sex": "female"},
    ]  # fmt: skip
    failing = narrowed(model, (packaged / paths.ONNX_MODEL).read_bytes(), "island", ("Biscoe",))
    logger = RequestLogger(tmp_path, interval_s=0.05)
    counted = []
    scorer = OffPathScorer(failing, "shadow", logger, lambda o, n: counted.append((o, n)))
    scorer.submit(records[:1], ["id-a"])  # scores
    scorer.submit(records[1:], ["id-b"])  # breaks the narrowed rules: counted, not raised
    wait_for(lambda: scorer.counts["scored"] + scorer.counts["errors"] == 2)
    scorer.close()
    logger.close()
    assert scorer.counts == {"scored": 1, "dropped": 0, "errors": 1, "timeouts": 0}
    lines, _ = read_lines(tmp_path, {"prediction_id": "text"})
    assert lines["prediction_id"].tolist() == ["id-a"]
    assert lines["role"].tolist() == ["shadow"]
    assert lines["predicted"].tolist() == [model.score(records[:1])[0][model.target]]
    full = OffPathScorer(model, "shadow", None, max_rows=1)
    full.submit(records, ["x", "y"])  # more rows than the queue holds: dropped, counted
    assert full.counts["dropped"] == 2
    full.close()


def test_paired_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(3)
    n, classes = 300, 3
    truth = rng.integers(0, classes, n)
    served = np.where(rng.random(n) < 0.7, truth, rng.integers(0, classes, n))
    challenger = np.where(rng.random(n) < 0.8, truth, rng.integers(0, classes, n))
    proba = [rng.dirichlet(np.ones(classes), n) for _ in range(2)]
    pairs = ClassPairs(truth, served, challenger, proba[0][np.arange(n), truth],
                       proba[1][np.arange(n), truth], classes)  # fmt: skip
    found = paired_bootstrap(lambda rows: class_metrics(pairs, rows), n, rounds=200)
    for side, labels, p in (("served", served, proba[0]), ("challenger", challenger, proba[1])):
        key = "served" if side == "served" else "challenger"
        assert found["accuracy"][key] == pytest.approx(accuracy_score(truth, labels))
        assert found["f1_macro"][key] == pytest.approx(f1_score(truth, labels, average="macro"))
        assert found["log_loss"][key] == pytest.approx(log_loss(truth, p, labels=[0, 1, 2]))
    for metric in found.values():
        low, high = metric["interval"]
        assert low <= metric["difference"] <= high
    # The same seed, the same interval; the bootstrap's rounds are scikit-learn's metric too.
    again = paired_bootstrap(lambda rows: class_metrics(pairs, rows), n, rounds=200)
    assert again == found
    rng2 = np.random.default_rng(0)
    drawn = rng2.integers(0, n, n)
    expected = accuracy_score(truth[drawn], challenger[drawn]) - accuracy_score(
        truth[drawn], served[drawn]
    )
    first = class_metrics(pairs, drawn)
    assert first["challenger"]["accuracy"] - first["served"]["accuracy"] == pytest.approx(expected)


def test_paired_regression_metrics_and_the_gain_direction():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=200)
    served, challenger = truth + rng.normal(0, 1.0, 200), truth + rng.normal(0, 0.5, 200)
    found = paired_bootstrap(lambda rows: value_metrics(truth, served, challenger, rows), 200)
    assert found["rmse"]["served"] == pytest.approx(root_mean_squared_error(truth, served))
    assert found["mae"]["challenger"] == pytest.approx(mean_absolute_error(truth, challenger))
    # A better challenger has a lower error: its gain interval is above zero.
    assert found["rmse"]["difference"] < 0 and gain_interval(found["rmse"])[0] > 0


def test_promote_requires_the_paired_gain_interval_above_zero(tmp_path):
    from tabml.errors import TabmlError
    from tabml.registry.paired_gate import check_paired

    def report(interval, better="higher"):
        metric = {"served": 0.9, "challenger": 0.92, "difference": 0.02, "interval": interval,
                  "better": better}  # fmt: skip
        metrics = {"f1_macro": metric, "log_loss": {**metric, "better": "lower"}}
        pair = {"challenger": "tabml_model:b", "registry_version": "v1.1.0", "pairs": 300,
                "metrics": metrics}  # fmt: skip
        path = tmp_path / "paired.json"
        path.write_text(json.dumps({"champion": "tabml_model:a", "pairs": [pair]}))
        return path

    assert "passed" in check_paired("v1.1.0", report=report([0.01, 0.03]))
    with pytest.raises(TabmlError, match=r"does not lie above zero"):
        check_paired("v1.1.0", report=report([-0.01, 0.03]))
    # log loss: lower is better, so a difference interval below zero is a gain above it
    assert "passed" in check_paired("v1.1.0", "log_loss", report([-0.03, -0.01]))
    with pytest.raises(TabmlError, match=r"no paired comparison"):
        check_paired("v9.9.9", report=report([0.01, 0.03]))
    with pytest.raises(TabmlError, match=r"no .*missing.json: serve v1.1.0 as a shadow"):
        check_paired("v1.1.0", report=tmp_path / "missing.json")


def test_a_challenger_that_cannot_load_is_counted_and_left_out(model, monkeypatch, tmp_path):
    from tabml.serving.challengers import SHADOW_ENV, Challenger, Challengers

    broken = tmp_path / "broken.bento"
    broken.write_bytes(b"not a bento")
    monkeypatch.setenv(SHADOW_ENV, Challenger(broken, 1.0, "v9").encode())
    monkeypatch.setenv("TABML_CHALLENGER_LOG_DIR", str(tmp_path / "log"))
    counted = []
    served = Challengers(model, lambda *args: counted.append(args))
    try:
        assert served.shadow is None and served.canary is None
        assert counted == [("shadow", "v9", "load_errors", 1)]
        assert "no packaged model in" in served.status["shadow"]["load_error"]
        answers = model.score([dict(GOOD_RECORD)])
        answers[0].update(prediction_id="id-1", model_version=model.version)
        served.after([dict(GOOD_RECORD)], answers)  # nothing to score with: no error either
    finally:
        served.close()


def test_retrain_paired_rule_refuses_a_challenger_no_better_on_the_same_rows(model, packaged):
    import pandas as pd

    from tabml.retrain.paired_rule import paired_rule

    rows = pd.read_parquet(packaged / "data/processed/test.parquet")
    ok, line = paired_rule(model, model, rows, model.target, "f1_macro", seed=0)
    assert not ok  # the same model: a gain of exactly zero is not above zero
    assert f"paired f1_macro gain on the same {len(rows)} rows: [+0.0000, +0.0000]" in line
    ok, line = paired_rule(model, model, rows, model.target, "rmse", seed=0)
    assert not ok and "no metric 'rmse'" in line
