"""The server under sustained load (zero errors, stable memory) and after a SIGKILL."""

import json
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tabml.monitoring.sources import read_request_log
from testkit.loadgen import python_load, wrk_load
from tests.service.server import metric_samples, start_server, tree_rss_kib

pytestmark = pytest.mark.slow

CONNECTIONS = 64
MIN_REQUESTS = 20_000
CHUNK_S = 10  # back-to-back load runs; memory is sampled between them
MAX_CHUNKS = 60  # gives up (fails) below ~35 req/s rather than running for ever
MAX_GROWTH = 0.10  # "stable": RSS grows < 10% over the second half of the load


def load(url: str, body: str, connections: int, seconds: float) -> dict:
    """wrk when installed (as `make bench-serve`), else the Python load generator."""
    run = wrk_load if shutil.which("wrk") else python_load
    return run(f"{url}/predict", body, connections=connections, seconds=seconds)


def records(repo: Path) -> list[dict]:
    features = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    features += ["body_mass_g", "sex"]
    frame = pd.read_parquet(repo / "data/processed/test.parquet")[features]
    return json.loads(frame.to_json(orient="records"))


def answers(url: str, batch: list[dict]) -> list[dict]:
    response = httpx.post(f"{url}/predict", json={"records": batch}, timeout=30)
    assert response.status_code == 200, response.text
    # Every answer has its own prediction id: compare the rest.
    return [{k: v for k, v in a.items() if k != "prediction_id"} for a in response.json()]


def _wait_for_served(url: str, count: int, timeout: float = 60) -> None:
    """Until the server's own counter says it answered `count` /predict requests."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=5) as client:
        while True:
            served = metric_samples(client, "bentoml_service_request_total")
            if sum(v for k, v in served.items() if 'endpoint="/predict"' in k) >= count:
                return
            assert time.monotonic() < deadline, f"fewer than {count} requests served"
            time.sleep(0.1)


def test_sustained_load_has_no_errors_and_stable_memory(reproduced, tmp_path):
    server = start_server(reproduced, tmp_path / "server")
    try:
        body = json.dumps({"records": records(reproduced)[:1]})
        load(server.url, body, CONNECTIONS, 3)  # warm-up: imports, caches, connections
        samples = [(0, tree_rss_kib(server.proc.pid))]
        total, errors = 0, 0
        for _ in range(MAX_CHUNKS):
            result = load(server.url, body, CONNECTIONS, CHUNK_S)
            total, errors = total + result["requests"], errors + result["errors"]
            samples.append((total, tree_rss_kib(server.proc.pid)))
            if total >= MIN_REQUESTS:
                break
    finally:
        server.stop()
    print(f"{total} requests, {errors} errors; RSS KiB by requests served: {samples}")
    assert total >= MIN_REQUESTS
    assert errors == 0
    middle = next(rss for served, rss in samples if served >= total / 2)
    end = samples[-1][1]
    assert end <= middle * (1 + MAX_GROWTH), f"RSS grew {end / middle - 1:.1%}: {samples}"


def test_server_killed_under_load_restarts_and_serves_correctly(reproduced, tmp_path):
    workdir, batch = tmp_path / "server", records(reproduced)
    server = start_server(reproduced, workdir)
    port = int(server.url.rsplit(":", 1)[1])
    before = answers(server.url, batch)
    body = json.dumps({"records": batch[:1]})
    loader = threading.Thread(target=load, args=(server.url, body, CONNECTIONS, 6))
    loader.start()
    _wait_for_served(server.url, 200)  # the load is under way
    server.stop(signal.SIGKILL)  # the server and its worker, as an OOM kill or a crash
    loader.join()
    assert server.proc.returncode == -signal.SIGKILL

    # Same port, same store, same request log directory: what a supervisor's restart does.
    restarted = start_server(reproduced, workdir, port=port)
    try:
        assert restarted.url == server.url
        assert answers(restarted.url, batch) == before
        after = load(restarted.url, body, CONNECTIONS, 5)
    finally:
        restarted.stop()
    assert after["requests"] > 0 and after["errors"] == 0
    # The kill lost at most the unflushed second of the request log, and left no torn file:
    # every file parses, and the restarted server's inputs are all there.
    logged = read_request_log(restarted.request_log)
    assert logged.skipped == 0 and len(logged.frame) >= len(batch) + after["requests"]
    assert not list(restarted.request_log.glob(".*.tmp"))
