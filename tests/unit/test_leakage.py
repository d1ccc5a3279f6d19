"""Leakage suspects: planted leaks are caught on generated tables, clean columns are not."""

import numpy as np
import pandas as pd
import yaml

from tabml.data.leakage import leak_suspects
from tabml.data.profile import load_profile


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "income": rng.lognormal(3, 1, n).round(2),
        "age": rng.integers(18, 90, n),
        "region": rng.choice(["north", "south", "east"], n),
        "score": x,
    }), rng  # fmt: skip


def test_a_label_copy_and_a_row_id_are_flagged_clean_columns_are_not():
    frame, rng = _table()
    frame["default"] = np.where(frame.score + rng.normal(0, 1, len(frame)) > 1.5, "Yes", "No")
    frame["sent_to_collections"] = frame["default"].map({"Yes": "y", "No": "n"})
    frame["account_id"] = np.arange(len(frame)) * 7 + 1000
    frame["email"] = [f"user{i}@x.org" for i in range(len(frame))]
    found = leak_suspects(frame, "default", numeric_target=False)
    assert set(found) == {"sent_to_collections", "account_id", "email"}
    assert found["sent_to_collections"].startswith("alone reproduces the target")
    assert found["account_id"].startswith("near-unique identifier")


def test_a_sum_of_two_columns_and_a_log_of_the_target_are_flagged():
    frame, rng = _table()
    frame["casual"] = rng.integers(0, 50, len(frame)).astype(float)
    frame["registered"] = rng.integers(0, 400, len(frame)).astype(float)
    frame["bikers"] = frame.casual + frame.registered
    frame["log_bikers"] = np.log1p(frame.bikers)
    found = leak_suspects(frame, "bikers", numeric_target=True)
    assert set(found) == {"casual", "registered", "log_bikers"}
    assert "`casual + registered`" in found["casual"]


def test_the_shipped_tables_have_no_suspects():
    for name in ("penguins", "penguins_mass"):
        profile = load_profile(name)
        raw = pd.read_csv(profile.source.resolve())
        assert leak_suspects(raw, profile.target, profile.task != "classification") == {}


def test_bootstrap_drops_a_suspect_says_why_and_the_profile_names_it(tmp_path):
    from tabml.data.profile_draft import write_profile

    frame, rng = _table()
    frame["price"] = 3.0 * frame.income + rng.normal(0, 40, len(frame))
    frame["price_with_tax"] = frame.price * 1.2
    csv = tmp_path / "houses.csv"
    frame.to_csv(csv, index=False)
    summary = write_profile(csv, "houses", "price", configs_dir=tmp_path)
    assert summary.dropped["price_with_tax"].startswith("suspected leak: alone reproduces")
    profile = yaml.safe_load((tmp_path / "houses.yaml").read_text())
    assert "price_with_tax" not in profile["features"]["numeric"]
    assert set(profile["leak_suspects"]) == {"price_with_tax"}


def test_an_implausibly_perfect_score_is_refused_naming_the_suspects():
    import pytest

    from tabml.model.plausibility import ImplausibleScoreError, implausible, refuse_implausible

    profile = load_profile("penguins_mass")
    importance = [
        {"feature": "sex", "importance": 0.1},
        {"feature": "flipper_length_mm", "importance": 0.9},
        {"feature": "island", "importance": 0.3},
        {"feature": "bill_depth_mm", "importance": 0.0},
    ]
    assert implausible({"r2": 0.998}, profile, importance) is None
    suspected = profile.model_copy(update={"leak_suspects": {"bill_depth_mm": "why"}})
    with pytest.raises(ImplausibleScoreError) as refused:
        refuse_implausible({"r2": 1.0, "rmse": 0.0}, suspected, importance)
    said = str(refused.value)
    assert "r2 = 1 on the test set is implausibly perfect" in said
    assert "suspect columns bill_depth_mm, flipper_length_mm, island" in said
    assert "expect_perfect: true" in said and "configs/penguins_mass.yaml" in said
    expected = suspected.model_copy(update={"expect_perfect": True})
    refuse_implausible({"r2": 1.0}, expected, importance)  # said so: packaged
