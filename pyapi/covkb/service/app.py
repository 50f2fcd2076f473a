"""covkb as a service: the HTTP app (FastAPI on uvicorn).

The app routes, limits body sizes, streams batches and writes errors as RFC
9457 problem details; every operation that needs an engine goes to
``pool.call``.  In ``--mode inline`` (the default) each of N server
processes runs this app with the engines inside it (``servers.py``: quick
operations decided in the process, long ones by its engine worker); in
``--mode pool`` one process runs it and hands every operation to a pool of
engine worker processes (``workers.Pool``), parsing no request body.

    /v1/determine  /v1/batch  /v1/policies  /v1/policies/{p}/vocabulary
    /v1/policies/{p}/versions/{v}/check  /v1/policies/{p}/diff  /v1/compare
    /v1/explanations/{token}  /cds-services  /cds-services/{id}  /healthz
    (the batch, policy and explanation routes: rest_routes.py)
    /fhir/Claim/$submit  /fhir/Claim/$inquire  /v1/reviews  /v1/reviews/{id}  (pas_routes.py)
    /v1/drafts  /v1/drafts/{id}  /v1/drafts/{id}/review  /v1/drafts/{id}/export  (draft_routes.py)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Optional

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import CovkbError
from .auth import Auth, auth_arguments, auth_settings, cors, preflight
from .http_protocol import HTTP_LIMITS
from . import rest_routes
from .problems import PROBLEM, dumps, from_error, problem
from .rest_routes import BodyTooLarge as _TooLarge
from .rest_routes import EngineName
from .workers import Pool

if TYPE_CHECKING:
    from ..policy import Policy

API_VERSION = "v1"


@dataclass
class Settings:
    workers: int = 2                      # server processes (inline), or engine workers (pool)
    mode: str = "inline"                  # inline: engines in the server processes; pool: one front, N workers
    policy: Optional[str] = None          # the default policy (None: kb/policies/default.pl)
    max_body: int = 1 << 20               # 1 MiB for a request
    max_batch_body: int = 64 << 20        # 64 MiB for a batch (streamed)
    max_cds_body: int = 8 << 20           # 8 MiB for a CDS Hooks call (its prefetch holds a record)
    batch_chunk: int = 256                # lines per worker call in a batch
    timeout: float = 30.0                 # seconds for one determination (a hung worker is replaced)
    slow_timeout: float = 600.0           # check, diff, compare
    today: Optional[str] = None           # fix "today" (tests)
    debug_ops: bool = False               # /debug/* routes for the fault tests
    preload_engines: tuple[str, ...] = ("prolog", "asp")
    cache_size: int = 4096                # determinations and CRD answers remembered (0: none)
    cache_bytes: int = 64 << 20           # ... and their bytes at most
    fhir_servers: tuple[str, ...] = ()    # FHIR servers a CDS call may have covkb read missing prefetch from
    public_url: Optional[str] = None      # the base of links covkb writes (never the Host header)
    store: Optional[str] = None           # the decision store's URL (covkb.store; None: COVKB_STORE_URL, else SQLite)
    ready_line: str = ""                  # printed to stderr once serving (covkb serve, pool mode)
    auth: bool = True                     # callers of /cds-services/* and /fhir/* authenticated (auth.py)
    trusted_issuers: Optional[str] = None  # the CDS clients' allowlist (a TOML or JSON file)
    cors_origins: tuple[str, ...] = ()    # origins a browser may call from (none by default)
    # the HTTP limits (http_protocol.HTTP_LIMITS says what each is)
    body_timeout: float = float(HTTP_LIMITS["body_timeout"][0])
    max_head_bytes: int = int(HTTP_LIMITS["max_head_bytes"][0])
    max_headers: int = int(HTTP_LIMITS["max_headers"][0])
    head_timeout: float = float(HTTP_LIMITS["head_timeout"][0])
    keep_alive: float = float(HTTP_LIMITS["keep_alive"][0])
    max_connections: int = int(HTTP_LIMITS["max_connections"][0])
    extra: dict[str, Any] = field(default_factory=dict)

    def limits(self) -> Any:
        from .http_protocol import ConnectionLimits

        return ConnectionLimits(self.max_head_bytes, self.max_headers, self.head_timeout)

    def uvicorn_options(self) -> dict[str, Any]:
        """uvicorn's own settings for these limits, and no server banner."""
        return {"timeout_keep_alive": self.keep_alive, "limit_concurrency": self.max_connections,
                "server_header": False, "timeout_graceful_shutdown": 60, "access_log": False}


