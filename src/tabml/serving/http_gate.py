"""A tiny ASGI gate in front of the API: JSON only, bounded body size.

BentoML parses form and multipart bodies too, and some malformed ones surface as 500s;
answering 415 (not JSON) and 413 (too large) before parsing keeps every bad request a 4xx.
"""

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class RequestGate:
    """Reject non-JSON or oversized POST bodies on the given paths with a clear 4xx."""

    def __init__(self, app: Any, paths: Iterable[str], max_body_bytes: int):
        self.app = app
        self.paths = frozenset(paths)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            problem = self.problem(dict(scope["headers"]))
            if problem is not None:
                await _respond(send, *problem)
                return
        await self.app(scope, receive, send)

    def problem(self, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media_type != b"application/json":
            return 415, "send the body as JSON with the header `Content-Type: application/json`"
        length = headers.get(b"content-length", b"0")
        if not length.isdigit():
            return 400, "invalid Content-Length header"
        if int(length) > self.max_body_bytes:
            return 413, f"request body larger than {self.max_body_bytes} bytes"
        return None


async def _respond(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
