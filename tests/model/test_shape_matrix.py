"""The shape matrix, in process: every generated table (testkit/shapes.py) through bootstrap,
validate, training, packaging and every scoring surface, with the stages' own functions.

For each table: bootstrap finds the date formats, drops the free text and keeps the
integer-coded category it is told about; validate passes; the model trains and its ONNX
passes parity; API records, a CSV file and a parquet file with BINARY categories give the
same answers, equal to scikit-learn's within the parity tolerance; explanations add up to
the answers; every invalid value is a field error and a reject naming its field. The same
tables go through the real `dvc repro`, HTTP server, batch CLI, feedback and `make monitor`
in tests/pipeline/test_shape_matrix_slow.py.
"""

import sqlite3

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tabml.batch.score import score_file
from tabml.data.profile import load_profile
from tabml.data.profile_draft import write_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.data.validation import read_raw, validate_raw
from tabml.model.features import model_frame, split_train_test
from tabml.model.tasks import training_task
from tabml.model.training_stats import training_stats
from tabml.packaging.tasks import packaging_task
from tabml.params import Params
from tabml.scoring.explain import Explainer
from tabml.scoring.metadata import SCHEMA_VERSION, ModelMetadata
from tabml.scoring.model import PackagedModel
from tabml.serving.request_schema import request_model
from testkit import shapes

EXPECTED_FORMATS = {
    "signup": "%Y-%m-%d",
    "visit": "%Y/%m/%d",
    "event": "%Y-%m-%dT%H:%M:%S%z",
}


@pytest.fixture(scope="module", params=shapes.SHAPES, ids=lambda s: s.name)
def trained(request, tmp_path_factory):
    """(shape, profile, model, pipeline, test rows, folder): bootstrapped, validated, fitted,
    packaged as the stages do it."""
    shape = request.param
    folder = tmp_path_factory.mktemp(shape.name)
    frame = shapes.make_table(shape)
    csv = folder / f"{shape.name}.csv"
    frame.to_csv(csv, index=False)
    summary = write_profile(csv, shape.name, "y", folder, categorical=shape.categorical)
    profile = load_profile(shape.name, folder)
    schema = load_schema(profile, folder)
    features = profile.features
    raw = read_raw(csv, [*features.categorical, *features.dates])
    dates = {c: d.format for c, d in features.dates.items()}
    clean, report = validate_raw(raw, schema, "y", 20, str(csv), dates)
    assert report.ok, report.failures
    task = training_task(profile)
    train, test = split_train_test(clean, "y", 0.3, 42, task.stratify)
    params = Params().model_copy(
        update={"train": Params().train.model_copy(update={"model": shape.family})}
    )
    pipeline, extra = task.fit(train, profile, params.train, params)
    stats = {**training_stats(train, profile), **extra}
    packaging = packaging_task(profile)
    metadata = ModelMetadata(
        schema_version=SCHEMA_VERSION,
        **packaging.metadata(pipeline, stats),
        target="y",
        domain_rules=domain_rules(profile, schema),
        training_stats=stats,
        parity_tolerance=1e-5,
        max_records=1000,
    )
    model = PackagedModel(packaging.to_onnx(pipeline, profile), metadata, f"{shape.name}:1")
    assert packaging.check_parity(pipeline, model, test, profile, params, stats).ok
    return shape, profile, summary, model, pipeline, test, folder


def test_bootstrap_makes_of_each_kind_what_it_is(trained):
    shape, profile, summary, *_ = trained
    columns = set(shape.columns)
    assert {c: d.format for c, d in profile.features.dates.items()} == {
        c: f for c, f in EXPECTED_FORMATS.items() if c in columns
    }
    if "notes" in columns:
        assert summary.dropped["notes"].startswith("free text")
    assert set(profile.features.categorical) == columns & {"colour", "member", "region"}
    assert profile.features.numeric == ["amount"]
    assert profile.task == ("regression" if shape.task == "regression" else "classification")


def _batch(path, model, db):
    result = score_file(path, f"sqlite:///{db}", model)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM prediction_rows ORDER BY id").fetchall()
        rejects = conn.execute("SELECT input_row, reason FROM rejects").fetchall()
    return result, [r[2:] for r in rows], rejects


def test_online_batch_and_scikit_learn_agree_and_explanations_add_up(trained):
    shape, profile, _, model, pipeline, test, folder = trained
    features = profile.features.all
    records = shapes.records(test, features)
    request = request_model(model.rules, 1000)
    served = [
        r.model_dump(by_alias=True) for r in request.model_validate({"records": records}).records
    ]
    answers = model.score(served)
    test[features].to_csv(folder / "batch.csv", index=False)
    shapes.parquet_with_bytes(test[features], folder / "batch.parquet")
    result_csv, from_csv, rejects_csv = _batch(folder / "batch.csv", model, folder / "csv.db")
    result_pq, from_pq, rejects_pq = _batch(folder / "batch.parquet", model, folder / "pq.db")
    assert rejects_csv == rejects_pq == [] and result_csv.rows == result_pq.rows == len(test)
    assert from_csv == from_pq  # bytes categories score like text, to the bit
    frame = model_frame(test, profile.features)
    if shape.task == "regression":
        online = np.array([a["y"] for a in answers])
        assert online.tolist() == [r[0] for r in from_csv]  # online == batch
        np.testing.assert_allclose(online, pipeline.predict(frame), rtol=1e-5, atol=1e-3)
        explained = [a["y"] for a in answers]
    else:
        assert [a["y"] for a in answers] == [r[0] for r in from_csv]
        assert [list(a["probabilities"].values()) for a in answers] == [
            list(r[1:]) for r in from_csv
        ]
        assert [a["y"] for a in answers] == pipeline.predict(frame).tolist()
        np.testing.assert_allclose(
            [r[1:] for r in from_csv], pipeline.predict_proba(frame), atol=1e-5
        )
        explained = [a["probabilities"][a["y"]] for a in answers]
    explanations = Explainer(model).explain(model.inputs(served[:20]), top=2)
    for value, e in zip(explained, explanations):
        total = (
            e["base_value"]
            + e["other_features"]
            + sum(c["contribution"] for c in e["contributions"])
        )
        assert total == pytest.approx(value, rel=1e-5, abs=1e-6)
        assert {c["feature"] for c in e["contributions"]} <= set(features)


def test_every_invalid_value_is_a_field_error_and_a_reject(trained):
    shape, profile, _, model, _, test, folder = trained
    good = shapes.records(test, profile.features.all)[0]
    request = request_model(model.rules, 10)
    cases = shapes.invalid_records(shape, good)
    assert cases
    for record, field in cases:
        with pytest.raises(ValidationError) as err:
            request.model_validate({"records": [record]})
        assert [e["loc"][-1] for e in err.value.errors()] == [field], (field, record)
    frame = pd.DataFrame([record for record, _ in cases])
    frame.to_csv(folder / "bad.csv", index=False)
    _, rows, rejects = _batch(folder / "bad.csv", model, folder / "bad.db")
    assert rows == [] and [r[1].split(":")[0] for r in sorted(rejects)] == [f for _, f in cases]