def settings_from_json(d: dict[str, Any]) -> Settings:
    """Settings from dataclasses.asdict(settings) sent through JSON."""
    d = dict(d)
    for name in ("preload_engines", "fhir_servers", "cors_origins"):
        d[name] = tuple(d[name])
    return Settings(**d)


def _problem_response(status: int, code: str, detail: str) -> Response:
    return Response(dumps(problem(status, code, detail)), status_code=status, media_type=PROBLEM)


class Memo:
    """Answers remembered in order of use, bounded by count and by bytes."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self.items: OrderedDict[tuple[Any, ...], tuple[int, str, bytes]] = OrderedDict()
        self.bytes = self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> tuple[int, str, bytes] | None:
        hit = self.items.get(key)
        if hit is None:
            self.misses += 1
            return None
        self.hits += 1
        self.items.move_to_end(key)
        return hit

    def put(self, key: tuple[Any, ...], value: tuple[int, str, bytes]) -> None:
        if not self.entries or len(value[2]) > self.max_bytes or key in self.items:
            return
        self.items[key] = value
        self.bytes += len(value[2])
        while len(self.items) > self.entries or self.bytes > self.max_bytes:
            _, old = self.items.popitem(last=False)
            self.bytes -= len(old[2])

    def status(self) -> dict[str, int]:
        return {"size": len(self.items), "bytes": self.bytes, "hits": self.hits, "misses": self.misses}


class BodyLimit:
    """ASGI middleware: 413 for a body over the limit (by Content-Length, or
    counted as it streams in)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        limit = (self.settings.max_batch_body if path == "/v1/batch" else
                 self.settings.max_cds_body if path.startswith(("/cds-services/", "/fhir/Claim/")) else  # a record
                 self.settings.max_body)
        for k, v in scope.get("headers", ()):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                return await _problem_response(413, "too_large", f"the body is over {limit} bytes")(scope, receive, send)
        seen = 0
        started = False
        body_done = False
        timeout = self.settings.body_timeout

        async def counted() -> dict[str, Any]:
            nonlocal seen, body_done
            if body_done:  # after the body: the app waits for a disconnect, as long as it likes
                return await receive()
            try:  # the body, while the app waits for it: a client that stops sending is let go
                async with asyncio.timeout(timeout):  # a timer, not a task as wait_for makes
                    msg = await receive()
            except TimeoutError:
                raise _TooSlow(timeout) from None
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
                body_done = not msg.get("more_body", False)
            return msg

        async def tracking_send(msg: dict[str, Any]) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracking_send)
        except _TooLarge as exc:
            if not started:
                await _problem_response(413, "too_large", f"the body is over {exc.limit} bytes")(scope, receive, send)
        except _TooSlow as exc:
            if not started:
                await _problem_response(408, "timeout", f"the body paused for over {exc.limit:g} s")(
                    scope, receive, send)


class _TooSlow(Exception):
    def __init__(self, limit: float) -> None:
        self.limit = limit


