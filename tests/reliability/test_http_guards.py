"""The online server against hostile or broken HTTP clients, on a real server on 127.0.0.1.

One server (started as `make serve` does, with an API key) for the module. The fast tests
reproduce each attack once, boundedly; the `slow` ones repeat the heavy ones at the probe's
size and print the figures of docs/reliability.md ("Hostile clients"):

    pytest -m slow tests/reliability/test_http_guards.py -s
"""

import gzip
import json
import os
import re
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from tabml.scoring.prediction_ids import new_ids
from tabml.serving import http_gate, http_limits
from testkit import GOOD_RECORD
from tests.service.conftest import packaged_repo  # noqa: F401 (a fixture)
from tests.service.server import listening_sockets, metric_samples, start_server, tree_rss_kib

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
RECORD = GOOD_RECORD


@pytest.fixture(scope="module")
def server(packaged_repo, tmp_path_factory):  # noqa: F811 (the imported fixture)
    # The API key also labels (/feedback needs a key of its own once any key is set).
    server = start_server(packaged_repo, tmp_path_factory.mktemp("guarded-server"),
                          TABML_API_KEY=KEY, TABML_FEEDBACK_KEY=KEY)  # fmt: skip
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=10, headers=AUTH) as http:
        yield http


def address(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def exchange(server, data: bytes, timeout: float = 20) -> tuple[bytes, bool]:
    """Send raw bytes; return what the server answered and whether it closed the socket."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        sock.sendall(data)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except TimeoutError:
        return answer, False
    except ConnectionResetError:
        pass
    return answer, True


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def predict_statuses(client) -> dict[str, float]:
    """Requests to /predict by status, as BentoML's own metrics count them."""
    counts: dict[str, float] = {}
    for labels, value in metric_samples(client, "bentoml_service_request_total").items():
        if 'endpoint="/predict"' in labels:
            code = re.search(r'http_response_code="(\d+)"', labels).group(1)
            counts[code] = counts.get(code, 0) + value
    return counts


def server_errors(client) -> float:
    """5xx answers of /predict so far (BentoML lists a 500 series at 0 from the start)."""
    return sum(n for code, n in predict_statuses(client).items() if code.startswith("5"))


def gate_answers(client) -> dict[str, float]:
    samples = metric_samples(client, "tabml_http_gate_answered_total")
    return {re.search(r'reason="(\w+)"', k).group(1): v for k, v in samples.items()}


# 1. Unmatched routes: no Prometheus series per path.


def test_unknown_paths_get_404_and_no_metric_series_of_their_own(client):
    for i in range(300):
        response = client.get(f"/x{i}")
        assert response.status_code == 404 and "no such path" in response.json()["error"]
    text = client.get("/metrics").text
    assert 'endpoint="/x' not in text
    assert gate_answers(client)["unknown_route"] >= 300


def rss_during(server, work) -> tuple[int, int]:
    """(idle, peak) RSS of the server's tree, KiB, while 4 threads run `work(0..3)`."""
    idle = peak = tree_rss_kib(server.proc.pid)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(work, start) for start in range(4)]
        while not all(f.done() for f in futures):
            peak = max(peak, tree_rss_kib(server.proc.pid))
            time.sleep(0.2)
        for future in futures:
            future.result()
    return idle, peak


def _scrape_seconds(client) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        assert client.get("/metrics").status_code == 200
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.slow
def test_twenty_thousand_distinct_paths_keep_memory_and_scrape_time_flat(server, client):
    def hammer(start: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for i in range(start, 20_000, 4):
                assert http.get(f"/x{i}").status_code == 404

    idle, peak = rss_during(server, hammer)
    scrape = _scrape_seconds(client)
    print(f"\n20,000 distinct paths: RSS {idle / 1024:.0f} MB idle, peak {peak / 1024:.0f} MB; "
          f"/metrics scrape {scrape * 1000:.1f} ms (median of 5)")  # fmt: skip
    assert scrape <= 0.1
    assert peak < 2 * idle
    assert server_errors(client) == 0


# 2. Body limit on the bytes actually read, chunked or not.


def test_a_chunked_body_over_the_limit_gets_413_and_is_not_parsed(server, client):
    before, parsed_before = gate_answers(client).get("body_too_large", 0), predict_statuses(client)
    head = request_head("/predict", {**AUTH, "Content-Type": "application/json",
                                      "Transfer-Encoding": "chunked"})  # fmt: skip
    chunk = b"x" * 65536
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head)
        try:
            for _ in range(64):  # 4 MiB, twice the 2 MB limit
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection after answering 413
        answer, closed = read_until_closed(sock)
    assert status_of(answer) == 413 and closed
    assert gate_answers(client)["body_too_large"] == before + 1
    assert predict_statuses(client) == parsed_before  # BentoML never saw the request


