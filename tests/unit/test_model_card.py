"""The model card: every metric and gate, intervals, reproducible bytes, shipped in the bento."""

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from tabml import paths
from tabml.monitoring.live_metrics import wilson_interval
from tabml.packaging.model_card import bootstrap_f1_interval, flat_metrics, outside_training_range
from tabml.params import load_params
from tabml.registry import with_card_sha
from tabml.scoring.packaged import read_model


def test_the_card_lists_every_metric_and_gate(packaged):
    card = (packaged / paths.MODEL_CARD).read_text()
    metrics = flat_metrics(json.loads((packaged / paths.METRICS).read_text()))
    for name, value in metrics.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        assert f"| {name} | {shown} |" in card, name
    gates = load_params(packaged / paths.PARAMS).gates
    for rule, limits in (("min", gates.min), ("max", gates.max),
                         ("max_regression", gates.max_regression)):  # fmt: skip
        for metric in limits:
            assert f"| {rule} {metric} |" in card
    for metric in gates.slices.min:
        assert f"| slices min {metric} |" in card
    assert "(Wilson)" in card and "(bootstrap)" in card
    for heading in ("Data", "Training parameters", "Slices", "Training range", "Parity check",
                    "Known limitations", "Package versions"):  # fmt: skip
        assert f"## {heading}" in card


def test_the_card_is_in_the_bentos_model_metadata(packaged):
    info, _ = read_model(packaged / paths.BENTO_ARCHIVE)
    assert info["metadata"]["model_card"] == (packaged / paths.MODEL_CARD).read_text()


def test_the_card_has_no_timestamps(packaged):
    card = (packaged / paths.MODEL_CARD).read_text()
    assert "202" not in card.replace("2014", "")  # no dates (the data's citation aside)


def test_wilson_interval_is_scipys():
    for k, n in [(97, 104), (8, 10), (0, 20), (20, 20)]:
        expected = binomtest(k, n).proportion_ci(method="wilson")
        low, high = wilson_interval(k, n)
        assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_bootstrap_interval_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(1)
    y = rng.choice(["a", "b", "c"], 200)
    predicted = np.where(rng.random(200) < 0.8, y, "a")
    first = bootstrap_f1_interval(y, predicted, seed=42)
    assert first == bootstrap_f1_interval(y, predicted, seed=42)
    assert first != bootstrap_f1_interval(y, predicted, seed=43)
    from sklearn.metrics import f1_score

    estimate = f1_score(y, predicted, average="macro")
    assert first[0] < estimate < first[1] and first[1] - first[0] < 0.2


def test_outside_range_counts_values_beyond_training():
    import pandas as pd

    stats = {
        "numeric": {"x": {"min": 0.0, "max": 1.0}},
        "categorical": {"c": {"categories": ["a"]}},
    }
    X = pd.DataFrame({"x": [0.5, 2.0, -1.0, np.nan], "c": ["a", "b", "", "a"]})
    shares = outside_training_range(X, stats)
    assert shares["x"] == pytest.approx(2 / 3) and shares["c"] == pytest.approx(1 / 3)


def test_register_message_carries_the_cards_sha256(tmp_path):
    import hashlib

    card = tmp_path / "model_card.md"
    card.write_text("# card\n")
    message = with_card_sha("Registering model v1.0.0", card)
    digest = hashlib.sha256(card.read_bytes()).hexdigest()
    assert message.endswith(f"\n\nmodel_card_sha256: {digest}")
    assert with_card_sha("m", tmp_path / "absent.md") == "m"