def create_app(settings: Settings | None = None, engines: Any = None) -> FastAPI:
    """The app; engines(config) makes what operations are sent to (a
    ``workers.Pool`` of settings.workers processes unless given)."""
    settings = settings or Settings()
    front = _Front(settings)
    worker_config = {"policy": front.default.id, "today": settings.today, "fhir_servers": list(settings.fhir_servers),
                     "store": settings.store,
                     "preload_policies": [front.default.id], "preload_engines": list(settings.preload_engines)}
    pool = engines(worker_config) if engines is not None else Pool(settings.workers, worker_config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        if settings.ready_line:
            print(settings.ready_line, file=sys.stderr, flush=True)
        yield
        await pool.close()

    app = FastAPI(
        title="covkb", version="1",
        # /docs is served from packaged assets (http_docs.py); no redirect is built from Host
        docs_url=None, redoc_url=None, redirect_slashes=False,
        description="Explainable coverage determinations over encoded medical coverage policies, "
                    "with CDS Hooks / Da Vinci CRD coverage information.",
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.settings = settings
    answers = _Answers(settings, pool)
    _error_handlers(app)
    _determine_routes(app, front, answers)
    rest_routes.mount(app, front, answers)
    _cds_routes(app, front, answers)
    from .dtr_routes import mount as mount_dtr
    from .pas_routes import mount as mount_pas

    mount_dtr(app, policy_id=lambda ref: front.policy_or_404(ref).id if ref else front.default.id,
              run=answers.run, base_url=lambda: public_url(settings))
    mount_pas(app, front, answers, lambda: public_url(settings))
    from .draft_routes import mount as mount_drafts

    mount_drafts(app, front, answers)  # the draft workspace
    # the web pages: they ask the workers what the API routes ask
    from ..web.pages import mount as mount_pages

    mount_pages(app, installed=front.installed, default=front.default, lookup=front.by_ref.get, ask=answers.ask,
                today=lambda: dt.date.fromisoformat(settings.today) if settings.today else dt.date.today())
    _operation_routes(app, settings, pool, answers)
    from .http_docs import mount_docs
    from .http_rules import HttpRules

    mount_docs(app)
    from .web_auth import WebAuth  # the web pages' login, beside Auth (which lets them through)

    hot = WebAuth(_hot_path(app, front, answers), settings)
    return HttpRules(cors(BodyLimit(Auth(hot, settings), settings), settings))  # type: ignore[return-value]


class _Front:
    """What the front answers itself, read once at start: pure Python, no engine."""

    def __init__(self, settings: Settings) -> None:
        from ..policy import Policy, policy_folders
        from . import crd
        from .fhir_map import load_mapping

        self.default = default = Policy(policy=settings.policy)
        self.installed = installed = [Policy(policy=f) for f in policy_folders()]
        self.by_ref: dict[str, Policy] = {}
        for p in installed:
            for ref in (p.id, p.number, p.folder.name):
                self.by_ref[ref] = p
        mappings = {p.id: load_mapping(p) for p in installed}
        self.cds = crd.discovery([(p.id, f"{p.number} {p.title}", mappings[p.id]) for p in installed
                                  if mappings[p.id].prefetch], default.id)
        self.hooks: dict[str, tuple[str, str]] = {s["id"]: (s["hook"], s["id"]) for s in self.cds["services"]}
        self.service_policy = {crd.service_id(h, None): default.id for h in crd.HOOKS}
        for p in installed:
            for h in crd.HOOKS:
                self.service_policy[crd.service_id(h, p.id)] = p.id

    def policy_or_404(self, ref: str) -> Policy:
        p = self.by_ref.get(ref)
        if p is None:
            import difflib

            near = difflib.get_close_matches(ref, sorted(self.by_ref), n=1)
            raise _Http(404, "not_found", f"no policy {ref!r}{f' (did you mean {near[0]!r}?)' if near else ''}; "
                                          f"GET /v1/policies lists them")
        return p


class _Answers:
    """Operations run by the pool, their answers remembered.

    Answers by (operation, arguments, body, today): the knowledge base does
    not change while the server runs, so an identical request (an
    order-select then order-sign of one order, a retried call) is answered
    again without an engine.  Bounded; --cache-size 0 turns it off."""

    def __init__(self, settings: Settings, pool: Any) -> None:
        self.settings, self.pool = settings, pool
        self.memo = Memo(settings.cache_size, settings.cache_bytes)
        self.cache = Memo(64, 256 << 20)  # check, diff, compare

    async def remembered(self, op: str, args: dict[str, Any], body: bytes) -> Response:
        settings = self.settings
        if not settings.cache_size:
            return await self.run(op, args, body)
        key = (op, json.dumps(args, sort_keys=True), body, settings.today or dt.date.today().isoformat())
        hit = self.memo.get(key)
        if hit is not None:
            return Response(hit[2], status_code=hit[0], media_type=hit[1])
        resp = await self.run(op, args, body)
        if resp.status_code < 500 and resp.headers.get("cache-control") != "no-store":
            self.memo.put(key, (resp.status_code, resp.media_type or "application/json", bytes(resp.body)))
        return resp

    async def run(self, op: str, args: dict[str, Any], body: bytes = b"", *, slow: bool = False,
                  cache_key: tuple[Any, ...] | None = None) -> Response:
        hit = self.cache.get(cache_key) if cache_key is not None else None
        if hit is not None:
            status, media, out = hit
        else:
            try:
                status, media, out, volatile = await self.pool.call(
                    op, args, body, timeout=self.settings.slow_timeout if slow else self.settings.timeout)
            except CovkbError as err:
                s, prob = from_error(err)
                return Response(dumps(prob), status_code=s, media_type=PROBLEM)
            if volatile:
                return Response(out, status_code=status, media_type=media, headers={"Cache-Control": "no-store"})
            if cache_key is not None and status == 200:
                self.cache.put(cache_key, (status, media, out))
        return Response(out, status_code=status, media_type=media)

    async def ask(self, op: str, args: dict[str, Any], body: bytes = b"") -> Response:
        """An operation for the web pages, remembered as the API route that runs it."""
        if op == "check":
            return await self.run(op, args, slow=True, cache_key=("check", args["policy"], args["version"]))
        if op in ("diff", "diff_picture"):
            return await self.run(op, args, slow=True, cache_key=(op, args["policy"], args["a"], args["b"]))
        return await self.remembered(op, args, body)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(_Http)
    async def _http(request: Request, exc: _Http) -> Response:
        return _problem_response(exc.status, exc.code, exc.detail)

    @app.exception_handler(_TooLarge)
    async def _too_large(request: Request, exc: _TooLarge) -> Response:
        return _problem_response(413, "too_large", f"the body is over {exc.limit} bytes")

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        resp = _problem_response(exc.status_code, code, str(exc.detail))
        resp.headers.update(exc.headers or {})  # Allow, on a 405 (RFC 9110)
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ()))
        return _problem_response(422, "invalid_request", f"{loc}: {err.get('msg')}")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        return _internal_error(exc)