def _stream(server, head: bytes, piece: bytes, total: int) -> tuple[int, bytes, bool]:
    """Send `head`, then `piece` until `total` bytes or the server closes; read the answer."""
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head)
        sent = 0
        try:
            while sent < total:
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return sent, *read_until_closed(sock)


def _peak_rss_during(server, attack, count: int) -> tuple[int, int, list]:
    """(idle, peak) RSS in KiB of the server's process tree while `count` attacks run."""
    idle = tree_rss_kib(server.proc.pid)
    peak = idle
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(attack) for _ in range(count)]
        while not all(f.done() for f in futures):
            peak = max(peak, tree_rss_kib(server.proc.pid))
            time.sleep(0.05)
        return idle, peak, [f.result() for f in futures]


@pytest.mark.slow
def test_five_endless_chunked_bodies_do_not_grow_memory(server, client):
    head = request_head("/predict", {**AUTH, "Content-Type": "application/json",
                                      "Transfer-Encoding": "chunked"})  # fmt: skip
    piece = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    idle, peak, results = _peak_rss_during(
        server, lambda: _stream(server, head, piece, 100 * 2**20), 5
    )
    print(f"\n5 sockets x 100 MiB chunked body: RSS {idle / 1024:.0f} MB idle, "
          f"peak {peak / 1024:.0f} MB; each cut after "
          f"{max(sent for sent, _, _ in results) / 2**20:.1f} MiB sent")  # fmt: skip
    assert all(status_of(answer) == 413 and closed for _, answer, closed in results)
    assert peak < idle + 50 * 1024
    assert server_errors(client) == 0


def test_a_declared_length_over_the_limit_gets_413_before_the_body(server):
    head = request_head("/predict", {**AUTH, "Content-Type": "application/json",
                                      "Content-Length": str(10**9)})  # fmt: skip
    answer, closed = exchange(server, head)
    assert status_of(answer) == 413 and closed


# 3. Exactly one Content-Type, and only JSON.


