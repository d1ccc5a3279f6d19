import numpy as np
import pandas as pd

from tabml.model.features import (
    MISSING_CATEGORY,
    build_preprocessor,
    model_frame,
    split_train_test,
)


def test_model_frame_types_and_missing_categories(raw_penguins, profile):
    frame = model_frame(raw_penguins, profile.features)
    assert list(frame.columns) == profile.features.all
    for name in profile.features.numeric:
        assert frame[name].dtype == np.float32
    assert frame["sex"].dtype == object
    assert (frame["sex"] == MISSING_CATEGORY).sum() == raw_penguins["sex"].isna().sum()
    assert "year" not in frame.columns and profile.target not in frame.columns


def test_split_is_stratified_seeded_and_complete(raw_penguins, profile):
    train, test = split_train_test(raw_penguins, profile.target, 0.3, seed=7)
    again_train, _ = split_train_test(raw_penguins, profile.target, 0.3, seed=7)
    other_train, _ = split_train_test(raw_penguins, profile.target, 0.3, seed=8)
    pd.testing.assert_frame_equal(train, again_train)
    assert not train.equals(other_train)
    assert len(train) + len(test) == len(raw_penguins)
    overall = raw_penguins[profile.target].value_counts(normalize=True)
    in_test = test[profile.target].value_counts(normalize=True)
    assert (overall - in_test).abs().max() < 0.02


def test_preprocessor_imputes_and_one_hot_encodes(raw_penguins, profile):
    frame = model_frame(raw_penguins, profile.features)
    out = build_preprocessor(profile.features).fit_transform(frame)
    assert not np.isnan(out).any()
    # 4 numeric + 3 islands + (male, female, imputed missing)
    assert out.shape == (len(frame), 4 + 3 + 3)
