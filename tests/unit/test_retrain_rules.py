"""Continuous training's pure parts: the comparison hold-out, the verdict, the scores
(against scikit-learn), the profile pin, schema rejects and the challenger's param overrides."""

import shutil

import pandas as pd
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score, log_loss

from tabml.data.production import comparison_rows, comparison_split, with_production
from tabml.data.profile import load_profile
from tabml.params import GatesParams, RetrainParams
from tabml.retrain.compare import KEEP, PROMOTE, decide, score
from tabml.retrain.harvest import pin_production, schema_rejects
from tabml.retrain.overrides import OverrideError, set_params


def rows(n: int, start: str = "2026-01-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq="min", tz="UTC")
    return pd.DataFrame({"prediction_id": [f"id-{i:04d}" for i in range(n)], "timestamp": times})


@pytest.mark.parametrize(("total", "held"), [(1000, 300), (200, 100), (150, 100), (60, 60)])
def test_the_newest_share_is_held_out_and_at_least_the_minimum(total, held):
    assert comparison_rows(total, 0.3, 100) == held
    older, newest = comparison_split(rows(total).sample(frac=1.0, random_state=1), 0.3, 100)
    assert len(newest) == held and len(older) == total - held
    if len(older):
        assert older["timestamp"].max() < newest["timestamp"].min()  # by time, not by chance


def test_a_burst_of_labels_in_one_instant_still_splits_by_id_order():
    burst = rows(400).assign(timestamp=pd.Timestamp("2026-01-01", tz="UTC"))
    older, newest = comparison_split(burst, 0.3, 100)
    assert (len(older), len(newest)) == (280, 120)
    assert older["prediction_id"].max() < newest["prediction_id"].min()


def test_one_row_per_prediction_id_the_later_one_kept():
    frame = pd.concat([rows(3), rows(3).iloc[[1]].assign(label="new")], ignore_index=True)
    older, newest = comparison_split(frame, 0.5, 1)
    both = pd.concat([older, newest])
    assert sorted(both["prediction_id"]) == ["id-0000", "id-0001", "id-0002"]
    assert both.set_index("prediction_id").at["id-0001", "label"] == "new"


def test_ingest_appends_the_older_rows_in_the_profiles_columns(profile, raw_penguins):
    production = raw_penguins.head(5).drop(columns="year").assign(prediction_id="x")
    combined = with_production(raw_penguins, production, profile)
    assert list(combined.columns) == [profile.target, *profile.features.all]
    assert len(combined) == len(raw_penguins) + 5
    pd.testing.assert_frame_equal(
        combined.tail(5).reset_index(drop=True),
        production[list(combined.columns)].reset_index(drop=True),
    )


METRICS = {"accuracy": 0.80, "f1_macro": 0.78, "log_loss": 0.50}
GATES = GatesParams(min={"accuracy": 0.85, "f1_macro": 0.85, "roc_auc_ovr": 0.95}, max={})


@pytest.mark.parametrize(
    ("challenger", "verdict", "because"),
    [
        ({"accuracy": 0.90, "f1_macro": 0.90, "log_loss": 0.30}, PROMOTE, None),
        ({"accuracy": 0.90, "f1_macro": 0.785, "log_loss": 0.30}, KEEP, "min_improvement"),
        ({"accuracy": 0.86, "f1_macro": 0.90, "log_loss": 0.60}, KEEP, "max_loss.log_loss"),
        ({"accuracy": 0.84, "f1_macro": 0.86, "log_loss": 0.30}, KEEP, "gates.min.accuracy"),
    ],
)
def test_the_verdict_needs_every_rule(challenger, verdict, because):
    found = decide(METRICS, challenger, RetrainParams(), GATES)
    assert found.decision == verdict
    failed = [r for r in found.reasons if because and because in r]
    assert bool(failed) == (because is not None), found.reasons


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_comparison_scores_equal_scikit_learns(model, profile, packaged):
    test = pd.read_parquet(packaged / "data/processed/test.parquet")
    shifted = test.assign(bill_length_mm=test["bill_length_mm"] + 12)
    got = score(model, shifted, profile, seed=0)
    import joblib

    from tabml.model.features import model_frame

    # the independent reference: scikit-learn's pipeline and metrics (parity tolerance apart)
    pipeline = joblib.load(packaged / "models/model.joblib")
    proba = pipeline.predict_proba(model_frame(shifted, profile.features))
    predicted = pipeline.classes_[proba.argmax(axis=1)]
    truth = shifted[profile.target]
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, predicted), abs=1e-6)
    assert got["f1_macro"] == pytest.approx(f1_score(truth, predicted, average="macro"), abs=1e-6)
    reference = log_loss(truth, proba, labels=pipeline.classes_)
    assert got["log_loss"] == pytest.approx(reference, abs=1e-5)
    assert got["accuracy_low"] <= got["accuracy"] <= got["accuracy_high"]
    assert got["f1_macro_low"] <= got["f1_macro"] <= got["f1_macro_high"]
    assert got["rows"] == len(test)


