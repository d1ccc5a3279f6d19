"""Feature preparation: the model's input frame, the train/test split, the preprocessor."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from tabml.data.profile import Features
from tabml.scoring.inputs import MISSING_CATEGORY, InputRules, Inputs
from tabml.scoring.rules import DomainRule


def input_rules(features: Features) -> InputRules:
    """The runtime's input rules for a profile's features (kinds and date formats; the
    schema's bounds and categories are validate's business)."""
    rules = [DomainRule(n, "numeric", nullable=True) for n in features.numeric]
    rules += [DomainRule(n, "categorical", nullable=True) for n in features.categorical]
    rules += [
        DomainRule(c, "date", nullable=True, parts=tuple(d.parts), format=d.format)
        for c, d in features.dates.items()
    ]
    return InputRules(tuple(rules), MISSING_CATEGORY)


def model_inputs(frame: pd.DataFrame, features: Features) -> Inputs:
    """The runtime's normalised inputs of a frame (InputError if a value breaks its kind)."""
    return input_rules(features).read(frame).checked()


def model_frame(frame: pd.DataFrame, features: Features) -> pd.DataFrame:
    """The model's input: numeric features and the numbers derived from dates as float32,
    categories as text ("" when missing).

    Built by the shipped runtime's input path (`tabml.scoring.inputs`), the one serving and
    batch scoring use, so the three agree to the bit; float32 is what the ONNX model computes
    in, and training on the same values keeps tree thresholds identical between scikit-learn
    and onnxruntime.
    """
    return model_inputs(frame, features).model_frame(frame.index)


def split_train_test(
    frame: pd.DataFrame, target: str, test_size: float, seed: int, stratify: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split, stratified by the target (labels; not numbers); both keep row order."""
    train, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[target] if stratify else None
    )
    return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)


def build_preprocessor(
    features: Features, scale_numeric: bool = True, encoding: str = "onehot"
) -> ColumnTransformer:
    """Impute + scale numeric columns, one-hot categorical columns (missing is a category).

    No imputer for categories: it would map "" to a constant, which encodes exactly as ""
    itself, yet costs eleven ONNX nodes, half the served graph's time per request.
    `encoding="ordinal"` (boosting, tabml.model.families): numbers pass through with their
    NaNs and each category is one float32 code ("" is a category of its own; one unseen in
    training is NaN, the missing-value branch, in ONNX too).
    """
    if encoding == "ordinal":
        ordinal = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, dtype=np.float32
        )
        transformers = [("numeric", "passthrough", features.model_numeric)]
        if features.categorical:
            transformers.append(("categorical", ordinal, features.categorical))
        return ColumnTransformer(transformers, sparse_threshold=0.0)
    numeric_steps = [SimpleImputer(strategy="median")]
    if scale_numeric:
        numeric_steps.append(StandardScaler())
    categorical = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    transformers = [("numeric", make_pipeline(*numeric_steps), features.model_numeric)]
    if features.categorical:
        transformers.append(("categorical", categorical, features.categorical))
    return ColumnTransformer(transformers, sparse_threshold=0.0)
