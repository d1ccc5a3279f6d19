"""The ASGI gate in front of the whole BentoML app: routes, API key, request bodies, answers.

It wraps BentoML's app from outside (`GuardedService.to_asgi`, service.py), so it runs before
BentoML's metrics, tracing, access log and timeout middleware, and answers these itself:

- a path the app does not serve: 404, never seen by BentoML's metrics (each distinct path
  would otherwise become a new Prometheus series);
- a WebSocket handshake (uvicorn turns `Upgrade: websocket` into a `websocket` scope, which
  BentoML's metrics would count per path): 404 as a plain HTTP answer, on any path and with
  or without the key, since the app serves no WebSocket; any other scope but `lifespan` (the
  app's start and stop) is refused as well, so no client-chosen string reaches the app
  outside the `http` checks below;
- without the API key (when one is set): 401, except on the open paths (health, docs);
- on an API path: not exactly one `Content-Type: application/json` header, or a
  `Content-Encoding` other than `identity` (bodies are not decoded): 415; a body whose
  declared or actually read bytes (chunked or not) exceed the limit: 413; a body holding more
  JSON values than a request at the limits can (`body_values.py`): 400; a body that stalls
  for `BODY_STALL_S` or arrives slower than `BODY_MIN_RATE` bytes/s after that: 408; a client
  gone mid-body: nothing (no answer, no error). The app gets the body only once it is whole.
- every answer on an API path gets `answer_headers` (the model version), and a 400 lists at
  most `max_field_errors` field errors (client_errors.py).

Per request this is a set lookup, one pass over the headers, one timer for the body, one
`bytes.count` of its commas and a wrapped `send`.
"""

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from tabml.serving.body_values import ValueLimit, over_limit
from tabml.serving.client_errors import shorten_field_errors

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

# A path's key that no request can match: the path is refused (403).
CLOSED = b""
BODY_STALL_S = 5.0
BODY_MIN_RATE = 16 * 1024