@pytest.mark.parametrize(
    "types",
    [["application/json", "text/plain"], ["text/plain", "application/json"],
     ["application/json", "application/json"], ["text/plain"], []],
)  # fmt: skip
def test_anything_but_one_json_content_type_gets_415(server, types):
    body = json.dumps({"records": [RECORD]}).encode()
    lines = ["POST /predict HTTP/1.1", "Host: x", f"Authorization: Bearer {KEY}",
             *(f"Content-Type: {t}" for t in types), f"Content-Length: {len(body)}",
             "Connection: close"]  # fmt: skip
    answer, _ = exchange(server, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    assert status_of(answer) == 415 and b"x-model-version: tabml_model:" in answer


def test_one_json_content_type_with_a_charset_is_served(client):
    body = json.dumps({"records": [RECORD]})
    headers = {"Content-Type": "application/json; charset=utf-8"}
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == 200
    assert set(response.json()[0]) == {"species", "probabilities", "warnings", "prediction_id",
                                       "model_version"}  # fmt: skip


# 4. Header size and header read time (uvicorn's httptools protocol).


def test_a_header_over_the_limit_gets_431_and_the_connection_closes(server):
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(32):  # 2 MiB of one header, 32x the limit
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, closed = read_until_closed(sock)
    assert status_of(answer) == 431 and closed


def test_headers_just_under_the_limit_are_served(client):
    response = client.get(
        "/livez", headers={"X-Padding": "a" * (http_limits.MAX_HEADER_BYTES // 2)}
    )
    assert response.status_code == 200


@pytest.mark.slow
def test_incomplete_headers_and_silent_sockets_are_closed_with_408(server):
    silent = socket.create_connection(address(server), timeout=30)
    partial = socket.create_connection(address(server), timeout=30)
    start = time.monotonic()
    partial.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(read_until_closed, [silent, partial]))
    waited = time.monotonic() - start
    for sock in (silent, partial):
        sock.close()
    print(f"\nincomplete headers: both sockets answered 408 and closed after {waited:.1f} s")
    assert all(status_of(answer) == 408 and closed for answer, closed in answers)
    assert waited < http_limits.HEADER_TIMEOUT_S + 3


@pytest.mark.slow
def test_five_endless_headers_do_not_grow_memory(server):
    head, piece = b"GET /livez HTTP/1.1\r\nX-Endless: ", b"a" * 65536
    idle, peak, results = _peak_rss_during(
        server, lambda: _stream(server, head, piece, 100 * 2**20), 5
    )
    print(f"\n5 sockets x 100 MiB header: RSS {idle / 1024:.0f} MB idle, "
          f"peak {peak / 1024:.0f} MB; each cut after "
          f"{max(sent for sent, _, _ in results) / 2**20:.1f} MiB sent")  # fmt: skip
    assert all(status_of(answer) == 431 and closed for _, answer, closed in results)
    assert peak < idle + 50 * 1024


# 5. Slow, stalled and abandoned bodies.


def _slow_body(server, stall: bool) -> tuple[bytes, bool, float]:
    body = json.dumps({"records": [RECORD] * 40}).encode()
    head = request_head("/predict", {**AUTH, "Content-Type": "application/json",
                                      "Content-Length": str(len(body))})  # fmt: skip
    with socket.create_connection(address(server), timeout=30) as sock:
        start = time.monotonic()
        sock.sendall(head + body[:10])
        if not stall:  # a trickle: one byte per 0.2 s, never silent for long
            sock.settimeout(0.2)
            for byte in body[10:]:
                try:
                    sock.sendall(bytes([byte]))
                    if sock.recv(65536, socket.MSG_PEEK):
                        break  # answered
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
            sock.settimeout(30)
        answer, closed = read_until_closed(sock)
        return answer, closed, time.monotonic() - start


def test_stalled_and_trickling_bodies_get_408_and_the_connection_closes(server, client):
    with ThreadPoolExecutor(2) as pool:
        stalled, trickle = pool.map(lambda stall: _slow_body(server, stall), [True, False])
    for answer, closed, waited in (stalled, trickle):
        assert status_of(answer) == 408 and b"connection: close" in answer.lower() and closed
        assert http_gate.BODY_STALL_S - 0.5 < waited < http_gate.BODY_STALL_S + 3
    assert server_errors(client) == 0


def test_a_client_gone_mid_body_is_no_error_and_no_500(server, client):
    before = predict_statuses(client)
    head = request_head("/predict", {**AUTH, "Content-Type": "application/json",
                                      "Content-Length": "5000"})  # fmt: skip
    for _ in range(3):
        with socket.create_connection(address(server), timeout=5) as sock:
            sock.sendall(head + b'{"records": [')
            time.sleep(0.2)
    deadline = time.monotonic() + 10  # the gate counts a disconnect once it notices it
    while gate_answers(client).get("client_disconnected", 0) < 3:
        assert time.monotonic() < deadline, gate_answers(client)
        time.sleep(0.1)
    assert predict_statuses(client) == before
    assert "Traceback" not in server.output.read_text()
    assert "[ERROR]" not in server.output.read_text()


# 6. Bounded 400s; client errors logged as one WARNING line.


def test_a_thousand_invalid_records_get_a_short_400_with_the_total(
    client,
    server,
    packaged_repo,  # noqa: F811 (the imported fixture)
):
    body = json.dumps({"records": [{"island": "Nowhere"}] * 1000})
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    answer = response.json()
    # Per record: `island` is not an allowed category, and 5 fields are missing.
    assert answer["error_count"] == 6 * 1000
    params = yaml.safe_load((packaged_repo / "params.yaml").read_text())
    limit = params["package"]["max_field_errors"]
    assert len(answer["detail"]) == limit == 20
    assert [error["loc"][:2] for error in answer["detail"][:5]] == [["records", 0]] * 5
    assert len(response.content) < 10_000
    assert response.headers["x-model-version"].startswith("tabml_model:")
    deadline = time.monotonic() + 10  # until the server has logged the answer
    while "/predict [POST] -> 400" not in (log := server.output.read_text()):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.1)
    assert "Traceback" not in log
    warnings = [line for line in log.splitlines() if "/predict [POST] -> 400" in line]
    assert warnings and all("[WARNING]" in line for line in warnings)


# 7. The documentation page works offline.


def test_the_docs_page_loads_no_third_party_script(server):
    page = httpx.get(f"{server.url}/").text
    assert "swagger-ui" in page
    assert "googletagmanager" not in page.lower()
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert sources and not any(s.startswith(("http:", "https:", "//")) for s in sources)
    for source in sources:  # every script and style sheet is served by this server
        assert httpx.get(f"{server.url}/{source.removeprefix('./')}").status_code == 200


def test_the_openapi_doc_describes_the_model_and_types_the_answers(server):
    spec = httpx.get(f"{server.url}/docs.json").json()
    assert "species" in spec["info"]["description"] and "Gentoo" in spec["info"]["description"]
    assert spec["info"]["version"].startswith("tabml_model:")
    ok = spec["paths"]["/predict"]["post"]["responses"]["200"]
    item = ok["content"]["application/json"]["schema"]["items"]
    assert item["properties"]["species"]["enum"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(item["properties"]["probabilities"]["required"]) == {"Adelie", "Chinstrap", "Gentoo"}
    assert item["properties"]["warnings"]["type"] == "array"


# 8. The optional API key.


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY},
     {"Authorization": f"Basic {KEY}"}, {"Authorization": f"Bearer {KEY}x"}],
)  # fmt: skip
def test_predict_and_metrics_need_the_api_key(server, headers):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        predict = http.post("/predict", json={"records": [RECORD]}, headers=headers)
        metrics = http.get("/metrics", headers=headers)
    assert predict.status_code == metrics.status_code == 401
    assert predict.headers["www-authenticate"] == "Bearer"
    assert predict.headers["x-model-version"].startswith("tabml_model:")  # every /predict answer


