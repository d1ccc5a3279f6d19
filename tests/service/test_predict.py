"""Real HTTP against the real server: good batches, every kind of bad input, warnings, health."""

import json
import math
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.model.features import model_frame


def post(client, body, **kwargs):
    return client.post("/predict", json=body, **kwargs)


def test_answers_match_scikit_learn_on_the_test_set(client, packaged_repo, test_records):
    response = post(client, {"records": test_records})
    assert response.status_code == 200, response.text
    answers = response.json()
    # the independent reference: the scikit-learn pipeline, within the parity tolerance
    pipeline = joblib.load(packaged_repo / "models/model.joblib")
    frame = model_frame(pd.DataFrame(test_records), load_profile("penguins").features)
    labels, proba = pipeline.predict(frame), pipeline.predict_proba(frame)
    assert [a["species"] for a in answers] == list(labels)
    for answer, row in zip(answers, proba, strict=True):
        assert list(answer["probabilities"]) == list(pipeline.classes_)
        assert np.allclose(list(answer["probabilities"].values()), row, atol=1e-5)
        assert math.isclose(sum(answer["probabilities"].values()), 1.0, abs_tol=1e-5)


def test_order_is_kept_and_nulls_are_accepted(client, good_record):
    gentoo, adelie = dict(good_record), dict(good_record, island="Torgersen", bill_length_mm=36.0,
                                      bill_depth_mm=19.0, flipper_length_mm=185.0,
                                      body_mass_g=3500.0, sex=None)  # fmt: skip
    answers = post(client, {"records": [gentoo, adelie, gentoo]}).json()
    assert [a["species"] for a in answers] == ["Gentoo", "Adelie", "Gentoo"]
    nulls = dict(good_record, bill_length_mm=None, sex=None)
    assert post(client, {"records": [nulls]}).status_code == 200


BAD = [
    ("text that is no number", {"bill_length_mm": "48.6 mm"}, "float_type"),
    ("boolean as number", {"body_mass_g": True}, "float_type"),
    ("unknown category", {"island": "Atlantis"}, "literal_error"),
    ("above hard range", {"body_mass_g": 9000.0}, "less_than_equal"),
    ("below hard range", {"bill_depth_mm": 1.0}, "greater_than_equal"),
    ("null not allowed", {"island": None}, "literal_error"),
    ("extra field", {"year": 2008}, "extra_forbidden"),
]


@pytest.mark.parametrize(("case", "change", "kind"), BAD, ids=[b[0] for b in BAD])
def test_bad_field_gets_400_naming_the_field(client, case, change, kind, good_record):
    response = post(client, {"records": [good_record, {**good_record, **change}]})
    assert response.status_code == 400, response.text
    errors = response.json()["detail"]
    (field,) = change
    assert [(e["loc"], e["type"]) for e in errors] == [(["records", 1, field], kind)]
    assert errors[0]["msg"]  # a human-readable message, e.g. "Input should be a valid number"


def test_a_number_written_as_text_is_converted_as_batch_scoring_does(client, good_record):
    as_text = post(client, {"records": [{**good_record, "bill_length_mm": "48.6"}]})
    as_number = post(client, {"records": [good_record]})
    assert as_text.status_code == 200, as_text.text
    assert as_text.json()[0]["probabilities"] == as_number.json()[0]["probabilities"]


def test_missing_field_is_named(client, good_record):
    record = {k: v for k, v in good_record.items() if k != "sex"}
    response = post(client, {"records": [record]})
    assert response.status_code == 400
    error = response.json()["detail"][0]
    assert (error["loc"], error["type"]) == (["records", 0, "sex"], "missing")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_rejected(client, token, good_record):
    body = json.dumps({"records": [good_record]}).replace("48.6", token)
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["records", 0, "bill_length_mm"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"records": [', 400),  # malformed JSON
        ("", 400),  # no body
        ('{"records": []}', 400),  # empty batch
        ('{"records": {}}', 400),  # not a list
        ('{"rows": []}', 400),  # wrong top-level key
        ("[1, 2]", 400),  # not an object
    ],
)
def test_malformed_bodies_get_400(client, body, status):
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["detail"], response.text


def test_too_many_records(client, packaged_repo, good_record):
    from tabml.params import load_params

    limit = load_params(packaged_repo / "params.yaml").package.max_records
    assert post(client, {"records": [good_record] * limit}).status_code == 200
    errors = post(client, {"records": [good_record] * (limit + 1)}).json()["detail"]
    assert errors[0]["loc"] == ["records"] and errors[0]["type"] == "too_long"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/vnd.bentoml+pickle", None],
)  # fmt: skip
def test_only_json_is_accepted(client, content_type, good_record):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post(
        "/predict", content=json.dumps({"records": [good_record]}), headers=headers
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_training_range_warnings_and_metric(client, good_record):
    def counter() -> float:
        text = client.get("/metrics").text
        line = [x for x in text.splitlines() if x.startswith("tabml_out_of_training_range_total")
                and 'feature="body_mass_g"' in x]  # fmt: skip
        return float(line[0].rsplit(" ", 1)[1]) if line else 0.0

    before = counter()
    heavy = dict(good_record, body_mass_g=7400.0)  # inside the hard rules, above the training max
    answers = post(client, {"records": [good_record, heavy, heavy]}).json()
    assert answers[0]["warnings"] == []
    warning = answers[1]["warnings"][0]
    assert warning["feature"] == "body_mass_g" and warning["value"] == 7400.0
    low, high = warning["training_range"]
    assert low < high
    assert high < 7400.0 and "outside the training range" in warning["message"]
    assert counter() == before + 2


def test_concurrent_requests_all_answer_correctly(client, server, test_records):
    import httpx

    # Concurrent requests share model calls (microbatch.py); answers must not depend on it.
    expected = [post(client, {"records": [r]}).json()[0] for r in test_records]

    def one(i: int) -> tuple[int, dict]:
        with httpx.Client(base_url=server, timeout=10) as own:
            return i, own.post("/predict", json={"records": [test_records[i]]}).json()[0]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, [*range(len(test_records))] * 2))
    assert len(results) == 2 * len(test_records)
    # Every answer has its own prediction id; everything else must be equal.
    assert all(_no_id(answer) == _no_id(expected[i]) for i, answer in results)
    assert len({answer["prediction_id"] for _, answer in results}) == len(results)


def _no_id(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "prediction_id"}


def test_health_endpoints(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert "bentoml_service_request_total" in client.get("/metrics").text
