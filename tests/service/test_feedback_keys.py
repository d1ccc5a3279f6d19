"""Labels you can trust, on a real server: a feedback key of its own, a full log that refuses
(507) instead of evicting, a failed write that is refused (503), never "accepted"."""

import shutil

import httpx
import pytest

from tabml.monitoring import sources
from tabml.scoring.prediction_ids import new_ids
from testkit import GOOD_RECORD
from tests.service.server import metric_samples, start_server

API_KEY, FEEDBACK_KEY = "predict-key-0123456789", "labeller-key-0123456789"
PREDICT = {"Authorization": f"Bearer {API_KEY}"}
LABEL = {"Authorization": f"Bearer {FEEDBACK_KEY}"}
LIMIT = 6_000  # bytes of feedback log: about 50 labels


@pytest.fixture(scope="module")
def server(packaged_repo, tmp_path_factory):
    server = start_server(
        packaged_repo, tmp_path_factory.mktemp("feedback-keys"), TABML_API_KEY=API_KEY,
        TABML_FEEDBACK_KEY=FEEDBACK_KEY, TABML_FEEDBACK_MAX_BYTES=str(LIMIT),
    )  # fmt: skip
    yield server
    server.stop()


def labels(http: httpx.Client, count: int, **extra) -> tuple[list[str], httpx.Response]:
    """Predict `count` records, then label them: the ids and /feedback's answer."""
    ids = [a["prediction_id"] for a in http.post(
        "/predict", json={"records": [GOOD_RECORD] * count}, headers=PREDICT).json()]  # fmt: skip
    body = {"labels": [{"prediction_id": i, "label": "Gentoo"} for i in ids], **extra}
    return ids, http.post("/feedback", json=body, headers=LABEL)  # replaces the client's key


def test_only_the_feedback_key_may_label(server):
    body = {"labels": [{"prediction_id": new_ids(1)[0], "label": "Gentoo"}]}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/feedback", json=body).status_code == 401
        assert http.post("/feedback", json=body, headers=PREDICT).status_code == 401
        assert http.post("/predict", json={"records": [GOOD_RECORD]},
                         headers=LABEL).status_code == 401  # fmt: skip
        assert http.post("/feedback", json=body, headers=LABEL).status_code == 200


def test_a_failed_write_is_refused_and_a_full_log_refuses_never_evicts(server):
    with httpx.Client(base_url=server.url, timeout=30, headers=PREDICT) as http:
        ids, written = labels(http, 10, source="annotator-7")
        assert written.json() == {"accepted": 10, "refused": 0}
        # answered after writing: the labels are on disk now, with their source
        kept = sources.read_feedback_log(server.feedback_log).frame
        kept = kept[kept["prediction_id"].isin(ids)]
        assert set(kept["source"]) == {"http:annotator-7"} and len(kept) == 10
        # the folder becomes unwritable (a file in its place): refused, not "accepted"
        shutil.move(server.feedback_log, server.feedback_log.with_name("moved"))
        server.feedback_log.write_text("not a folder")
        _, failed = labels(http, 5)
        assert failed.status_code == 503 and failed.json()["accepted"] == 0
        server.feedback_log.unlink()
        shutil.move(server.feedback_log.with_name("moved"), server.feedback_log)
        # a flood fills the log, then is refused: the labels already there stay
        while (answer := labels(http, 20)[1]).status_code == 200:
            assert len(sources.read_feedback_log(server.feedback_log).frame) < 100
        assert answer.status_code == 507 and answer.json()["refused"] == 20
        assert "no label is deleted" in answer.json()["error"]
        full = sources.read_feedback_log(server.feedback_log).frame
        assert set(kept["prediction_id"]) <= set(full["prediction_id"])  # nothing evicted
        refused = metric_samples(http, "tabml_feedback_refused_total")
    assert refused['{reason="full"}'] == 20 and refused['{reason="write_error"}'] == 5
    assert "5 records not written" in server.output.read_text()
