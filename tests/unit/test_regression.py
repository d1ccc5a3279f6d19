"""Regression end to end in process: task inference, conformal intervals, metrics, scoring.

The real pipeline (dvc exp run, HTTP server, CLI batch and drift) is in
tests/pipeline/test_regression_pipeline.py; this is its fast, in-process equivalent.
"""

import math
import sqlite3
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.inspection import permutation_importance
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold, cross_val_predict

from tabml.batch.score import score_file
from tabml.data.profile import ProfileError, load_profile
from tabml.data.profile_draft import write_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.data.task import infer_task
from tabml.model.features import model_frame, split_train_test
from tabml.model.gates import dataset_gates, direction
from tabml.model.importance import permutation_importances
from tabml.model.intervals import (
    CoverageError,
    TooFewCalibrationRows,
    check_coverage,
    conformal_half_width,
)
from tabml.model.regression_metrics import evaluate_regression, regression_metrics
from tabml.model.regressors import fit_regression, target_values
from tabml.model.train import ModelFamilyError, build_pipeline, check_family
from tabml.monitoring.sources import read_batch_predictions
from tabml.packaging.onnx_regression import check_regression_parity, to_onnx_regressor_bytes
from tabml.params import Params, ParamsError
from tabml.scoring.metadata import PredictionInterval
from tabml.scoring.model import PackagedModel
from tabml.scoring.prediction_ids import PATTERN_TEXT, identify
from tabml.scoring.task import task_for
from tabml.serving.api_docs import answer_schema
from testkit.models import metadata_for

# --- task inference (bootstrap) ---


def test_infer_task_from_the_target():
    assert infer_task(pd.Series(np.linspace(1.0, 99.0, 300))) == "regression"
    assert infer_task(pd.Series(["a", "b", "c"] * 100)) == "classification"
    assert infer_task(pd.Series([0, 1] * 150)) == "classification"  # a flag, not a quantity
    assert infer_task(pd.Series(range(21))) == "regression"  # > 20 distinct and > 5%
    assert infer_task(pd.Series(list(range(20)) * 10)) == "classification"  # only 20
    assert infer_task(pd.Series(list(range(25)) * 100)) == "classification"  # 1% distinct
    assert infer_task(pd.Series([True, False] * 50)) == "classification"


def test_bootstrap_writes_the_inferred_task(tmp_path, raw_penguins):
    csv = tmp_path / "penguins.csv"
    raw_penguins.to_csv(csv, index=False)
    write_profile(csv, "mass", "body_mass_g", configs_dir=tmp_path)
    write_profile(csv, "species", "species", configs_dir=tmp_path)
    assert load_profile("mass", tmp_path).task == "regression"
    assert load_profile("species", tmp_path).task == "classification"


