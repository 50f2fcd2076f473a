"""The HTTP/1.1 connection of covkb serve: uvicorn's httptools protocol with
the limits of a serious server, and one write per response.

uvicorn (0.55) bounds neither a request's head nor the time a client takes
to send it: a 2 MiB header, 80,000 headers and a client sending a byte a
second were all held.  Here, per connection:

* the request head (request line and headers) is at most ``max_head_bytes``
  and ``max_headers`` headers, else 431;
* the head must arrive within ``head_timeout`` seconds of the request's
  first byte (or of the connection, for its first request), else 408 and
  the connection is closed;
* on SIGTERM a request whose body is still arriving is answered 503 at
  once, so that a stalled upload cannot hold the drain.

The body's idle timeout is the app's (``app.BodyLimit``): only it knows
when the body is being waited for, rather than held back by flow control.
uvicorn writes a response's head and its body separately, two system calls
and two TCP segments for what fits in one; ``_OneWrite`` joins what one turn
of the event loop writes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


# The HTTP limits of covkb serve, each an option of its name (--max-head-bytes, ...): default and meaning.
HTTP_LIMITS: dict[str, tuple[int | float, str]] = {
    "max_head_bytes": (32 << 10, "A request's line and headers, in bytes (more: 431)."),
    "max_headers": (100, "Headers in one request (more: 431)."),
    "head_timeout": (10.0, "Seconds for a request's line and headers to arrive (later: 408, connection closed)."),
    "body_timeout": (30.0, "Seconds a request's body may pause while it is read (longer: 408)."),
    "keep_alive": (5.0, "Seconds an idle keep-alive connection is kept open."),
    "max_connections": (1000, "Open connections per server process (more: 503)."),
}


@dataclass(frozen=True)
class ConnectionLimits:
    max_head_bytes: int = int(HTTP_LIMITS["max_head_bytes"][0])
    max_headers: int = int(HTTP_LIMITS["max_headers"][0])
    head_timeout: float = float(HTTP_LIMITS["head_timeout"][0])


class _OneWrite:
    """A connection's transport that sends what one turn of the event loop
    writes as one write.  Everything else is the transport's."""

    __slots__ = ("_transport", "_pending")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


LINGER = 2.0  # seconds a refused connection's further bytes are read and dropped before it is closed
_PHRASES = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}
_CODES = {408: "timeout", 431: "headers_too_large", 503: "shutting_down"}


def _refusal(status: int, detail: str) -> bytes:
    """A whole HTTP response closing the connection, as an RFC 9457 problem."""
    body = json.dumps({"type": f"urn:covkb:error:{_CODES[status]}", "title": _PHRASES[status].decode(),
                       "status": status, "detail": detail, "code": _CODES[status]}).encode()
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _PHRASES[status], len(body))) + body


def http_protocol(limits: ConnectionLimits | None = None, on_close: Any = None) -> Any:
    """The protocol class for uvicorn.Config(http=...), where httptools is
    installed (else uvicorn's choice, without these limits); on_close() is
    called as each connection is lost."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"
    return type("LimitedHttpTools", (_Limited, HttpToolsProtocol),
                {"limits": limits or ConnectionLimits(), "on_close": staticmethod(on_close or (lambda: None))})


class _Limited:
    """The limits, over uvicorn's HttpToolsProtocol (http_protocol() makes
    the class): its parser callbacks and data_received, with counts and a
    timer of their own."""

    limits: ConnectionLimits
    on_close: Any
    transport: Any
    cycle: Any
    flow: Any
    _head_open = False
    _head_bytes = 0
    _headers = 0
    _refused = False
    _refusal = b""
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_OneWrite(transport))  # type: ignore[misc, arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]
        self.on_close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)  # type: ignore[misc]
        if self._head_open and not self._refused:
            # bytes of a head still incomplete once this piece is parsed (from the piece it began
            # in: at most one piece too many), so httptools never buffers more than the limit
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431, f"a request's line and headers are at most {self.limits.max_head_bytes} bytes")
        if self._refused:
            self._send_refusal()

    def on_message_begin(self) -> None:
        super().on_message_begin()  # type: ignore[misc]
        self._head_open, self._head_bytes, self._headers = True, 0, 0
        self._arm_head_timer()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > self.limits.max_headers:
            self._refuse(431, f"a request has at most {self.limits.max_headers} headers")
        if not self._refused:
            super().on_header(name, value)  # type: ignore[misc]

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._disarm_head_timer()
        if not self._refused:
            super().on_headers_complete()  # type: ignore[misc]

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)  # type: ignore[misc]

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()  # type: ignore[misc]

    def shutdown(self) -> None:
        c = self.cycle
        if c is not None and not c.response_started and c.more_body:
            # a body still arriving: answer now rather than wait out the grace for it
            self._refuse(503, "the service is shutting down; send the request again")
            self._send_refusal()
            return
        super().shutdown()  # type: ignore[misc]

    def _refuse(self, status: int, detail: str) -> None:
        if not self._refused:
            self._refused = True
            self._refusal = _refusal(status, detail)

    def _send_refusal(self) -> None:
        self._disarm_head_timer()
        t = self.transport
        if t.is_closing():
            return
        t.write(self._refusal)
        getattr(t, "_flush", lambda: None)()
        if t.can_write_eof():
            # a lingering close: what the client still sends is read and dropped for a moment, so
            # that closing with unread data does not reset the connection before it reads the answer
            t.write_eof()
            self.flow.resume_reading()
            asyncio.get_running_loop().call_later(LINGER, t.close)
        else:
            t.close()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = asyncio.get_running_loop().call_later(self.limits.head_timeout, self._head_late)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._head_open or self.cycle is None:  # a head still arriving, or none yet on this connection
            self._refuse(408, f"a request's line and headers must arrive within {self.limits.head_timeout:g} s")
            self._send_refusal()
