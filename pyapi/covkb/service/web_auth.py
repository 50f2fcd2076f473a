"""The web pages' login (issue 23, item 6): who may open which page, decided at one boundary.

``WebAuth`` is an ASGI layer beside ``auth.Auth`` (which checks the API's
tokens and lets the pages through): every request for a web page (anything
not the API's: ``API_PATHS``; /static open) passes here before any route
reads it.

* **Logged in or not.** ``/login`` (a form; its own CSRF token kept in a
  short cookie, as there is no session yet) checks the name and password
  against the store's users (covkb.store.users: scrypt hashes, failed logins
  counted per name, then refused in one line, 429) and sets the session
  cookie: a random id the store keeps the hash of (so every server process
  shares it), ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when
  ``--public-url`` is https, ended after ``SESSION_LIFETIME``.  Without a
  live session a page redirects to /login (303, the address kept in
  ``next``); an htmx or JSON request gets 401 (a problem document; htmx is
  told where to go with ``HX-Redirect``).  A removed user's session, or one
  of a user whose password was replaced, is refused from its next request.
* **CSRF.** Every request that is not GET/HEAD/OPTIONS carries its session's
  CSRF token, in the ``X-CSRF-Token`` header (htmx, scripts) or the
  ``csrf_token`` form field (every form: covkb.web.session.csrf_field); one
  missing or wrong is 403.
* **Roles.** What a request needs (``WEB_RULES``, else reading) against what
  the user's role grants (``ROLE_GRANTS``): a viewer reads pages and
  decides; an analyst also creates and changes drafts; a reviewer also
  reads the PAS requests pended for a person and records a decision on
  each (/reviews, covkb.web.review_pages).  Refused is 403, a page in words for a
  browser, a problem document for JSON.

``--no-auth`` (a loopback listener only) leaves the pages open, as before,
and /login says so.  The route answers see who is logged in through
``covkb.web.session.current``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
import threading
from typing import Any
from urllib.parse import parse_qsl, quote

from ..errors import CovkbError
from ..web import session as web_session
from .problems import PROBLEM, dumps, from_error, problem

COOKIE = "covkb_session"
LOGIN_COOKIE = "covkb_login"       # the login form's own CSRF token (double-submit), before there is a session
LOGIN_FORM_SECONDS = 3600          # its cookie's life
MAX_FORM = 16 << 10                # bytes of a login or logout form
# the API's paths (auth.Auth decides those) and the open ones: every other path is a web page
API_PATHS = ("/v1/", "/fhir", "/cds-services", "/auth/", "/.well-known/", "/healthz", "/docs", "/openapi.json",
             "/debug/", "/static/", "/favicon.ico")
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "draft"}),
    "reviewer": frozenset({"read", "review"}),
}
# (method, path, or a prefix ending in "/", what it needs): the first that fits; else GET and HEAD read,
# and any other method needs "unlisted", which no role grants (a new form is refused until it is listed here)
WEB_RULES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/drafts/new", "draft"),
    ("POST", "/drafts/", "draft"),          # /drafts/new, /drafts/{id} and its edit and tests
    ("POST", "/revisions/draft", "draft"),  # a draft uploaded, checked and diffed
    ("GET", "/reviews", "review"),          # the preauthorizations pended for a person (a patient's facts)
    ("POST", "/reviews/", "review"),        # a reviewer's decision on one
)
NEEDS = {"draft": "Creating and changing drafts (and checking an uploaded draft) needs the analyst role",
         "review": "Reading the requests pended for a person and recording a decision on them needs the reviewer role",
         "read": "Reading the pages needs a role",
         "unlisted": "This page takes no changes from the web"}
SAFE = ("GET", "HEAD", "OPTIONS")


def needs(method: str, path: str) -> str:
    """What a web request needs of its user's role."""
    for m, p, what in WEB_RULES:
        if m == method and (path == p or (p.endswith("/") and (path.startswith(p) or path == p[:-1]))):
            return what
    return "read" if method in ("GET", "HEAD") else "unlisted"


def is_web(path: str) -> bool:
    return not path.startswith(API_PATHS)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return ""


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        if k == b"cookie":
            for part in v.decode("latin-1").split(";"):
                name, eq, value = part.strip().partition("=")
                if eq and name not in out:
                    out[name] = value.strip().strip('"')
    return out


def _wants_page(scope: dict[str, Any]) -> bool:
    """A browser's page (not htmx's fragment, nor a JSON client)."""
    accept = _header(scope, b"accept")
    return not _header(scope, b"hx-request") and "json" not in accept