class RequestGate:
    """Answer unknown paths, missing keys and bad bodies before the app sees the request.

    Args:
        app: BentoML's ASGI app.
        known_paths, known_prefixes: the paths the app serves (exactly, or under a prefix).
        api_paths: the POST endpoints whose JSON bodies are checked and read here.
        max_body_bytes: largest body accepted on an API path.
        api_key: when set, every path but `open_paths` needs `Authorization: Bearer <key>`.
        path_keys: paths with a key of their own instead (`/feedback`: the feedback key);
            `CLOSED` refuses the path with a 403.
        open_paths: paths served without the key (health checks, documentation).
        pages: fixed answers served here: path -> (content type, body).
        answer_headers: headers added to every answer of an API path.
        max_field_errors: field errors listed in a 400 answer of an API path.
        max_values: per API path, the JSON values its body may hold (`ValueLimit`).
        on_reject: called with a short reason for every request the gate answers itself.
    """

    def __init__(
        self,
        app: Any,
        *,
        known_paths: Iterable[str],
        known_prefixes: Iterable[str] = (),
        api_paths: Iterable[str],
        max_body_bytes: int,
        api_key: bytes | None = None,
        path_keys: dict[str, bytes] | None = None,
        open_paths: Iterable[str] = (),
        pages: dict[str, tuple[bytes, bytes]] | None = None,
        answer_headers: Iterable[tuple[bytes, bytes]] = (),
        max_field_errors: int = 20,
        max_values: dict[str, ValueLimit] | None = None,
        on_reject: Callable[[str], None] = lambda reason: None,
    ):
        self.app = app
        self.pages = dict(pages or {})
        self.known_paths = frozenset(known_paths) | self.pages.keys()
        self.known_prefixes = tuple(known_prefixes)
        self.api_paths = frozenset(api_paths)
        self.max_body_bytes = max_body_bytes
        self.api_key = api_key
        self.path_keys = dict(path_keys or {})
        self.open_paths = frozenset(open_paths) | self.pages.keys()
        self.answer_headers = list(answer_headers)
        self.max_field_errors = max_field_errors
        self.max_values = dict(max_values or {})
        self.on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                return await self.app(scope, receive, send)
            return await self.refuse_scope(scope, send)
        path = scope["path"]
        if path not in self.known_paths and not path.startswith(self.known_prefixes):
            return await self.reject(
                send,
                "unknown_route",
                404,
                "no such path: the API is POST /predict, its documentation is at /",
            )
        if path in self.api_paths:  # every answer of the API, the gate's own ones too
            send = self.answer_sender(send)
        key = None if path in self.open_paths else self.path_keys.get(path, self.api_key)
        if key == CLOSED:
            return await self.reject(
                send, "forbidden", 403, f"{path} is closed: the server has no key for it"
            )
        if key is not None and not self.authorized(scope, key):
            which = f"{path}'s own key" if path in self.path_keys else "the API key"
            return await self.reject(
                send, "unauthorized", 401, f"send {which} as `Authorization: Bearer <key>`"
            )
        page = self.pages.get(path)
        if page is not None and scope["method"] == "GET":
            return await _respond(send, 200, page[1], page[0])
        if path in self.api_paths and scope["method"] == "POST":
            return await self.serve_api(scope, receive, send)
        return await self.app(scope, receive, send)

    @staticmethod
    def authorized(scope: Scope, expected: bytes) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, key = value.partition(b" ")
                # Constant time: how much of a guessed key matched must not show in the timing.
                return scheme.lower() == b"bearer" and hmac.compare_digest(key.strip(), expected)
        return False

    async def refuse_scope(self, scope: Scope, send: Send) -> None:
        """A WebSocket handshake (or any scope but http and lifespan): no app serves it."""
        if scope["type"] != "websocket":
            self.on_reject("unsupported_scope")
            return  # nothing to answer on: the server closes what it opened
        self.on_reject("websocket")
        body = json.dumps({"error": "no WebSocket here: the API is POST /predict"}).encode()
        if "websocket.http.response" in scope.get("extensions", {}):
            headers = [(b"content-type", b"application/json"),
                       (b"content-length", b"%d" % len(body))]  # fmt: skip
            await send({"type": "websocket.http.response.start", "status": 404,
                        "headers": headers})  # fmt: skip
            await send({"type": "websocket.http.response.body", "body": body})
        else:  # the server answers 403
            await send({"type": "websocket.close", "code": 1008})

    async def serve_api(self, scope: Scope, receive: Receive, send: Send) -> None:
        media_types, length, encoded = [], None, False
        for name, value in scope["headers"]:
            if name == b"content-type":
                media_types.append(value)
            elif name == b"content-length":
                length = value
            elif name == b"content-encoding":
                encoded = encoded or value.strip().lower() != b"identity"
        # BentoML parses the first Content-Type header: allow exactly one, and only JSON.
        if (
            len(media_types) != 1
            or media_types[0].split(b";")[0].strip().lower() != b"application/json"
        ):
            return await self.reject(
                send,
                "not_json",
                415,
                "send the body as JSON with one header `Content-Type: application/json`",
            )
        if encoded:
            return await self.reject(
                send,
                "encoded_body",
                415,
                "send the JSON body as it is, without Content-Encoding (bodies are not decoded)",
            )
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return await self.reject(
                send,
                "body_too_large",
                413,
                f"request body larger than {self.max_body_bytes} bytes",
                close=True,
            )
        body = await self.read_body(receive, send)
        if body is None:
            return
        limit = self.max_values.get(scope["path"])
        if limit is not None and over_limit(body, limit.commas):
            detail = [{"loc": [limit.field], "type": "too_long", "msg": limit.message}]
            return await self.reject(send, "too_many_values", 400, limit.message, detail=detail)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:  # after the body: wait for the client's disconnect, as uvicorn does
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once the gate has answered (too large, too slow, gone)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        chunks, size = [], 0
        try:
            async with asyncio.timeout(start + BODY_STALL_S) as deadline:
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client disconnected
                        self.on_reject("client_disconnected")
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        await self.reject(
                            send,
                            "body_too_large",
                            413,
                            f"request body larger than {self.max_body_bytes} bytes",
                            close=True,
                        )
                        return None
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                    # Stalled for BODY_STALL_S, or behind BODY_MIN_RATE since the start.
                    now = loop.time()
                    deadline.reschedule(min(now, start + size / BODY_MIN_RATE) + BODY_STALL_S)
        except TimeoutError:
            await self.reject(
                send,
                "body_too_slow",
                408,
                f"request body not received in time (stalled for {BODY_STALL_S:g} s "
                f"or slower than {BODY_MIN_RATE} bytes/s)",
                close=True,
            )
            return None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def answer_sender(self, send: Send) -> Send:
        """`send` with the answer headers added, and a 400's field errors shortened."""
        held: list[dict] = []

        async def answer(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.answer_headers]
                if message["status"] == 400:
                    held.append(message)
                    return
            elif held:  # the body of a 400: shorten it once it is whole
                held.append(message)
                if message.get("more_body", False):
                    return
                start, *parts = held
                body = shorten_field_errors(
                    b"".join(p.get("body", b"") for p in parts), self.max_field_errors
                )
                start["headers"] = [
                    (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
                ]
                start["headers"].append((b"content-length", b"%d" % len(body)))
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        return answer

    async def reject(
        self,
        send: Send,
        reason: str,
        status: int,
        message: str,
        close: bool = False,
        detail: list[dict] | None = None,
    ) -> None:
        self.on_reject(reason)
        extra = [(b"connection", b"close")] if close else []
        if status == 401:
            extra.append((b"www-authenticate", b"Bearer"))
        answer = {"error": message} if detail is None else {"error": message, "detail": detail}
        await _respond(send, status, json.dumps(answer).encode(), b"application/json", extra)


def served_paths(app: Any) -> tuple[set[str], list[str], set[str]]:
    """A Starlette app's paths: (exact paths, path prefixes, files of its static mounts)."""
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    known, prefixes, static = set(), [], set()
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            # The exact files: distinct 404s under the mount would be new series too.
            for folder in route.app.all_directories:
                base = Path(folder)
                static |= {f"{route.path}/{f.relative_to(base)}" for f in base.rglob("*")}
        elif isinstance(route, Mount):
            prefixes.append(route.path.rstrip("/") + "/")
        elif "{" in route.path:
            prefixes.append(route.path.split("{")[0])
        else:
            known.add(route.path)
    return known, prefixes, static


async def _respond(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
