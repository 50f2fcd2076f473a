"""Reading a missing prefetch from the EHR's FHIR server, bounded.

A CDS call may leave prefetch keys out and name its ``fhirServer`` with a
``fhirAuthorization`` token; covkb then reads them, only from a server it
was started allowing (``covkb serve --fhir-server``).  The read cannot be
turned against anyone:

* the token goes to the allowed base exactly as configured, and nowhere
  else: no redirect is followed (a 3xx answer is reported, not obeyed);
* the whole read (connect, request, headers, body) takes at most
  ``READ_SECONDS`` in all, however slowly the server trickles;
* at most ``MAX_FETCH`` bytes are read.

The CDS clients' JWKS (``service/auth.py``, a ``jku`` on its issuer's
list) are read with the same bounded GET (``get``).

It uses httpcore, the maintained HTTP/1.1 client beneath httpx, directly:
it follows no redirect by design, and its network backend can be given
the deadline of the whole read (httpx's timeouts bound each socket read,
not the total).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpcore

from .fhir_map import MAX_FHIR_DEPTH, PrefetchMissing, check_depth

READ_SECONDS = 5.0
MAX_FETCH = 8 << 20


class _Deadline(httpcore.NetworkBackend):
    """The standard network backend, every connect, read and write given
    at most the time left before one deadline."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.inner = httpcore.SyncBackend()

    def left(self, timeout: float | None) -> float:
        rest = self.end - time.monotonic()
        if rest <= 0:
            raise httpcore.ReadTimeout(f"no answer in {READ_SECONDS:g} s")
        return rest if timeout is None else min(timeout, rest)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_tcp(host, port, self.left(timeout), local_address, socket_options), self)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:  # pragma: no cover
        raise httpcore.ConnectError("a FHIR server is reached over TCP only")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries are configured
        time.sleep(min(seconds, max(0.0, self.end - time.monotonic())))


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self.inner, self.deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, self.deadline.left(timeout)),
                       self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


def fetch(base: str, auth: Any, query: str, key: str) -> dict[str, Any]:
    """GET base/query as FHIR JSON (base: an allowed server, as configured);
    the next pages of a searchset are not followed (their entries are few
    here).  Any failure is PrefetchMissing (412), in one line."""
    url = base.rstrip("/") + "/" + query
    headers = [("Accept", "application/fhir+json")]
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers.append(("Authorization", f"{auth.get('token_type') or 'Bearer'} {auth['access_token']}"))
    try:
        raw = _get(url, headers, key)
    except httpcore.TimeoutException:
        raise PrefetchMissing(f"prefetch {key}: the FHIR server did not answer in {READ_SECONDS:g} s") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PrefetchMissing(f"prefetch {key} could not be read from the FHIR server: {why}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise PrefetchMissing(f"prefetch {key}: the FHIR server did not answer with JSON "
                              f"(nested at most {MAX_FHIR_DEPTH} levels)") from None
    if not isinstance(data, dict):
        raise PrefetchMissing(f"prefetch {key}: the FHIR server did not answer with a resource")
    check_depth(data, f"prefetch {key} as the FHIR server answered it")
    return data


def _get(url: str, headers: list[tuple[str, str]], key: str) -> bytes:
    try:
        status, body = get(url, headers, MAX_FETCH)
    except _TooBig:
        raise PrefetchMissing(f"prefetch {key}: the FHIR server's answer is over {MAX_FETCH} bytes") from None
    if 300 <= status < 400:
        raise PrefetchMissing(f"prefetch {key}: the FHIR server answered a redirect (HTTP {status}); "
                              "covkb follows none, so that the token goes to the allowed server only")
    if status != 200:
        raise PrefetchMissing(f"prefetch {key}: the FHIR server answered HTTP {status}")
    return body


class _TooBig(ValueError):
    """An answer over the bytes allowed."""


def get(url: str, headers: list[tuple[str, str]], max_bytes: int) -> tuple[int, bytes]:
    """One bounded GET (a redirect is answered, never followed): its status
    and body (a body over max_bytes raises ValueError); the other readers
    of allowed servers (the CDS clients' JWKS, service/auth.py) use it too."""
    with httpcore.ConnectionPool(network_backend=_Deadline(READ_SECONDS), max_connections=1, retries=0) as pool:
        with pool.stream("GET", url, headers=headers) as r:
            if r.status != 200:
                return r.status, b""
            chunks, size = [], 0
            for chunk in r.iter_stream():
                size += len(chunk)
                if size > max_bytes:
                    raise _TooBig(f"the answer is over {max_bytes} bytes")
                chunks.append(chunk)
    return 200, b"".join(chunks)
