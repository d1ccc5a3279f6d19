"""Explanations over real HTTP: asked for, they add up to the answer; not asked, nothing changes."""

import pytest

from tabml.scoring.explain import Explainer
from tabml.scoring.model import load_packaged


def test_explain_true_adds_three_contributions_that_add_up(client, test_records):
    response = client.post("/predict", json={"records": test_records, "explain": True})
    assert response.status_code == 200, response.text
    for answer in response.json():
        e = answer["explanation"]
        assert e["class"] == answer["species"]
        assert len(e["contributions"]) == 3
        assert {c["feature"] for c in e["contributions"]} <= set(test_records[0])
        total = e["base_value"] + sum(c["contribution"] for c in e["contributions"])
        total += e["other_features"]
        assert total == pytest.approx(answer["probabilities"][answer["species"]], abs=1e-6)


def test_explanations_are_the_packaged_models(client, packaged_repo, good_record):
    model = load_packaged(
        packaged_repo / "models/model.onnx", packaged_repo / "models/tabml_service.bento"
    )
    expected = Explainer(model).explain(model.inputs([good_record]), top=6)
    (answer,) = client.post("/predict", json={"records": [good_record], "explain": 6}).json()
    got, want = answer["explanation"], expected[0]
    assert [c["feature"] for c in got["contributions"]] == [
        c["feature"] for c in want["contributions"]
    ]
    assert [c["contribution"] for c in got["contributions"]] == pytest.approx(
        [c["contribution"] for c in want["contributions"]], abs=1e-7
    )
    assert (got["class"], got["base_value"]) == (want["class"], pytest.approx(want["base_value"]))
    assert answer["explanation"]["contributions"][0]["feature"] == "flipper_length_mm"


def test_without_explain_the_answer_is_unchanged(client, good_record):
    plain = client.post("/predict", json={"records": [good_record]}).json()
    off = client.post("/predict", json={"records": [good_record], "explain": False}).json()
    # Every answer has its own prediction id; everything else must be equal.
    assert [{**a, "prediction_id": None} for a in plain] == [
        {**a, "prediction_id": None} for a in off
    ]
    assert set(plain[0]) == {"species", "probabilities", "warnings", "prediction_id",
                             "model_version"}  # fmt: skip


@pytest.mark.parametrize("bad", [0, 7, "yes", None, 2.5])
def test_a_bad_explain_value_gets_400(client, good_record, bad):
    response = client.post("/predict", json={"records": [good_record], "explain": bad})
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["loc"][0] == "explain"
