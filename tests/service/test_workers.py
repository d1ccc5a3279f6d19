"""`TABML_WORKERS=2`: two BentoML worker processes behind one port, metrics summed over both.

BentoML lost custom metrics with several workers before 1.4.39; this checks, on a real server,
that every request is counted once on /metrics whichever worker answered it.
"""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.service.server import metric_samples, server_env, start_server

REQUESTS = 200


def total(samples: dict[str, float], *labels: str) -> float:
    """The sum of the samples whose labels include all of `labels`."""
    return sum(value for names, value in samples.items() if all(x in names for x in labels))


@pytest.fixture(scope="module")
def two_workers(packaged_repo, tmp_path_factory):
    server = start_server(packaged_repo, tmp_path_factory.mktemp("workers"), TABML_WORKERS="2")
    yield server
    server.stop()


def test_two_workers_answer_and_metrics_count_every_request(two_workers, good_record):
    heavy = dict(good_record, body_mass_g=7400.0)  # above the training max: one warning each
    body = json.dumps({"records": [heavy]})
    # A new connection per request: the workers race to accept each one, so both answer.
    headers = {"Content-Type": "application/json", "Connection": "close"}
    with httpx.Client(base_url=two_workers.url, timeout=10) as client:
        requests, warnings = "bentoml_service_request_total", "tabml_out_of_training_range_total"
        before = {name: metric_samples(client, name) for name in (requests, warnings)}

        def predict(_: int) -> int:
            return client.post("/predict", content=body, headers=headers).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(predict, range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        time.sleep(2.5)  # the request log flushes every second
        after = {name: metric_samples(client, name) for name in (requests, warnings)}
    # Both worker processes answered: each writes request log files named by its pid.
    writers = {path.name.split("-")[1] for path in two_workers.request_log.glob("*.jsonl")}
    assert len(writers) == 2, writers
    logged = sum(len(p.read_text().splitlines()) for p in two_workers.request_log.glob("*.jsonl"))
    assert logged == REQUESTS
    # ... and /metrics counts every request once, whichever worker it went to.
    served = ('endpoint="/predict"', 'http_response_code="200"')
    assert total(after[requests], *served) - total(before[requests], *served) == REQUESTS
    heavy_mass = 'feature="body_mass_g"'
    assert total(after[warnings], heavy_mass) - total(before[warnings], heavy_mass) == REQUESTS


def test_unusable_worker_count_is_one_line(packaged_repo):
    env = server_env(TABML_WORKERS="two", PYTHONPATH=str(packaged_repo / "src"))
    cmd = [sys.executable, "-m", "tabml.cli", "serve", "--archive"]
    cmd += [str(packaged_repo / "models/tabml_service.bento"), "--port", "1"]
    result = subprocess.run(cmd, cwd=packaged_repo, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: TABML_WORKERS='two': expected a whole number >= 1 or cpu_count"
    ]