def _determine_routes(app: FastAPI, front: _Front, answers: _Answers) -> None:
    """REST v1: /v1/determine (/v1/batch: rest_routes.py)."""
    from ..request import request_model

    vocab = front.default.data(front.default.latest()).vocabulary
    try:
        request_schema = request_model(vocab).model_json_schema()
    except Exception:  # the schema is documentation only: validation happens in the engine workers
        request_schema = {"type": "object"}
    body_doc = {"requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}}}

    @app.post("/v1/determine", openapi_extra=body_doc,
              summary="Is this service medically necessary for this patient, and why?",
              description="The request JSON of `covkb determine --request`; the answer is "
                          "`covkb determine --format json`. Errors are problem details with covkb's code: "
                          "422 for a request the vocabulary refuses (with a suggestion), 400 for a body "
                          "that is not JSON, 413 over 1 MiB.")
    @_with_query(DETERMINE_QUERY)
    async def determine(request: Request, **query: Any) -> Response:
        body = await request.body()
        return await answers.remembered("determine", determine_args(front, query), body)


def _cds_routes(app: FastAPI, front: _Front, answers: _Answers) -> None:
    """CDS Hooks: discovery and the calls."""

    @app.get("/cds-services", summary="CDS Hooks discovery")
    async def cds_discovery() -> dict[str, Any]:
        return front.cds

    @app.post("/cds-services/{service_id}", summary="A CDS Hooks call (order-sign, order-select)")
    @_with_query(CDS_QUERY, ("service_id", str))
    async def cds_call(service_id: str, request: Request, **query: Any) -> Response:
        body = await request.body()
        return await answers.remembered("cds", cds_args(front, answers.settings, service_id, query), body)


def _operation_routes(app: FastAPI, settings: Settings, pool: Any, answers: _Answers) -> None:
    """/healthz, and the fault tests' /debug routes."""

    @app.get("/healthz", summary="Liveness, and the engine workers")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "mode": settings.mode, "pool": pool.status(), "memo": answers.memo.status()}

    if settings.debug_ops:
        @app.post("/debug/sleep", include_in_schema=False)
        async def debug_sleep(seconds: float = 1.0, timeout: Optional[float] = None) -> Response:
            try:
                status, media, out, _ = await pool.call("sleep", {"seconds": seconds}, timeout=timeout or settings.timeout)
            except CovkbError as err:
                s, prob = from_error(err)
                return Response(dumps(prob), status_code=s, media_type=PROBLEM)
            return Response(out, status_code=status, media_type=media)

        @app.post("/debug/block", include_in_schema=False)
        async def debug_block(seconds: float = 1.0) -> Response:
            import time

            time.sleep(seconds)  # as an engine that hangs inside a server process would
            return Response(b"{}", media_type="application/json")