def test_the_key_opens_predict_and_health_needs_no_key(server, client):
    response = client.post("/predict", json={"records": [RECORD]})
    assert response.status_code == 200
    assert response.headers["x-model-version"].startswith("tabml_model:")
    lower = client.post("/predict", json={"records": [RECORD]},
                        headers={"Authorization": f"bearer {KEY}"})  # fmt: skip
    assert lower.status_code == 200
    for path in ("/livez", "/readyz", "/healthz"):
        assert httpx.get(f"{server.url}{path}").status_code == 200


# 9. The request log keeps up with a worker at full speed on 1,000-record requests.


@pytest.mark.slow
def test_request_log_drops_nothing_at_full_speed(server, client):
    body = json.dumps({"records": [RECORD] * 1000}).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    deadline, answered = time.monotonic() + 5, []

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=10, headers=headers) as http:
            while time.monotonic() < deadline:
                assert http.post("/predict", content=body).status_code == 200
                answered.append(1)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(load) for _ in range(4)]:
            future.result()
    dropped = sum(metric_samples(client, "tabml_request_log_dropped_total").values())
    print(f"\nrequest log at full speed: {len(answered) * 1000 / 5:,.0f} records/s scored "
          f"({len(answered)} requests of 1,000 in 5 s), {dropped:.0f} dropped")  # fmt: skip
    assert dropped == 0
    assert server_errors(client) == 0


# 10. WebSocket handshakes: refused before routing and metrics, with or without the key.