def test_profiles_default_to_classification_and_refuse_a_regression_target_rule(tmp_path):
    assert load_profile("penguins").task == "classification"
    assert load_profile("penguins_mass").task == "regression"
    raw = yaml.safe_load(Path("configs/penguins_mass.yaml").read_text())
    raw["target_rule"] = {"column": "year", "greater_than": 2008, "labels": ["old", "new"]}
    (tmp_path / "penguins_mass.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ProfileError, match="target_rule derives class labels"):
        load_profile("penguins_mass", tmp_path)


# --- split-conformal half-width, checked by hand ---


@pytest.mark.parametrize(
    ("n", "level", "rank"),
    [
        (10, 0.9, 10),  # ceil(11 * 0.9) = ceil(9.9) = 10
        (10, 0.8, 9),  # ceil(11 * 0.8) = ceil(8.8) = 9
        (19, 0.9, 18),  # ceil(20 * 0.9) = 18 exactly (float 18.000000000000004)
        (99, 0.9, 90),  # ceil(100 * 0.9) = 90
        (60, 0.9, 55),  # ceil(61 * 0.9) = ceil(54.9) = 55: penguins_mass' calibration part
    ],
)
def test_conformal_half_width_is_the_corrected_order_statistic(n, level, rank):
    residuals = np.random.default_rng(n).permutation(np.arange(1, n + 1)) * -1.5  # |.| is used
    assert conformal_half_width(residuals, level) == 1.5 * rank


def test_too_few_calibration_rows_is_a_user_error():
    # ceil(6 * 0.9) = 6 > 5 rows: no finite interval
    with pytest.raises(TooFewCalibrationRows, match="5 calibration rows are too few"):
        conformal_half_width(np.arange(5.0), 0.9)


def test_coverage_gate_refuses_an_uncalibrated_interval():
    check_coverage({"interval_coverage": 0.81}, 0.9, 0.1)
    with pytest.raises(CoverageError, match=r"interval_coverage = 0\.790 .* not packaged"):
        check_coverage({"interval_coverage": 0.79}, 0.9, 0.1)
    with pytest.raises(CoverageError, match="no interval_coverage"):
        check_coverage({"rmse": 1.0}, 0.9, 0.1)


# --- metrics, directions, gates ---


def test_regression_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.uniform(1000, 6000, 200)
    predicted = y + rng.normal(0, 300, 200)
    metrics = regression_metrics(y, predicted, 3000.0, {"level": 0.9, "half_width": 400.0})
    assert metrics["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, predicted)), abs=1e-6)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, predicted), abs=1e-6)
    assert metrics["r2"] == pytest.approx(r2_score(y, predicted), abs=1e-6)
    assert metrics["mape"] == pytest.approx(np.mean(np.abs(y - predicted) / y), abs=1e-6)
    assert metrics["baseline"]["rmse"] == pytest.approx(
        np.sqrt(np.mean((y - 3000.0) ** 2)), abs=1e-6
    )
    assert metrics["interval_coverage"] == pytest.approx(np.mean(np.abs(y - predicted) <= 400))
    assert metrics["interval_width"] == 800.0 and metrics["test_rows"] == 200
    # a target that touches zero has no percentage error
    touching_zero = regression_metrics(y - y.min(), predicted, 0.0, {"level": 0.9, "half_width": 1})
    assert "mape" not in touching_zero


def test_metric_directions():
    assert [direction(m) for m in ("rmse", "mae", "mape", "baseline.rmse")] == ["lower"] * 4
    assert direction("r2") == "higher"
    assert direction("interval_coverage") is None and direction("interval_width") is None


def test_gates_follow_the_profile_task():
    params = Params()
    assert dataset_gates(params, load_profile("penguins")).gates.min_lift == params.gates.min_lift
    regression = dataset_gates(params, load_profile("penguins_mass")).gates
    assert regression.min == {"r2": 0.7} and regression.min_lift == {"r2": 0.1}


def test_a_family_of_the_other_task_names_train_model_and_the_task():
    check_family(load_profile("penguins_mass"), "ridge")
    with pytest.raises(ModelFamilyError, match=r"train\.model is 'logistic_regression'.*'regr"):
        check_family(load_profile("penguins_mass"), "logistic_regression")
    with pytest.raises(ParamsError, match=r"train.model is 'ridge'.*'classification'"):
        check_family(load_profile("penguins"), "ridge")


# --- fit, evaluate, package parts, serve-side scorer and batch, in process ---


@pytest.fixture(scope="module")
def fitted():
    profile = load_profile("penguins_mass")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    train, test = split_train_test(raw, profile.target, 0.3, 42, stratify=False)
    params = Params().model_copy(
        update={"train": Params().train.model_copy(update={"model": "ridge"})}
    )
    pipeline, block = fit_regression(train, profile, params.train, params.regression)
    return profile, params, train, test, pipeline, block


def test_cv_interval_is_the_quantile_of_out_of_fold_residuals(fitted):
    """The default: the model sees the whole train split; the half-width is the conformal
    quantile of residuals from scikit-learn's cross_val_predict with the same seeded folds."""
    profile, params, train, _, pipeline, block = fitted
    interval = block["interval"]
    assert interval["method"] == "cv"
    assert interval["calibration_rows"] == interval["fit_rows"] == len(train)
    x, y = model_frame(train, profile.features), target_values(train, profile)
    whole = build_pipeline(profile, params.train, rows=len(x)).fit(x, y)
    np.testing.assert_allclose(pipeline.predict(x), whole.predict(x))
    folds = KFold(5, shuffle=True, random_state=params.train.seed)
    fold_model = build_pipeline(profile, params.train, rows=len(x))  # sized like the final fit
    out_of_fold = cross_val_predict(fold_model, x, y, cv=folds)
    residuals = np.sort(np.abs(y - out_of_fold))
    rank = math.ceil((len(y) + 1) * 0.9)
    assert interval["half_width"] == pytest.approx(residuals[rank - 1])


def test_split_interval_holds_out_a_share_of_the_train_split(fitted):
    profile, params, train, _, _, _ = fitted
    split = params.regression.model_copy(update={"interval_method": "split"})
    _, block = fit_regression(train, profile, params.train, split)
    interval = block["interval"]
    assert interval["method"] == "split_conformal"
    assert interval["calibration_rows"] + interval["fit_rows"] == len(train)
    assert interval["calibration_rows"] == math.ceil(0.25 * len(train))


def test_interval_covers_the_test_set(fitted):
    profile, params, train, test, pipeline, block = fitted
    assert block["target"]["mean"] == pytest.approx(train[profile.target].mean())
    result = evaluate_regression(
        pipeline, model_frame(test, profile.features), target_values(test, profile), block
    )
    metrics = result["metrics"]
    assert abs(metrics["interval_coverage"] - 0.9) <= params.regression.coverage_tolerance
    assert metrics["r2"] >= 0.7 and metrics["rmse"] < metrics["baseline"]["rmse"]
    assert len(result["predicted_actual"]) == len(test) == len(result["residuals"])
    assert sum(b["rows"] for b in result["residual_histogram"]) == len(test)
    frame, y = model_frame(test, profile.features), target_values(test, profile)
    scoring = "neg_root_mean_squared_error"
    importance = permutation_importances(pipeline, frame, y, 42, scoring)
    expected = permutation_importance(
        pipeline, frame, y, n_repeats=10, random_state=42, scoring=scoring
    )
    top = max(zip(frame.columns, expected.importances_mean, strict=True), key=lambda c: c[1])
    assert importance[0]["feature"] == top[0]


def test_scorer_and_batch_give_value_and_interval(fitted, tmp_path):
    profile, _, train, test, pipeline, block = fitted
    frame = model_frame(test, profile.features)
    onnx_bytes = to_onnx_regressor_bytes(pipeline, profile.features)
    rules = domain_rules(profile, load_schema(profile))
    metadata = metadata_for(pipeline, profile, train, rules).model_copy(
        update={"prediction_interval": PredictionInterval(**block["interval"])}
    )
    model = PackagedModel(onnx_bytes, metadata, "m:1")
    parity = check_regression_parity(pipeline, model, test, profile.features, 1e-2, 1e-5)
    assert parity.ok and model.task.name == "regression"
    # the online scorer: one answer per record, value +- the stored half-width
    records = test[profile.features.all].head(5).astype(object)
    records = records.where(records.notna(), None).to_dict("records")
    answers = model.score(records)
    half = block["interval"]["half_width"]
    expected = pipeline.predict(frame.head(5))
    for answer, value in zip(answers, expected, strict=True):
        assert answer[profile.target] == pytest.approx(value, abs=1e-2)
        low, high = answer["interval"]
        assert high - low == pytest.approx(2 * half) and low < answer[profile.target] < high
    # batch scoring into SQLite: the same values in `prediction`, `interval_low/high`
    source = tmp_path / "in.csv"
    test.to_csv(source, index=False)
    result = score_file(source, f"sqlite:///{tmp_path / 'out.db'}", model)
    assert result.rows == len(test) and result.rejected == 0
    with sqlite3.connect(tmp_path / "out.db") as conn:
        rows = conn.execute(
            "SELECT prediction, interval_low, interval_high FROM predictions ORDER BY input_row"
        ).fetchall()
    values = np.array(rows)
    np.testing.assert_allclose(values[:, 0], pipeline.predict(frame), atol=1e-2)
    np.testing.assert_allclose(values[:, 2] - values[:, 1], 2 * half)
    assert [a[profile.target] for a in answers] == values[:5, 0].tolist()  # online == batch
    # the typed OpenAPI answer fits the scorer's answers, and a classifier's shape does not
    schema = answer_schema(profile.target, task_for(metadata))
    jsonschema.validate(identify(answers, "m:1"), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**answers[0], "interval": [1.0, 2.0, 3.0]}], schema)
    # every batch row has a prediction id, and the monitor reads value and interval back
    read, note = read_batch_predictions(f"sqlite:///{tmp_path / 'out.db'}", model.task)
    assert note is None and read.frame["prediction_id"].str.fullmatch(PATTERN_TEXT).all()
    assert read.frame["prediction_id"].is_unique and len(read.frame) == len(test)
    read_values = read.frame[["predicted", "interval_low", "interval_high"]].to_numpy()
    np.testing.assert_array_equal(np.sort(read_values, axis=0), np.sort(values, axis=0))