def _hot_path(app: FastAPI, front: _Front, answers: _Answers) -> Any:
    """The two routes every client and EHR call hits (a determination, a CDS
    Hooks call), answered without FastAPI's routing and parameter
    machinery, which cost a quarter or more of a server's time per request
    (A/B in bench/fast_paths.py).  Both ways of answering them are made from
    one declaration: the routes' query parameters (DETERMINE_QUERY,
    CDS_QUERY) and the operation each asks (determine_args, cds_args).  A
    request they do not plainly fit (another or a repeated query
    parameter, a value the declaration does not read as FastAPI would, an
    unknown policy or service) goes to FastAPI, which answers it."""
    remembered, settings = answers.remembered, answers.settings

    def hot_route(scope: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        path = scope["path"]
        if path == "/v1/determine":
            q = _plain_query(scope["query_string"], DETERMINE_QUERY)
            return None if q is None else ("determine", determine_args(front, q))
        if path.startswith("/cds-services/"):
            q = _plain_query(scope["query_string"], CDS_QUERY)
            return None if q is None else ("cds", cds_args(front, settings, path[len("/cds-services/"):], q))
        return None

    async def hot(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            route = (hot_route(scope) if scope["type"] == "http" and scope["method"] == "POST"
                     and not scope.get("root_path") else None)
        except Exception:  # FastAPI answers whatever this cannot read (a 404 among them), as it always did
            route = None
        if route is None:
            return await app(scope, receive, send)
        chunks = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return  # nobody to answer
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        try:
            resp = await remembered(*route, b"".join(chunks))
        except _TooLarge:
            raise
        except Exception as exc:  # as FastAPI's handler answers it
            resp = _internal_error(exc)
        await resp(scope, receive, send)

    return hot


@dataclass(frozen=True)
class _QueryParam:
    """A query parameter of a hot route: its type and default as FastAPI
    declares it, and how the hot path reads its text (plain: a ValueError or
    KeyError where it leaves the request to FastAPI)."""

    name: str
    annotation: Any
    default: Any
    plain: Any
    description: Optional[str] = None


_ENGINE = _QueryParam("engine", EngineName, EngineName.prolog, EngineName)
DETERMINE_QUERY = (_ENGINE, _QueryParam("policy", Optional[str], None, str),
                   _QueryParam("explain", bool, True, {"true": True, "false": False}.__getitem__),
                   _QueryParam("version", Optional[str], None, str, "A version id (not the one in force)"))
CDS_QUERY = (_ENGINE,)


def determine_args(front: _Front, q: dict[str, Any]) -> dict[str, Any]:
    """What POST /v1/determine asks of the engines, its query read."""
    policy = front.policy_or_404(q["policy"]).id if q["policy"] is not None else None
    return {"policy": policy, "engine": q["engine"].value, "explain": q["explain"], "version": q["version"]}


def cds_args(front: _Front, settings: Settings, service_id: str, q: dict[str, Any]) -> dict[str, Any]:
    """What a CDS Hooks call asks of the engines, its query read."""
    if service_id not in front.hooks:
        raise _Http(404, "not_found", f"no CDS service {service_id!r}; GET /cds-services lists them")
    return {"hook": front.hooks[service_id][0], "policy": front.service_policy[service_id],
            "base_url": public_url(settings), "engine": q["engine"].value}


def _with_query(params: tuple[_QueryParam, ...], *path: tuple[str, Any]) -> Any:
    """A route's signature for FastAPI: its path parameters, the request,
    and the declared query parameters (the route takes them as **query)."""
    import inspect

    def sign(route: Any) -> Any:
        kw = inspect.Parameter.KEYWORD_ONLY
        route.__signature__ = inspect.Signature([
            *(inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=t) for n, t in path),
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            *(inspect.Parameter(p.name, kw, annotation=p.annotation, default=Query(p.default, description=p.description))
              for p in params)])
        return route

    return sign


def _plain_query(raw: bytes, params: tuple[_QueryParam, ...]) -> dict[str, Any] | None:
    """A query string of the declared parameters, each at most once, not
    empty and read plainly, the others at their defaults; None for anything
    else."""
    out: dict[str, Any] = {}
    if raw:
        from urllib.parse import parse_qsl

        by_name = {p.name: p for p in params}
        for k, v in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if k in out or k not in by_name or not v:
                return None
            try:
                out[k] = by_name[k].plain(v)
            except (KeyError, ValueError):
                return None
    return {p.name: out.get(p.name, p.default) for p in params}


class _Http(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status, self.code, self.detail = status, code, detail


def public_url(settings: Settings) -> str:
    """The base of the links covkb writes (the CRD explanation link): the
    configured public URL, never the Host header a caller sends."""
    return (settings.public_url or "http://127.0.0.1:8000").rstrip("/")


def _internal_error(exc: Exception) -> Response:
    """A bug's answer: 500 in words, the details in the server's log only
    (no exception name, traceback or path reaches a caller)."""
    import logging

    logging.getLogger("covkb.service").error("internal error", exc_info=exc)
    return _problem_response(500, "internal", "internal error: the service failed on this request; "
                                              "its log has the details")


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None, log_level: str = "warning") -> int:
    """Serve until SIGTERM or SIGINT; the exit status."""
    import uvicorn

    from .http_protocol import http_protocol

    from ..store import Store

    settings = settings or Settings()
    from ..policy import Policy

    Policy(policy=settings.policy)  # an unknown policy is the caller's one-line error, before anything is said
    Store.open(settings.store).close()  # a bad store is the caller's one-line error, and its schema at head, before anything starts
    if code := preflight(host, settings):  # --no-auth off loopback refused; the allowlist read
        return code
    if settings.mode == "inline":
        from .servers import supervise

        return supervise(host, port, settings, log_level)
    if settings.public_url is None:
        from .http_rules import origin

        settings.public_url = origin(host, port)
    settings.ready_line = f"covkb serve: listening on http://{host}:{port} (pool of {settings.workers} engine worker{'s' if settings.workers != 1 else ''})"
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, http=http_protocol(settings.limits()),
                **settings.uvicorn_options())
    return 0



