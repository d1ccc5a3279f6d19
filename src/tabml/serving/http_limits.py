"""Header limits for uvicorn's httptools protocol: a size cap and a read deadline.

uvicorn's h11 protocol caps incomplete headers (`h11_max_incomplete_event_size`), but its
httptools protocol, which we use for speed (pyproject.toml), buffers a header of any size and
waits for the end of the headers for ever; BentoML starts uvicorn itself and passes neither
option through its config. `install()` makes this protocol uvicorn's "auto" choice in the
worker process (BentoML builds `uvicorn.Config(http="auto")` after importing the service), so:

- the request line and headers of one request may take at most `MAX_HEADER_BYTES`: more gets
  431 and the connection is closed (nothing beyond that is buffered);
- they must arrive within `HEADER_TIMEOUT_S` of the connection opening or of the request's
  first byte: a slower or stalled client gets 408 and the connection is closed.

Idle keep-alive connections are closed by uvicorn's own `timeout_keep_alive` (5 s in BentoML).
Per request this costs one timer (armed at the first byte, cancelled at the end of headers)
and one addition per received chunk.
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
HEADER_TIMEOUT_S = 10.0


def _status_only(status: bytes, message: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(message) + message
    )


TOO_LARGE = _status_only(
    b"431 Request Header Fields Too Large",
    b"request line and headers larger than %d bytes" % MAX_HEADER_BYTES,
)
TOO_SLOW = _status_only(
    b"408 Request Timeout",
    b"request headers not received within %d seconds" % HEADER_TIMEOUT_S,
)


class HeaderLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header size cap and a header read deadline."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = False
        self._header_bytes = 0
        self._header_timer = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that never sends a byte is a request whose headers never arrive.
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # After parsing: a chunk that ends while the headers are still incomplete was all
        # header bytes (except, at most, the end of the previous request's body).
        if self._in_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._reject(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers, self._header_bytes = True, 0
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._cancel_header_timer()
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._reject, TOO_SLOW)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _reject(self, response: bytes) -> None:
        self._cancel_header_timer()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A request of this connection is still being answered: do not interleave bytes.
            self.transport.close()
            return
        self.transport.write(response)
        self.transport.close()


def install() -> None:
    """Make `HeaderLimitedProtocol` what uvicorn's `http="auto"` loads in this process."""
    from uvicorn import config

    config.HTTP_PROTOCOLS["auto"] = f"{__name__}:HeaderLimitedProtocol"