def _safe_next(value: str) -> str:
    """Where to go after logging in: a path of this site only (never //host or another scheme)."""
    return value if value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value else "/determine"


class WebAuth:
    """ASGI middleware: the web pages' login, CSRF and roles (above)."""

    def __init__(self, app: Any, settings: Any) -> None:
        from ..web.pages import templates

        self.app, self.auth = app, settings.auth
        self.store_url = settings.store
        self.secure = (settings.public_url or "").lower().startswith("https://")
        self.template = templates().get_template("login.html")
        self._store: Any = None
        self._opening = threading.Lock()

    def store(self) -> Any:
        with self._opening:
            if self._store is None:
                from ..store import Store

                self._store = Store.open(self.store_url)
        return self._store

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_web(scope["path"]):
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if not self.auth:
            if path in ("/login", "/logout"):
                return await self._page(send, 200, "Authentication is off",
                                        "This server runs with --no-auth: the pages are open to anyone who can "
                                        "reach it, on its loopback address only.", back="/determine")
            return await self.app(scope, receive, send)
        try:
            if path == "/login":
                return await (self._login(scope, receive, send) if method == "POST" else self._login_form(scope, send))
            sess = self._session(scope)
            if path == "/logout":
                return await self._logout(scope, receive, send, sess)
            if sess is None:
                return await self._unauthenticated(scope, send)
            what = needs(method, path)
            if what not in ROLE_GRANTS.get(sess.role, frozenset()):
                return await self._refuse(scope, send, f"{NEEDS[what]}: {sess.user} is {'an' if sess.role[0] in 'aeiou' else 'a'} {sess.role}.")
            if method not in SAFE:
                body, receive = await _buffered(receive)
                if not await _csrf_ok(scope, body, sess.csrf):
                    return await self._refuse(scope, send, "The form came without this session's CSRF token, or "
                                                           "with an old one: reload the page and send it again.")
        except CovkbError as err:  # the store cannot be used: 503, in one line
            status, prob = from_error(err)
            return await _send(send, status, [(b"content-type", PROBLEM.encode())], dumps(prob))
        token = web_session.current.set(sess)
        try:
            await self.app(scope, receive, _unstored(send))
        finally:
            web_session.current.reset(token)

    def _session(self, scope: dict[str, Any]) -> Any:
        sid = _cookies(scope).get(COOKIE)
        return self.store().web_session(sid) if sid else None

    # -- answers ---------------------------------------------------------------------
    def _cookie(self, name: str, value: str, seconds: int) -> tuple[bytes, bytes]:
        attrs = f"{name}={value}; Path=/; Max-Age={seconds}; HttpOnly; SameSite=Lax"
        return b"set-cookie", (attrs + ("; Secure" if self.secure else "")).encode("latin-1")

    async def _page(self, send: Any, status: int, title: str, message: str = "", *,
                    headers: tuple[tuple[bytes, bytes], ...] = (), **ctx: Any) -> None:
        ctx = {"form": None, "back": None, "next": "/determine", "name": "", "login_token": "", "csrf": "", **ctx}
        html = self.template.render(title=title, message=message, **ctx).encode()
        await _send(send, status, [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store"),
                                   *headers], html)

    async def _unauthenticated(self, scope: dict[str, Any], send: Any) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        target = "/login?next=" + quote(scope["path"] + ("?" + query if query else ""), safe="")
        if _wants_page(scope):
            return await _send(send, 303, [(b"location", target.encode("latin-1"))], b"")
        body = dumps(problem(401, "unauthorized", f"log in first: {scope['method']} {scope['path']} needs a "
                                                  "session (the form at /login)"))
        await _send(send, 401, [(b"content-type", PROBLEM.encode()), (b"hx-redirect", target.encode("latin-1")),
                                (b"www-authenticate", f'Cookie realm="covkb", form-action="/login", '
                                                      f'cookie-name="{COOKIE}"'.encode())], body)

    async def _refuse(self, scope: dict[str, Any], send: Any, why: str) -> None:
        if _wants_page(scope) or _header(scope, b"hx-request"):
            return await self._page(send, 403, "Not allowed", why, back="/determine")
        await _send(send, 403, [(b"content-type", PROBLEM.encode())], dumps(problem(403, "forbidden", why)))

    async def _login_form(self, scope: dict[str, Any], send: Any, *, status: int = 200, message: str = "",
                          name: str = "", next_: str | None = None) -> None:
        if next_ is None:
            next_ = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("next", "/determine")
        kept = _cookies(scope).get(LOGIN_COOKIE, "")  # another tab's (or the favicon's) form keeps its token
        token = kept if 20 <= len(kept) <= 64 and kept.replace("-", "").replace("_", "").isalnum() else \
            secrets.token_urlsafe(24)
        await self._page(send, status, "Log in", message, form="login", login_token=token, name=name,
                         next=_safe_next(next_), headers=(self._cookie(LOGIN_COOKIE, token, LOGIN_FORM_SECONDS),))

    async def _login(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from ..store import TooManyLogins

        body, _ = await _buffered(receive, MAX_FORM)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        name, next_ = form.get("name", "").strip(), _safe_next(form.get("next", "/determine"))
        kept = _cookies(scope).get(LOGIN_COOKIE, "")
        if not kept or not hmac.compare_digest(kept.encode(), form.get("login_token", "").encode()):
            return await self._login_form(scope, send, status=403, name=name, next_=next_,
                                          message="The login form had expired: log in again.")
        try:
            made = await asyncio.to_thread(self.store().login, name, form.get("password", ""))
        except TooManyLogins as err:
            return await self._login_form(scope, send, status=429, message=err.message, name=name, next_=next_)
        if made is None:
            return await self._login_form(scope, send, status=401, name=name, next_=next_,
                                          message="The name or the password is wrong.")
        sid, sess = made
        seconds = max(1, int((sess.expires - dt.datetime.now(dt.timezone.utc)).total_seconds()))
        await _send(send, 303, [(b"location", next_.encode("latin-1")), self._cookie(COOKIE, sid, seconds),
                                self._cookie(LOGIN_COOKIE, "", 0)], b"")

    async def _logout(self, scope: dict[str, Any], receive: Any, send: Any, sess: Any) -> None:
        if sess is None:
            return await _send(send, 303, [(b"location", b"/login")], b"")
        if scope["method"] != "POST":
            return await self._page(send, 200, f"Log out {sess.user}?", form="logout", csrf=sess.csrf,
                                    back="/determine")
        body, _ = await _buffered(receive, MAX_FORM)
        if not await _csrf_ok(scope, body, sess.csrf):
            return await self._refuse(scope, send, "The form came without this session's CSRF token, or with an "
                                                   "old one: reload the page and send it again.")
        await asyncio.to_thread(self.store().end_session, _cookies(scope)[COOKIE])
        await _send(send, 303, [(b"location", b"/login"), self._cookie(COOKIE, "", 0)], b"")


def _unstored(send: Any) -> Any:
    """A logged-in user's pages are kept by no cache (a shared one, or the browser's after logout), unless a
    route says otherwise."""
    async def sending(msg: dict[str, Any]) -> None:
        if msg["type"] == "http.response.start" and not any(k == b"cache-control" for k, _ in msg.get("headers", ())):
            msg = {**msg, "headers": [*msg.get("headers", ()), (b"cache-control", b"no-store")]}
        await send(msg)

    return sending


async def _csrf_ok(scope: dict[str, Any], body: bytes, expected: str) -> bool:
    """The session's CSRF token is in the header, or in the body's form field (URL-encoded or multipart,
    read by Starlette's form parser, as the route reads it)."""
    given = _header(scope, web_session.CSRF_HEADER.lower().encode())
    if not given and _header(scope, b"content-type").lower().startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        from starlette.requests import Request

        _, replay = _replayed(body, None)
        try:
            form = await Request(scope, replay).form()
            value = form.get(web_session.CSRF_FIELD)
            await form.close()
        except Exception:  # a malformed form: no token (the route, had it run, would refuse it too)
            value = None
        given = value if isinstance(value, str) else ""
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


async def _buffered(receive: Any, limit: int | None = None) -> tuple[bytes, Any]:
    """The request's body (BodyLimit, outside, bounds it; ``limit`` cuts it shorter), and a receive that
    gives it to the app again."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunks.append(msg.get("body", b""))
        size += len(chunks[-1])
        if limit is not None and size > limit or not msg.get("more_body", False):
            break
    return _replayed(b"".join(chunks), receive)


def _replayed(body: bytes, receive: Any) -> tuple[bytes, Any]:
    """The body, and a receive that gives it once, then waits on ``receive`` (a disconnect)."""
    given = False

    async def again() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        if receive is None:
            return {"type": "http.disconnect"}
        return await receive()

    return body, again


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