def test_target_bounds_clip_values_and_interval_ends_identically_online_and_in_batch():
    from tabml.scoring.task import Regression

    task = Regression(half_width=10.0, level=0.9, low=0.0, high=100.0)
    raw = [np.array([[-5.0], [3.0], [50.0], [95.0]], dtype=np.float32)]
    answers = task.answers(raw, "count")
    assert [a["count"] for a in answers] == [0.0, 3.0, 50.0, 95.0]
    assert [a["interval"] for a in answers] == [
        [0.0, 5.0],
        [0.0, 13.0],
        [40.0, 60.0],
        [85.0, 100.0],
    ]
    value, low, high = task.batch_values(raw)
    assert value.tolist() == [a["count"] for a in answers]
    assert np.column_stack([low, high]).tolist() == [a["interval"] for a in answers]
    unbounded = Regression(half_width=10.0, level=0.9)
    assert unbounded.answers(raw, "count")[0] == {"count": -5.0, "interval": [-15.0, 5.0]}


def test_coverage_is_measured_after_clipping():
    from tabml.model.regression_metrics import regression_metrics

    y = np.array([0.0, 0.0, 20.0, 100.0])
    predicted = np.array([0.0, 0.0, 20.0, 100.0])  # already clipped values
    interval = {"level": 0.9, "half_width": 5.0}
    # served ends, clipped at 0: [0, 5] holds 0; an unclipped end would be [-5, 5]
    ends = (np.array([0.0, 1.0, 15.0, 95.0]), np.array([5.0, 5.0, 25.0, 105.0]))
    metrics = regression_metrics(y, predicted, 30.0, interval, ends)
    assert metrics["interval_coverage"] == 0.75  # the second row's clipped interval misses 0
