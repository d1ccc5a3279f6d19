"""The HTTP gate's checks in process, on ASGI messages (the real server: tests/reliability).

Scope types other than http, encoded bodies, bodies with more JSON values than a request at
the limits, and the budget of client-error log lines.
"""

import asyncio
import json
import logging
import random

import pytest

from tabml.serving.body_values import ValueLimit, commas_outside_strings, over_limit
from tabml.serving.client_errors import UVICORN_LOGGER, ClientErrorsAsWarnings, LineBudget
from tabml.serving.http_gate import RequestGate


class App:
    """An ASGI app that records what reaches it and answers 200."""

    def __init__(self) -> None:
        self.scopes: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


def gate(app: App, reasons: list[str]) -> RequestGate:
    return RequestGate(
        app, known_paths=["/predict"], api_paths=["/predict"], max_body_bytes=1 << 22,
        max_values={"/predict": ValueLimit(10, "records", "at most 2 records of 4 fields each")},
        on_reject=reasons.append,
    )  # fmt: skip


def call(guard: RequestGate, scope: dict, body: bytes = b"") -> list[dict]:
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent


def http(path: str = "/predict", **headers: str) -> dict:
    pairs = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "path": path, "method": "POST", "headers": pairs}


JSON = {"content_type": "application/json"}


@pytest.mark.parametrize("extensions", [{"websocket.http.response": {}}, {}])
def test_websocket_handshakes_never_reach_the_app(extensions):
    app, reasons = App(), []
    scope = {"type": "websocket", "path": "/anything-a-client-chose", "headers": [],
             "extensions": extensions}  # fmt: skip
    sent = call(gate(app, reasons), scope)
    assert app.scopes == [] and reasons == ["websocket"]
    if extensions:  # a plain HTTP 404, as for an unknown path
        assert sent[0]["type"] == "websocket.http.response.start" and sent[0]["status"] == 404
        assert "no WebSocket" in json.loads(sent[1]["body"])["error"]
    else:  # uvicorn answers 403
        assert sent == [{"type": "websocket.close", "code": 1008}]


def test_lifespan_reaches_the_app_and_unknown_scopes_do_not():
    app, reasons = App(), []
    call(gate(app, reasons), {"type": "lifespan"})
    call(gate(app, reasons), {"type": "http2-push", "path": "/predict"})
    assert [s["type"] for s in app.scopes] == ["lifespan"] and reasons == ["unsupported_scope"]


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "identity, gzip"])
def test_an_encoded_body_is_refused_with_415(encoding):
    app, reasons = App(), []
    sent = call(gate(app, reasons), http(**JSON, content_encoding=encoding), b'{"records": []}')
    assert sent[0]["status"] == 415 and reasons == ["encoded_body"] and app.scopes == []


def test_identity_encoding_is_no_encoding():
    app, reasons = App(), []
    sent = call(gate(app, reasons), http(**JSON, content_encoding="identity"), b"{}")
    assert sent[0]["status"] == 200 and reasons == []


def test_a_body_with_more_values_than_the_limits_gets_a_field_error():
    app, reasons = App(), []
    flood = b'{"records": [' + b",".join([b"{}"] * 12) + b"]}"  # 11 commas > 10
    sent = call(gate(app, reasons), http(**JSON), flood)
    answer = json.loads(sent[1]["body"])
    assert sent[0]["status"] == 400 and reasons == ["too_many_values"] and app.scopes == []
    assert answer["detail"] == [
        {"loc": ["records"], "type": "too_long", "msg": "at most 2 records of 4 fields each"}
    ]
    # Commas inside strings are not values: such a body reaches the app.
    text = json.dumps({"records": [{"note": "a,b,c,d,e,f,g,h,i,j,k,l"}]}).encode()
    assert call(gate(app, reasons), http(**JSON), text)[0]["status"] == 200


def _values_after_the_first(value) -> int:
    """Commas a compact JSON text of `value` has outside its strings (hand count)."""
    if isinstance(value, dict):
        return max(len(value) - 1, 0) + sum(_values_after_the_first(v) for v in value.values())
    if isinstance(value, list):
        return max(len(value) - 1, 0) + sum(_values_after_the_first(v) for v in value)
    return 0


def test_commas_outside_strings_match_a_count_over_the_parsed_json():
    rng = random.Random(0)
    alphabet = ['"', "\\", ",", "a", "{", "]", " ", "\n", "é"]

    def value(depth: int):
        kind = rng.random()
        if depth > 3 or kind < 0.3:
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
        if kind < 0.4:
            return rng.random()
        if kind < 0.7:
            return [value(depth + 1) for _ in range(rng.randrange(5))]
        return {str(value(4)): value(depth + 1) for _ in range(rng.randrange(5))}

    for _ in range(300):
        document = value(0)
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        assert commas_outside_strings(text) == _values_after_the_first(document), text
    assert not over_limit(b'["a,b,c,d"]', 2) and over_limit(b"[1,2,3,4]", 2)


def test_client_error_lines_stay_within_their_budget_and_say_how_many_were_left_out():
    now, counted = [0.0], []
    budget = LineBudget(lines=3, window_s=10, on_unlogged=counted.append, clock=lambda: now[0])
    errors = ClientErrorsAsWarnings(budget)

    def warning() -> logging.LogRecord:
        return logging.LogRecord(UVICORN_LOGGER, logging.WARNING, "", 0, "Invalid HTTP request",
                                 None, None)  # fmt: skip

    kept = [r for r in (warning() for _ in range(10)) if errors.filter(r)]
    assert len(kept) == 3 and sum(counted) == 7
    now[0] = 10.0  # the next window: its first line tells what the last one left out
    record = warning()
    assert errors.filter(record)
    assert record.getMessage() == "Invalid HTTP request (7 more client errors not logged)"
    info = logging.LogRecord(UVICORN_LOGGER, logging.INFO, "", 0, "Started", None, None)
    assert all(errors.filter(info) for _ in range(10))  # only warnings count
