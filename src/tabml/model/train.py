"""Build and fit the model pipeline: preprocessing + the estimator of the family in params.

The family comes from the registry (`tabml.model.families`): its estimator for the profile's
task, its hyperparameter section, and whether numeric inputs are scaled for it.
"""

import pandas as pd
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile
from tabml.model.families import AUTO, FAMILIES, families_for, one_thread
from tabml.model.features import build_preprocessor, model_frame
from tabml.params import ParamsError, TrainParams, TuneParams


class ModelFamilyError(ParamsError):
    """`train.model` names a family that has no estimator for the profile's task."""


def check_family(profile: DatasetProfile, family: str) -> None:
    """Raise ModelFamilyError unless `family` has an estimator for the profile's task
    (`auto` has one for every task)."""
    allowed = families_for(profile.task)
    if family != AUTO and family not in allowed:
        raise ModelFamilyError(
            f"train.model is {family!r}, but profile {profile.name!r} has task "
            f"{profile.task!r}: choose auto or one of {' | '.join(allowed)} "
            f"(e.g. -S train.model=auto)"
        )


def build_pipeline(
    profile: DatasetProfile, params: TrainParams, rows: int | None = None
) -> Pipeline:
    """The unfitted pipeline: the preprocessor, then the family's estimator for the task.

    Only linear families scale numeric inputs: trees do not need it, and skipping the
    scaler keeps their ONNX graph smaller. `rows` (the rows it will be fitted on) lets a
    family choose, e.g., early stopping only when there are enough rows for it.
    """
    check_family(profile, params.model)
    family = FAMILIES[params.model]
    estimator = family.build(profile.task, getattr(params, params.model), params.seed, rows)
    preprocess = build_preprocessor(
        profile.features, scale_numeric=family.scale_numeric, encoding=family.encoding
    )
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def fit_model(
    train: pd.DataFrame,
    profile: DatasetProfile,
    params: TrainParams,
    tune: TuneParams | None = None,
) -> Pipeline:
    """Fit a classification pipeline on the training split; labels are used as strings.

    `train.model: auto` is resolved first (on `tune`'s folds; the default TuneParams when not
    given): the train stage resolves it itself to record the choice.
    """
    if params.model == AUTO:
        from tabml.model.auto import resolve_model

        params, _ = resolve_model(train, profile, params, tune or TuneParams())
    pipeline = build_pipeline(profile, params, rows=len(train))
    labels = train[profile.target].astype(str).to_numpy(dtype=object)
    with one_thread():
        return pipeline.fit(model_frame(train, profile.features), labels)
