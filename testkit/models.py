"""A fitted scikit-learn pipeline as the shipped runtime's `PackagedModel`, without a bento.

Tests that fit a small pipeline (other families, dates, regression) score it through the same
runtime object the service and batch scoring load: ONNX bytes from the package stage's
converter and a metadata record with the training statistics of the rows it was fitted on.
"""

import numpy as np
import pandas as pd

from tabml.data.profile import DatasetProfile
from tabml.model.training_stats import training_stats
from tabml.scoring.metadata import SCHEMA_VERSION, ModelMetadata
from tabml.scoring.model import PackagedModel
from tabml.scoring.rules import DomainRule


def metadata_for(
    pipeline,
    profile: DatasetProfile,
    train: pd.DataFrame,
    rules: list[DomainRule] | None = None,
    half_width: float = 1.0,
) -> ModelMetadata:
    """A metadata record as the package stage writes it (no params, metrics or card).

    `rules` default to the profile's kinds without bounds or category lists.
    """
    from tabml.model.features import input_rules

    stats = training_stats(train, profile)
    if profile.task == "regression":
        y = pd.to_numeric(train[profile.target]).to_numpy(dtype=np.float64)
        interval = {"level": 0.9, "half_width": half_width, "calibration_rows": 1, "fit_rows": 1}
        stats["regression"] = {
            "target": {"mean": y.mean(), "std": y.std(), "min": y.min(), "max": y.max()},
            "interval": interval,
        }
        task = {"task": "regression", "prediction_interval": interval}
    else:
        task = {"task": "classification", "classes": [str(c) for c in pipeline.classes_]}
    return ModelMetadata(
        schema_version=SCHEMA_VERSION,
        **task,
        target=profile.target,
        domain_rules=list(rules or input_rules(profile.features).rules),
        training_stats=stats,
        parity_tolerance=1e-5,
        max_records=1000,
    )


def packaged_from(
    pipeline,
    profile: DatasetProfile,
    train: pd.DataFrame,
    rules: list[DomainRule] | None = None,
    onnx_bytes: bytes | None = None,
) -> PackagedModel:
    """The runtime model of a fitted pipeline (converted as the package stage converts it)."""
    from tabml.packaging.onnx_export import to_onnx_bytes
    from tabml.packaging.onnx_regression import to_onnx_regressor_bytes

    if onnx_bytes is None:
        convert = to_onnx_regressor_bytes if profile.task == "regression" else to_onnx_bytes
        onnx_bytes = convert(pipeline, profile.features)
    return PackagedModel(onnx_bytes, metadata_for(pipeline, profile, train, rules), "test:1")


def bare_metadata(**fields) -> ModelMetadata:
    """A valid metadata record with nothing in it but `fields` (a classifier of one class,
    no features, unless they say otherwise): for code that reads a few of its fields."""
    regression = fields.get("task") == "regression"
    interval = {"level": 0.9, "half_width": 1.0, "calibration_rows": 1, "fit_rows": 1}
    record = {
        "target": "y",
        "domain_rules": [],
        "training_stats": {"rows": 1, "target": "y", "numeric": {}, "categorical": {}},
        "parity_tolerance": 1e-5,
        "max_records": 10,
        **({"prediction_interval": interval} if regression else {"classes": ["a"]}),
        **fields,
    }
    return ModelMetadata.model_validate(record)
