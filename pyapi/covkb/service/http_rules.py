"""The HTTP rules every answer of covkb serve follows, as one ASGI layer.

* **Media types.** Each route that takes a body declares the media types it
  accepts (``ACCEPTS``); any other, or none, is answered 415 before the app
  reads a byte, so that a cross-site form (``text/plain``, form-encoded)
  never reaches an API route without a CORS preflight.
* **Security headers** on every answer: a Content-Security-Policy without
  inline script that no page may be framed by, ``nosniff``, no referrer.
  (uvicorn's ``server`` banner is turned off where uvicorn is configured.)
* **No address from the Host header.** A path with a trailing slash is
  redirected with a relative ``Location`` (Starlette builds an absolute one
  from ``Host``); absolute links (the CRD explanation link) come from the
  configured public URL (``covkb serve --public-url``).
"""

from __future__ import annotations

from typing import Any

from .problems import PROBLEM, dumps, problem

JSON_TYPES = frozenset({"application/json"})
# (path, or a prefix ending in "/") -> the media types a POST to it may carry
ACCEPTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("/v1/determine", JSON_TYPES),
    ("/v1/batch", frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})),
    ("/cds-services/", frozenset({"application/json", "application/fhir+json"})),
    ("/fhir/", frozenset({"application/fhir+json", "application/json"})),
    ("/revisions/draft", frozenset({"multipart/form-data"})),
    ("/v1/drafts", JSON_TYPES),   # POST a draft, PUT a revision (draft_routes.py)
    ("/v1/drafts/", JSON_TYPES),
    ("/auth/token", frozenset({"application/x-www-form-urlencoded"})),  # OAuth 2.0's token request
)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def origin(host: str, port: int) -> str:
    """http://host:port, as a client writes it (an IPv6 address in brackets):
    the default public URL of a server bound there."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def accepted(path: str) -> frozenset[str] | None:
    """The media types a POST to path accepts (None: the route declares none)."""
    for route, types in ACCEPTS:
        if path == route or (route.endswith("/") and path.startswith(route)):
            return types
    return None


def _media_type(scope: dict[str, Any]) -> str:
    for k, v in scope.get("headers", ()):
        if k == b"content-type":
            return v.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


class HttpRules:
    """ASGI middleware: the rules above, around the whole app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                names = {k.lower() for k, _ in msg.get("headers", ())}
                msg = {**msg, "headers": [*msg.get("headers", ()),
                                          *(h for h in SECURITY_HEADERS if h[0] not in names)]}
            await send(msg)

        path, method = scope["path"], scope["method"]
        if len(path) > 1 and path.endswith("/") and method in ("GET", "HEAD"):
            query = scope.get("query_string", b"")
            location = path.rstrip("/") or "/"
            location += ("?" + query.decode("latin-1")) if query else ""
            if not location.startswith("//"):  # "//host" would be another origin
                return await _answer(secured, 308, [(b"location", location.encode("latin-1"))], b"")
        if method in ("POST", "PUT", "PATCH"):
            types = accepted(path)
            given = _media_type(scope)
            if types is not None and given not in types:
                detail = (f"{path} takes {' or '.join(sorted(types))}, not "
                          f"{given or 'a body without a Content-Type'}")
                return await _answer(secured, 415, [(b"content-type", PROBLEM.encode()),
                                                    (b"accept-post", ", ".join(sorted(types)).encode())],
                                     dumps(problem(415, "unsupported_media_type", detail)))
        await self.app(scope, receive, secured)


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
