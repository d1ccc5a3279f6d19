"""ONNX parity of the strong families, converted the way the package stage converts.

Each pipeline takes the model frame (one [N, 1] input per feature: float32 numbers, strings
for categories; `tabml.packaging.onnx_export.convert`, pinned opsets) and is compared with
scikit-learn on the test split: the largest |probability difference| (classification) or
|value difference| relative to the training target's std (regression), and how many labels
differ. LightGBM and XGBoost go through skl2onnx's pipeline converter with onnxmltools'
converters registered for them (the route skl2onnx documents for foreign estimators).
"""

import time

import numpy as np
import onnxruntime as ort

from benchmarks.model_hgb import SEED, hgb_pipeline, native_mask
from benchmarks.model_systems import Data
from tabml.packaging.onnx_export import convert
from tabml.packaging.onnx_hgb import register_exact_hgb


def register_boosters() -> None:
    """Teach skl2onnx LightGBM's and XGBoost's estimators (onnxmltools' converters)."""
    import lightgbm
    import xgboost
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for family, alias, converter in (
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ):
        update_registered_converter(
            family, alias, calculate_linear_classifier_output_shapes, converter, options=options
        )
    for family, alias, converter in (
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
    ):
        update_registered_converter(
            family, alias, calculate_linear_regressor_output_shapes, converter
        )


def booster_pipeline(data: Data, library: str, native: bool):
    """Ordinal-encoded categories + LightGBM / XGBoost defaults (native categories optional)."""
    import lightgbm
    import xgboost

    pipeline = hgb_pipeline(data, "ordinal")  # its encoder; the estimator is replaced
    regression = data.task == "regression"
    if library == "lightgbm":
        family = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        model = family(random_state=0, n_jobs=1, verbose=-1)
    else:
        family = xgboost.XGBRegressor if regression else xgboost.XGBClassifier
        model = family(random_state=0, n_jobs=1)
    pipeline.steps[-1] = ("model", model)
    fit_params = {}
    if native and library == "lightgbm":
        mask = native_mask(data)
        fit_params["model__categorical_feature"] = [i for i, m in enumerate(mask) if m]
    return pipeline, fit_params


def feeds(frame, session: ort.InferenceSession, data: Data) -> dict:
    """One [N, 1] array per model input: float32 numbers, object strings. The inputs are the
    model frame's columns in order (skl2onnx sanitises names such as `date (year)`)."""
    features = data.run.profile.features
    columns = [*features.model_numeric, *features.categorical]
    out = {}
    for node, column in zip(session.get_inputs(), columns, strict=True):
        kind = np.float32 if node.type == "tensor(float)" else object
        out[node.name] = frame[column].to_numpy().astype(kind).reshape(-1, 1)
    return out


def latency(session: ort.InferenceSession, batch: dict, repeats: int = 300) -> dict:
    """Median microseconds of one one-row call (what /predict pays per request) and per row
    of the whole test split in one call (what batch scoring pays)."""
    one = {name: values[:1] for name, values in batch.items()}
    single = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, one)
        single.append(time.perf_counter() - started)
    started = time.perf_counter()
    session.run(None, batch)
    rows = len(next(iter(batch.values())))
    return {
        "one_row_us": float(np.median(single) * 1e6),
        "batch_row_us": (time.perf_counter() - started) / rows * 1e6,
    }


def stressed(data: Data):
    """The test split with what serving meets: a seeded 10% of each number missing, 5% of each
    category missing ("") and 5% a category never seen in training."""
    rng = np.random.default_rng(SEED)
    frame = data.x_test.copy()
    for column in frame.columns:
        if column in data.categorical:
            draw = rng.random(len(frame))
            frame.loc[draw < 0.05, column] = ""
            frame.loc[(draw >= 0.05) & (draw < 0.10), column] = "never-seen-category"
        else:
            frame.loc[rng.random(len(frame)) < 0.10, column] = np.nan
    return frame