def test_the_production_pin_is_replaced_and_the_rest_of_the_profile_kept(tmp_path):
    configs = tmp_path / "configs"
    shutil.copytree("configs", configs)
    profile_file = configs / "penguins.yaml"
    original = profile_file.read_text()
    for digest in ("a" * 64, "b" * 64):
        pin_production(profile_file, "data/production/labelled.parquet", digest)
        pinned = load_profile("penguins", configs)
        assert pinned.production.sha256 == digest
    text = profile_file.read_text()
    assert text.startswith(original.rstrip("\n")) and text.count("production:") == 1
    assert pinned.source == load_profile("penguins").source  # the source pin untouched


def test_rows_the_schema_refuses_are_named_with_the_reason(profile, raw_penguins):
    frame = raw_penguins.head(4).copy()
    frame.loc[1, "island"] = "Atlantis"
    frame.loc[3, "body_mass_g"] = 99999.0
    rejects = schema_rejects(frame.reset_index(drop=True), profile)
    assert sorted(rejects) == [1, 3]
    assert "island" in rejects[1] and "Atlantis" in rejects[1]
    assert "body_mass_g" in rejects[3]


def test_challenger_overrides_change_only_their_values_text(tmp_path):
    import difflib

    # A params file shaped like the template's (comments, nulls, a block mapping), written
    # here: the workspace's own params.yaml may hold anything.
    params = tmp_path / "params.yaml"
    params.write_text(
        "# Pipeline parameters.\n"
        "train:\n"
        "  model: logistic_regression  # logistic_regression | random_forest\n"
        "  logistic_regression:\n"
        "    C: 0.02\n"
        "monitor:\n"
        "  min: null  # no floor\n"
        "drift:\n"
        "  min_rows: 100\n"
        "tune:\n"
        "  space:\n"
        "    C: [0.001, 100]\n"
    )
    before = params.read_text()
    overrides = ["train.logistic_regression.C=0.5", "train.model=random_forest",
                 "monitor.min=null", "drift.min_rows=25"]  # fmt: skip
    set_params(params, overrides)
    after = params.read_text()
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
               if line.startswith(("- ", "+ "))]  # fmt: skip
    assert len(changed) == 6, changed  # C, model and min_rows; monitor.min was null already
    assert "+     C: 0.5" in changed
    model = next(line for line in changed if line.startswith("+   model:"))
    assert model == "+   model: random_forest        # logistic_regression | random_forest"
    expected = yaml.safe_load(before)
    expected["train"]["logistic_regression"]["C"] = 0.5
    expected["train"]["model"] = "random_forest"
    expected["drift"]["min_rows"] = 25
    assert yaml.safe_load(after) == expected
    with pytest.raises(OverrideError, match=r"train\.nope"):
        set_params(params, ["train.nope=1"])
    with pytest.raises(OverrideError, match="spans several lines"):
        set_params(params, ["tune.space=1"])
    assert params.read_text() == after
