"""Build and fit the model pipeline: preprocessing + the estimator of the family in params.

The family comes from the registry (`tabml.model.families`): its estimator for the profile's
task, its hyperparameter section, and whether numeric inputs are scaled for it.
"""

import pandas as pd
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile
from tabml.model.families import FAMILIES, families_for
from tabml.model.features import build_preprocessor, model_frame
from tabml.params import ParamsError, TrainParams


class ModelFamilyError(ParamsError):
    """`train.model` names a family that has no estimator for the profile's task."""


def check_family(profile: DatasetProfile, family: str) -> None:
    """Raise ModelFamilyError unless `family` has an estimator for the profile's task."""
    allowed = families_for(profile.task)
    if family not in allowed:
        raise ModelFamilyError(
            f"train.model is {family!r}, but profile {profile.name!r} has task "
            f"{profile.task!r}: choose one of {' | '.join(allowed)} "
            f"(e.g. -S train.model={allowed[0]})"
        )


def build_pipeline(profile: DatasetProfile, params: TrainParams) -> Pipeline:
    """The unfitted pipeline: the preprocessor, then the family's estimator for the task.

    Only linear families scale numeric inputs: trees do not need it, and skipping the
    scaler keeps their ONNX graph smaller.
    """
    check_family(profile, params.model)
    family = FAMILIES[params.model]
    estimator = family.build(profile.task, getattr(params, params.model), params.seed)
    preprocess = build_preprocessor(profile.features, scale_numeric=family.scale_numeric)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def fit_model(train: pd.DataFrame, profile: DatasetProfile, params: TrainParams) -> Pipeline:
    """Fit a classification pipeline on the training split; labels are used as strings."""
    pipeline = build_pipeline(profile, params)
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    return pipeline.fit(model_frame(train, profile.features), labels)
