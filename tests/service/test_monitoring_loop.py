"""The production loop for real: predictions over HTTP, their labels on /feedback, `monitor`.

A shifted population (test penguins with bills 12 mm longer than any the model was trained
on, inside the schema's limits) must raise an alert for the served model version; the same
flow with the unshifted test rows must not.
"""

import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.monitoring import sources
from tests.service.server import server_env, start_server

COPIES = 3  # 3 x 104 test rows: about 300 labelled predictions in one window


@pytest.fixture(scope="module")
def loop_server(packaged_repo, tmp_path_factory):
    """A server of its own, with its own request and feedback logs."""
    server = start_server(packaged_repo, tmp_path_factory.mktemp("loop-server"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def labelled_records(packaged_repo) -> list[dict]:
    """The held-out test split: features (missing values as None) and the true species."""
    profile = load_profile("penguins", packaged_repo / "configs")
    frame = pd.read_parquet(packaged_repo / "data/processed/test.parquet")
    frame = frame[[*profile.features.all, profile.target]].astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _predict(http: httpx.Client, records: list[dict]) -> list[dict]:
    answers = []
    for start in range(0, len(records), 26):
        response = http.post("/predict", json={"records": records[start : start + 26]})
        assert response.status_code == 200, response.text
        answers += response.json()
    return answers


def _wait_for(read, count: int, timeout: float = 20.0) -> None:
    """Until the log holds `count` lines (the writer thread flushes about once a second)."""
    deadline = time.monotonic() + timeout
    while (found := read().lines) < count:
        assert time.monotonic() < deadline, f"only {found} of {count} lines logged"
        time.sleep(0.2)


def _loop(server, packaged_repo, labelled_records, tmp_path, shift: float):
    since = datetime.now(UTC).isoformat()
    records = [
        {**r, "bill_length_mm": None if bill is None else bill + shift}
        for r in labelled_records * COPIES
        for bill in [r["bill_length_mm"]]
    ]
    truth = [r["species"] for r in records]
    features = [{k: v for k, v in r.items() if k != "species"} for r in records]
    request_lines = sources.read_request_log(server.request_log).lines
    feedback_lines = sources.read_feedback_log(server.feedback_log).lines
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answers = _predict(http, features)
        versions = {a["model_version"] for a in answers}
        ids = [a["prediction_id"] for a in answers]
        # A wrong label for every prediction first, then the true one: the last label wins.
        wrong = ["Gentoo" if a["species"] == "Adelie" else "Adelie" for a in answers]
        for labels in (wrong, truth):
            body = {"labels": [{"prediction_id": i, "label": y} for i, y in zip(ids, labels)]}
            response = http.post("/feedback", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == {"accepted": len(ids), "refused": 0}
    _wait_for(lambda: sources.read_request_log(server.request_log), request_lines + len(ids))
    _wait_for(lambda: sources.read_feedback_log(server.feedback_log), feedback_lines + 2 * len(ids))
    out = tmp_path / "monitor"
    result = subprocess.run(
        [sys.executable, "-m", "tabml.cli", "monitor", "--since", since, "--window", "30d",
         "--out", str(out)],
        cwd=packaged_repo, capture_output=True, text=True,
        env=server_env(TABML_REQUEST_LOG_DIR=str(server.request_log),
                       TABML_FEEDBACK_LOG_DIR=str(server.feedback_log)),
    )  # fmt: skip
    (version,) = versions
    return result, version, out


def test_a_shifted_population_raises_an_accuracy_alert(
    loop_server, packaged_repo, labelled_records, tmp_path
):
    result, version, out = _loop(loop_server, packaged_repo, labelled_records, tmp_path, shift=12.0)
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith(version)]
    assert "ALERT" in line and "accuracy" in line
    assert f"{len(labelled_records) * COPIES:,} labelled" in result.stdout
    assert (out / "metrics.json").exists() and (out / "report.md").exists()


def test_the_unshifted_population_raises_no_alert(
    loop_server, packaged_repo, labelled_records, tmp_path
):
    result, version, _ = _loop(loop_server, packaged_repo, labelled_records, tmp_path, shift=0.0)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith(version)]
    assert line.split()[1] == "OK"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": [{"prediction_id": "123", "label": "Adelie"}]}, "prediction_id"),
        ({"labels": [{"prediction_id": "01890a5d-ac96-774b-bcce-b302099a8057", "label": "Emu"}]},
         "label"),
        ({"labels": []}, "labels"),
        ({"labels": [{"prediction_id": "01890a5d-ac96-774b-bcce-b302099a8057"}]}, "label"),
    ],
)  # fmt: skip
def test_bad_feedback_gets_a_400_naming_the_field(loop_server, body, field):
    response = httpx.post(f"{loop_server.url}/feedback", json=body, timeout=10)
    assert response.status_code == 400
    assert field in [str(part) for e in response.json()["detail"] for part in e["loc"]]


def test_feedback_is_guarded_like_predict(loop_server):
    form = {"content-type": "application/x-www-form-urlencoded"}
    response = httpx.post(f"{loop_server.url}/feedback", content=b"x=1", headers=form, timeout=10)
    assert response.status_code == 415
