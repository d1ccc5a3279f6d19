"""`train.model: auto`: one default for both tasks, chosen by CV on the training split only.

Targets are generated from the penguins' real feature columns, so which family should win is
known: a linear target is the linear family's, a step function is boosting's.
"""

import numpy as np
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.model.features import split_train_test
from tabml.model.tasks import training_task
from tabml.params import Params


@pytest.fixture(scope="module")
def mass():
    profile = load_profile("penguins_mass")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    raw = raw.dropna(subset=["bill_length_mm", "flipper_length_mm"]).reset_index(drop=True)
    return profile, raw


def _fit(profile, train, params=None):
    params = params or Params()  # the committed default: auto
    return training_task(profile).fit(train, profile, params.train, params)


def test_a_regression_profile_trains_with_the_default_and_a_linear_target_goes_linear(mass):
    profile, raw = mass
    rng = np.random.default_rng(0)
    frame = raw.assign(
        body_mass_g=30.0 * raw.bill_length_mm + 12.0 * raw.flipper_length_mm
        + rng.normal(0, 1.0, len(raw))
    )  # fmt: skip
    train = split_train_test(frame, profile.target, 0.3, 42, stratify=False)[0]
    pipeline, stats = _fit(profile, train)
    assert stats["model"]["requested"] == "auto"
    assert set(stats["model"]["cv"]) == {"hgb", "ridge"}
    assert stats["model"]["metric"] == "neg_root_mean_squared_error"
    assert stats["model"]["family"] == "ridge" == type(pipeline[-1]).__name__.lower()
    assert "interval" in stats["regression"]


def test_a_step_target_goes_to_boosting(mass):
    profile, raw = mass
    step = 3000.0 + 1500.0 * (raw.bill_length_mm > 45) * (raw.flipper_length_mm < 200)
    train = split_train_test(raw.assign(body_mass_g=step), profile.target, 0.3, 42, False)[0]
    pipeline, stats = _fit(profile, train)
    cv = stats["model"]["cv"]
    assert stats["model"]["family"] == "hgb" and cv["hgb"] > cv["ridge"]
    assert type(pipeline[-1]).__name__ == "HistGradientBoostingRegressor"


def test_without_folds_auto_keeps_boosting_and_says_why():
    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    # two Chinstraps only: 3 stratified folds cannot be cut
    rare = raw[raw.species == "Chinstrap"].index[2:]
    train = raw.drop(index=rare).reset_index(drop=True)
    _, stats = _fit(profile, train)
    assert stats["model"]["family"] == "hgb"
    assert "tune.folds=3" in stats["model"]["skipped"]


def test_balanced_class_weight_raises_a_rare_class_recall():
    from sklearn.metrics import recall_score

    from tabml.model.features import model_frame
    from tabml.model.train import fit_model
    from tabml.params import TrainParams

    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    # Chinstraps cut to 12 of ~160 rows; a noisy bill length is the only clue: a hard rare class
    rare = raw[raw.species == "Chinstrap"].head(12)
    frame = pd.concat([raw[raw.species == "Adelie"], rare]).reset_index(drop=True)
    frame = frame.assign(island="Dream", sex="", flipper_length_mm=np.nan, bill_depth_mm=np.nan)
    y = frame[profile.target].astype(str).to_numpy()
    recall, family = {}, "logistic_regression"
    for weight in (None, "balanced"):
        params = TrainParams(model=family, **{family: {"class_weight": weight}})
        model = fit_model(frame, profile, params)
        predicted = model.predict(model_frame(frame, profile.features))
        recall[weight] = recall_score(y, predicted, pos_label="Chinstrap")
    assert recall["balanced"] > recall[None]


@pytest.mark.parametrize("family", ["hgb", "random_forest"])
def test_every_classifier_family_takes_the_class_weight(family):
    from tabml.model.families import FAMILIES
    from tabml.params import TrainParams

    params = TrainParams(model=family, **{family: {"class_weight": "balanced"}})
    built = FAMILIES[family].build("classification", getattr(params, family), 0, 100)
    assert built.class_weight == "balanced"


def test_a_binary_threshold_is_chosen_on_training_rows_and_applied_by_the_runtime():
    from tabml.scoring.task import Classification

    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    binary = raw.assign(species=np.where(raw.species == "Chinstrap", "Chinstrap", "other"))
    train = split_train_test(binary, profile.target, 0.3, 42)[0]
    params = Params.model_validate({"train": {"model": "logistic_regression",
                                              "decision_threshold": "macro_f1"}})  # fmt: skip
    _, stats = _fit(profile, train, params)
    decision = stats["decision"]
    assert 0.0 < decision["threshold"] < 1.0 and decision["positive"] == "other"
    assert decision["oof_macro_f1"] >= decision["oof_macro_f1_argmax"] - 0.02
    # the runtime labels by it, identically in answers and batch values
    task = Classification(["Chinstrap", "other"], threshold=0.7)
    outputs = [np.array(["other", "other"]), np.array([[0.35, 0.65], [0.2, 0.8]], np.float32)]
    assert [a["species"] for a in task.answers(outputs, "species")] == ["Chinstrap", "other"]
    assert list(task.batch_values(outputs)[0]) == ["Chinstrap", "other"]
    # argmax when not asked for (and for a multiclass profile)
    assert "decision" not in _fit(profile, train, Params())[1]


def test_the_linear_check_scores_boosting_as_the_whole_split_will_fit_it():
    """A split of >= 1,000 rows stops early; its CV folds (fewer rows) are scored the same way,
    i.e. as scikit-learn's cross_val_score scores the pipeline sized for the whole split."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from tabml.model.features import model_frame
    from tabml.model.train import build_pipeline

    profile = load_profile("penguins")
    raw = pd.read_csv(profile.source.resolve()).dropna(subset=[profile.target])
    grown = raw.sample(1500, replace=True, random_state=0).reset_index(drop=True)
    noisy = grown.bill_length_mm + np.random.default_rng(0).normal(0, 2.0, len(grown))
    train = split_train_test(grown.assign(bill_length_mm=noisy), profile.target, 0.3, 42)[0]
    assert len(train) >= Params().train.hgb.early_stopping_rows > len(train) * 2 // 3
    _, stats = _fit(profile, train)
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    hgb = Params().train.model_copy(update={"model": "hgb"})
    expected = cross_val_score(
        build_pipeline(profile, hgb, rows=len(train)),
        model_frame(train, profile.features),
        labels,
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=42),
        scoring="neg_log_loss",
    ).mean()
    assert stats["model"]["cv"]["hgb"] == pytest.approx(expected, abs=1e-12)