def websocket_handshake(server, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    answer, _ = exchange(server, ("\r\n".join(lines) + "\r\n\r\n").encode(), timeout=10)
    return answer


def test_websocket_handshakes_get_404_and_no_metric_series(server, client):
    before = gate_answers(client).get("websocket", 0)
    for i in range(200):
        answer = websocket_handshake(server, f"/ws-{i}", AUTH if i % 2 else {})
        assert status_of(answer) == 404 and b"no WebSocket" in answer
    text = client.get("/metrics").text
    assert "/ws-" not in text
    assert gate_answers(client)["websocket"] - before == 200
    assert server_errors(client) == 0


@pytest.mark.slow
def test_22000_websocket_handshakes_keep_memory_and_scrape_time_flat(server, client):
    def hammer(start: int) -> None:
        for i in range(start, 22_000, 4):
            headers = AUTH if i % 2 else {}
            assert status_of(websocket_handshake(server, f"/ws-{i}", headers)) == 404

    idle, peak = rss_during(server, hammer)
    scrape, size = _scrape_seconds(client), len(client.get("/metrics").content)
    print(f"\n22,000 WebSocket handshakes: RSS {idle / 1024:.0f} MB idle, peak "
          f"{peak / 1024:.0f} MB; /metrics {size / 1024:.0f} kB, "
          f"scrape {scrape * 1000:.1f} ms")  # fmt: skip
    assert scrape <= 0.1 and size < 100_000
    assert peak < idle + 50 * 1024
    assert server_errors(client) == 0


# 11. Encoded bodies are refused, not decoded or misread.


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_an_encoded_body_gets_415(client, encoding):
    body = json.dumps({"records": [RECORD]}).encode()
    content = gzip.compress(body) if encoding == "gzip" else body  # br: plain JSON, mislabelled
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    response = client.post("/predict", content=content, headers=headers)
    assert response.status_code == 415 and "Content-Encoding" in response.json()["error"]


# 12. A flood of values inside the body cap costs no more than the largest valid request.


def _median_seconds(client, path: str, body: bytes, status: int, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        times.append(time.perf_counter() - start)
        assert response.status_code == status, response.text[:300]
    return times


@pytest.mark.parametrize("path", ["/predict", "/feedback"])
def test_a_flood_of_empty_items_costs_no_more_than_the_largest_valid_request(client, path):
    key, count = ("records", 1000) if path == "/predict" else ("labels", 10_000)
    flood = b'{"%s":[' % key.encode() + b",".join([b"{}"] * 600_000) + b"]}"  # 1.8 MB
    if path == "/predict":
        largest = {"records": [RECORD] * count}
    else:
        largest = {"labels": [{"prediction_id": i, "label": "Adelie"} for i in new_ids(count)]}
    largest = json.dumps(largest).encode()
    flood_s, valid_s = [], []
    for _ in range(5):  # interleaved: the machine's load weighs on both alike
        flood_s += _median_seconds(client, path, flood, 400, 1)
        valid_s += _median_seconds(client, path, largest, 200, 1)
    ratio = statistics.median(flood_s) / statistics.median(valid_s)
    print(f"\n{path}: 600,000 empty items {statistics.median(flood_s) * 1000:.1f} ms, the largest "
          f"valid request {statistics.median(valid_s) * 1000:.1f} ms: {ratio:.2f}x")  # fmt: skip
    assert ratio <= 3
    answer = client.post(path, content=flood, headers={"Content-Type": "application/json"})
    assert answer.json()["detail"][0]["loc"] == [key]


# 13. Client-error log lines are bounded under a flood, and the rest counted.


def test_a_flood_of_bad_requests_writes_a_bounded_number_of_log_lines(server, client):
    def lines() -> int:
        return sum("-> 400" in line for line in server.output.read_text().splitlines())

    before, unlogged = lines(), metric_samples(client, "tabml_client_errors_unlogged_total")
    start = time.monotonic()
    for _ in range(200):
        bad = client.post("/predict", json={"records": [{**RECORD, "island": "Atlantis"}]})
        assert bad.status_code == 400
    windows = (time.monotonic() - start) // 10 + 2  # windows of 10 s the flood touched

    def left_out() -> float:
        now = metric_samples(client, "tabml_client_errors_unlogged_total")
        return sum(now.values()) - sum(unlogged.values())

    deadline = time.monotonic() + 10
    while lines() - before + left_out() < 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker's log reaches the file
    written = lines() - before
    assert written <= 20 * windows and written + left_out() == 200


# 14. No control channel but the HTTP port: the process manager's endpoints are private.


def test_the_server_tree_listens_on_its_port_and_private_unix_sockets_only(server):
    from circus.client import CircusClient

    sockets = listening_sockets(server.proc.pid)
    assert [s for s in sockets if s[0] != "unix"] == [("tcp", f"127.0.0.1:{address(server)[1]}")]
    unix = [Path(path) for kind, path in sockets if kind == "unix"]
    assert sorted(p.name for p in unix) == ["control.sock", "events.sock"]
    for folder in {p.parent for p in unix}:  # only this user may enter it
        assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()
    # This same user may still ask the arbiter: what it returns names a file, not the key.
    control = CircusClient(endpoint=f"ipc://{unix[0].parent / 'control.sock'}", timeout=10)
    try:
        listing = control.call({"command": "list", "properties": {}})
        options = control.call({"command": "options", "properties": {"name": "service"}})
    finally:
        control.stop()
    assert "service" in listing["watchers"]
    env = options["options"]["env"]
    assert "TABML_API_KEY" not in env and "TABML_FEEDBACK_KEY" not in env
    assert KEY not in json.dumps(options)
    for name in ("TABML_API_KEY_FILE", "TABML_FEEDBACK_KEY_FILE"):
        key_file = Path(env[name])
        assert key_file.parent == unix[0].parent and key_file.stat().st_mode & 0o777 == 0o600
