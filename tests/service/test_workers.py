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
FLUSH_WAIT_S = 2.5  # the request log flushes every second


def total(samples: dict[str, float], *labels: str) -> float:
    """The sum of the samples whose labels include all of `labels`."""
    return sum(value for names, value in samples.items() if all(x in names for x in labels))


@pytest.fixture(scope="module")
def two_workers(packaged_repo, tmp_path_factory):
    server = start_server(packaged_repo, tmp_path_factory.mktemp("workers"), TABML_WORKERS="2")
    yield server
    server.stop()


def writers(request_log) -> set[str]:
    """The pids of the worker processes that have written request log files."""
    return {path.name.split("-")[1] for path in request_log.glob("*.jsonl")}


def logged(request_log) -> int:
    return sum(len(p.read_text().splitlines()) for p in request_log.glob("*.jsonl"))


def test_two_workers_answer_and_metrics_count_every_request(two_workers, good_record):
    heavy = dict(good_record, body_mass_g=7400.0)  # above the training max: one warning each
    body = json.dumps({"records": [heavy]})
    # A new connection per request: the workers race to accept each one, so both answer
    # once both are up (readiness means one worker answers; the other may still be loading).
    headers = {"Content-Type": "application/json", "Connection": "close"}
    with httpx.Client(base_url=two_workers.url, timeout=10) as client:

        def predict(_: int) -> int:
            return client.post("/predict", content=body, headers=headers).status_code

        def burst(n: int) -> list[int]:
            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(predict, range(n)))
            time.sleep(FLUSH_WAIT_S)
            return statuses

        deadline = time.monotonic() + 60
        while len(writers(two_workers.request_log)) < 2 and time.monotonic() < deadline:
            assert set(burst(50)) == {200}
        # Both worker processes answered: each writes request log files named by its pid.
        assert len(writers(two_workers.request_log)) == 2, writers(two_workers.request_log)

        requests, warnings = "bentoml_service_request_total", "tabml_out_of_training_range_total"
        before = {name: metric_samples(client, name) for name in (requests, warnings)}
        logged_before = logged(two_workers.request_log)
        assert burst(REQUESTS) == [200] * REQUESTS
        after = {name: metric_samples(client, name) for name in (requests, warnings)}
    assert logged(two_workers.request_log) - logged_before == REQUESTS
    # /metrics counts every request once, whichever worker it went to.
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
