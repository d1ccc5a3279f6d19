"""Build and fit the model pipeline: preprocessing + the estimator chosen in params."""

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile
from tabml.model.features import build_preprocessor, model_frame
from tabml.params import TrainParams


def build_estimator(params: TrainParams) -> ClassifierMixin:
    """The estimator family `params.model`, with its own hyperparameter section."""
    if params.model == "logistic_regression":
        p = params.logistic_regression
        return LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=params.seed)
    if params.model == "random_forest":
        return RandomForestClassifier(**forest_options(params))
    if params.model == "gradient_boosting":
        return GradientBoostingClassifier(**boosting_options(params))
    raise ValueError(f"unknown model family {params.model!r}")


def forest_options(params: TrainParams) -> dict:
    """Keyword arguments of a seeded random forest (classifier or regressor)."""
    p = params.random_forest
    return {
        "n_estimators": p.n_estimators,
        "max_depth": p.max_depth,
        "min_samples_leaf": p.min_samples_leaf,
        "random_state": params.seed,
        "n_jobs": 1,  # deterministic and fair on 2 cores
    }


def boosting_options(params: TrainParams) -> dict:
    """Keyword arguments of seeded gradient boosting (classifier or regressor)."""
    p = params.gradient_boosting
    return {
        "n_estimators": p.n_estimators,
        "learning_rate": p.learning_rate,
        "max_depth": p.max_depth,
        "random_state": params.seed,
    }


def build_pipeline(profile: DatasetProfile, params: TrainParams) -> Pipeline:
    # Trees don't need scaled inputs; skipping the scaler keeps their ONNX graph smaller.
    scale = params.model == "logistic_regression"
    return Pipeline(
        [
            ("preprocess", build_preprocessor(profile.features, scale_numeric=scale)),
            ("model", build_estimator(params)),
        ]
    )


def fit_model(train: pd.DataFrame, profile: DatasetProfile, params: TrainParams) -> Pipeline:
    """Fit the pipeline on the training split; labels are used as strings."""
    pipeline = build_pipeline(profile, params)
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    return pipeline.fit(model_frame(train, profile.features), labels)