def compare(data: Data, pipeline, session: ort.InferenceSession, frame) -> dict:
    """ONNX vs scikit-learn on `frame`: max differences and labels that differ."""
    outputs = session.run(None, feeds(frame, session, data))
    if data.task == "regression":
        expected = np.asarray(pipeline.predict(frame), dtype=np.float64)
        diff = np.abs(np.asarray(outputs[0], dtype=np.float64).ravel() - expected)
        return {
            "max_abs_diff": float(diff.max()),
            "max_diff_over_std": float(diff.max() / np.std(data.y_train)),
        }
    expected_proba = pipeline.predict_proba(frame)
    expected_labels = np.asarray(pipeline.predict(frame)).astype(str)
    labels, proba = outputs[0], np.asarray(outputs[1], dtype=np.float64)
    if "XGB" in type(pipeline[-1]).__name__:  # fitted on codes 0..k-1
        classes = np.unique(data.y_train)
        expected_labels = classes[expected_labels.astype(int)]
        labels = classes[np.asarray(labels).astype(int)]
    return {
        "max_abs_dp": float(np.abs(proba - expected_proba).max()),
        "label_mismatches": int((np.asarray(labels).astype(str).ravel() != expected_labels).sum()),
        "rows": len(frame),
    }


def parity(data: Data, name: str, pipeline, fit_params: dict | None = None) -> dict:
    """Fit, convert, and compare ONNX with scikit-learn on the test split, as it is and
    stressed (missing values, unseen categories)."""
    y_train = data.y_train
    if data.task != "regression" and "XGB" in type(pipeline[-1]).__name__:
        y_train = np.searchsorted(np.unique(y_train), y_train)  # XGBoost wants 0..k-1
    pipeline.fit(data.x_train, y_train, **(fit_params or {}))
    row = {"pipeline": name}
    options = {} if data.task == "regression" else {id(pipeline): {"zipmap": False}}
    started = time.perf_counter()
    try:
        onnx_bytes = convert(pipeline, data.run.profile.features, {}, options=options)
    except Exception as error:  # the finding is which pipelines do not convert, and why
        return {**row, "converts": False, "error": f"{type(error).__name__}: {error}"[:300]}
    row.update(converts=True, convert_s=time.perf_counter() - started, onnx_bytes=len(onnx_bytes))
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    row.update(compare(data, pipeline, session, data.x_test))
    row["stressed"] = compare(data, pipeline, session, stressed(data))
    row.update(latency(session, feeds(data.x_test, session, data)))
    return row


def default_pipeline(data: Data):
    """Today's default family, unfitted (logistic regression; ridge for numbers)."""
    from tabml.model.tasks import training_task
    from tabml.model.train import build_pipeline
    from tabml.params import TrainParams

    family = training_task(data.run.profile).default_family
    return build_pipeline(data.run.profile, TrainParams(model=family))


def parity_rows(data: Data, auto_params: dict) -> list[dict]:
    """Every exportable candidate (and the ones expected not to be) on one table."""
    register_boosters()
    register_exact_hgb(threshold_fix=False)
    rows = [
        parity(data, "today's default family (latency reference)", default_pipeline(data)),
        parity(
            data,
            "HGB auto, ordinal, without the threshold fix",
            hgb_pipeline(data, "ordinal", **auto_params),
        ),
    ]
    register_exact_hgb()
    rows += [
        parity(data, "HGB auto, ordinal", hgb_pipeline(data, "ordinal", **auto_params)),
        parity(data, "HGB defaults, one-hot", hgb_pipeline(data, "onehot")),
        parity(data, "HGB defaults, native categories", hgb_pipeline(data, "native")),
    ]
    for library in ("lightgbm", "xgboost"):
        rows.append(
            parity(
                data, f"{library} defaults, ordinal", *booster_pipeline(data, library, native=False)
            )
        )
    rows.append(
        parity(
            data,
            "lightgbm defaults, native categories",
            *booster_pipeline(data, "lightgbm", native=True),
        )
    )
    return rows