def main(argv: list[str] | None = None) -> None:
    """``python -m covkb.service.app``: covkb serve with the settings tests
    and benchmarks need (a fixed today, the fault-test routes)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m covkb.service.app")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mode", choices=("inline", "pool"), default="inline")
    ap.add_argument("--policy")
    ap.add_argument("--today")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--debug-ops", action="store_true")
    ap.add_argument("--cache-size", type=int, default=4096, help="answers remembered (0: none)")
    ap.add_argument("--fhir-server", action="append", default=[], help="a FHIR server base URL to read missing prefetch from")
    ap.add_argument("--public-url", help="the base of the links covkb writes (default: http://HOST:PORT)")
    ap.add_argument("--store", help="the decision store's URL (default: COVKB_STORE_URL, else SQLite in the state directory)")
    ap.add_argument("--log-level", default="warning")
    auth_arguments(ap)
    for name, (default, meaning) in HTTP_LIMITS.items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=default, help=meaning)
    a = ap.parse_args(argv)
    sys.exit(serve(a.host, a.port, Settings(workers=a.workers, mode=a.mode, policy=a.policy, today=a.today,
                                            timeout=a.timeout, debug_ops=a.debug_ops, cache_size=a.cache_size,
                                            fhir_servers=tuple(a.fhir_server), public_url=a.public_url, store=a.store,
                                            **auth_settings(a), **{n: getattr(a, n) for n in HTTP_LIMITS}), log_level=a.log_level))


if __name__ == "__main__":
    main()
