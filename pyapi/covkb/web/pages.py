"""The routes of the web pages, mounted on the service's FastAPI app."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import operator
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..errors import CovkbError
from ..facts import atom
from ..policy import Policy, Version
from ..reads import Reads, reads
from ..wording import Words, lower
from .. import letter
from . import forms, views
from .forms import answered, request_from_query
from .text import code_html

HERE = Path(__file__).parent
from ..limits import MAX_DRAFT  # noqa: E402  (bytes of an uploaded draft, and of its proposed wording)
ENGINES = ("prolog", "asp")

# (operation, arguments, body) → the worker's answer, as the /v1 API runs it
Ask = Callable[[str, dict[str, Any], bytes], Awaitable[Response]]


def templates() -> Any:
    """The pages' templates (the login layer's page too: covkb.service.web_auth)."""
    import jinja2

    from . import session

    # auto_reload off: a running server keeps the templates it started with, matching its code
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["code"] = code_html  # code wraps between tokens
    env.globals.update(csrf_field=session.csrf_field, web_session=session.current.get)  # who is logged in
    return env


def _problem(resp: Response) -> str:
    """The one-line reason of a worker's problem answer."""
    try:
        body = json.loads(bytes(resp.body))
        return str(body.get("detail") or body.get("title") or resp.status_code)
    except (ValueError, AttributeError):
        return f"the service answered {resp.status_code}"


class _NoPolicy(Exception):
    pass


def mount(app: FastAPI, *, installed: list[Policy], default: Policy, lookup: Callable[[str], Policy | None],
          ask: Ask, today: Callable[[], dt.date]) -> None:
    """Add the pages (/, /determine, /policy, /revisions, /drafts, /reviews) and /static.
    ``lookup`` finds an installed policy by id or number (None if none)."""
    site = _Site(installed, default, lookup, ask, today)

    @app.exception_handler(_NoPolicy)
    async def _no_policy(request: Request, exc: _NoPolicy) -> HTMLResponse:
        names = ", ".join(p.number for p in site.policies)
        return site.page("error", default, status=404, message=f"no policy {str(exc)[:60]!r}; installed: {names}")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _determine_pages(app, site)
    _policy_pages(app, site)
    _revision_pages(app, site)
    from . import draft_pages, review_pages

    draft_pages.mount(app, site, _problem)
    review_pages.mount(app, site, _problem)


class _Site:
    """What every page needs: the installed policies, the templates, the
    worker to ask, and the links between pages."""

    def __init__(self, installed: list[Policy], default: Policy, lookup: Callable[[str], Policy | None],
                 ask: Ask, today: Callable[[], dt.date]) -> None:
        self.default, self.lookup, self.ask, self.today = default, lookup, ask, today
        self.env = templates()
        for name in ("determine", "letter", "policy", "revisions", "error"):
            self.env.get_template(f"{name}.html")  # loaded once, now: a template error stops the start, not a page
        self.drafting = asyncio.Lock()
        self.policies = sorted(installed, key=lambda p: p.id)
        self.queries: dict[str, list[Any]] = {}
        self._reads: dict[tuple[str, str | None], Reads] = {}

    def find(self, ref: str) -> Policy:
        p = self.lookup(ref)
        if p is None:
            raise _NoPolicy(ref)
        return p

    def named_queries(self, p: Policy) -> list[Any]:
        from ..queries import load_queries

        if p.id not in self.queries:
            folder = p.queries_dir
            self.queries[p.id] = load_queries(folder) if folder.is_dir() else []
        return self.queries[p.id]

    def query_version(self, p: Policy, q: Any) -> str | None:
        """The version a named query is decided by, or None for a draft's."""
        if q.version is not None:
            return q.version if q.version in {v.id for v in p.versions} else None
        on = q.request.get("date_of_service")
        try:
            return p.version_in_force(dt.date.fromisoformat(on) if on else self.today())[0].id
        except (CovkbError, ValueError, TypeError):
            return None

    def reads(self, p: Policy, version: Version | None) -> Reads:
        """What the form asks: what the version reads, or, deciding by the
        date of service, what any version of the policy reads."""
        key = (p.id, version.id if version else None)
        if key not in self._reads:
            parts = [reads(p.data(v)) for v in ([version] if version else p.versions)]
            self._reads[key] = functools.reduce(operator.or_, parts)
        return self._reads[key]

    def read_request(self, p: Policy, v: Version | None, params: list[tuple[str, str]], vocab: Any, *,
                     lenient: bool = False) -> dict[str, Any]:
        """The request of a page's address, or of a sent form (its findings
        not stated read as unknown)."""
        if forms.is_form(params):
            return forms.form_request(params, vocab, sorted(self.reads(p, v).findings), lenient=lenient)
        return request_from_query(params, vocab, lenient=lenient)

    def form_address(self, request: Request) -> str | None:
        """The address of the request a sent form states (None if it states none it can read)."""
        qp = request.query_params
        try:
            p = self.find(qp.get("policy") or self.default.id)
            ref = qp.get("version") or None
            drafted = ref is not None and ref.startswith("draft:")  # a kept draft: read by its base's words
            v = None if drafted else self.version_of(p, ref)
            req = self.read_request(p, v, qp.multi_items(), p.data(v or p.latest()).vocabulary)
        except (CovkbError, _NoPolicy):
            return None
        engine = qp.get("engine") if qp.get("engine") in ENGINES else None
        return self.determine_href(p, req, ref if drafted else v.id if v else None, engine)

    def page(self, name: str, p: Policy, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("outcomes", p.data(p.latest()).vocabulary.outcomes)
        html = self.env.get_template(f"{name}.html").render(
            page=name, policy=p, policies=self.policies, nav_query=ctx.pop("nav_query", f"?policy={p.number}"), **ctx)
        return HTMLResponse(html, status_code=ctx.get("status", 200))

    @staticmethod
    def version_of(p: Policy, ref: str | None) -> Version | None:
        if not ref:
            return None
        ids = {v.id: v for v in p.versions}
        if ref not in ids:
            raise CovkbError(f"no version {ref[:60]!r} of {p.number}; it has {', '.join(ids)}")
        return ids[ref]

    @staticmethod
    def determine_href(p: Policy, req: dict[str, Any], version: str | None = None, engine: str | None = None,
                       path: str = "/determine") -> str:
        return forms.determine_href(p.number, req, version, engine, path)

    @staticmethod
    def quote_href(p: Policy, version: str) -> views.QuoteHref:
        return lambda q, st=None: views.quote_href(p.number, version, q, st)

    @staticmethod
    def quote_link(p: Policy, version: str) -> Callable[[str], str]:
        """Where a reason's quote stands in the policy view; a quote of several
        passages ("… " marks an omission) links to its last, the statement's item."""
        return lambda q: views.quote_href(p.number, version, q.split(" … ")[-1])

    async def draft_version(self, p: Policy, ref: str | None) -> Version | None:
        """A version id's Version, or a kept draft's (version=draft:ID) read into ``p``."""
        if not ref or not ref.startswith("draft:"):
            return self.version_of(p, ref)
        resp = await self.ask("draft_get", {"draft_id": ref[len("draft:"):]}, b"")
        if resp.status_code != 200:
            raise CovkbError(_problem(resp))
        d = json.loads(bytes(resp.body))
        if d["policy"] != p.id:
            raise CovkbError(f"{ref} is a draft of {d['policy']}, not of {p.number}")
        return p.draft_text(d["text"], d["id"])

    async def decide(self, request: Request) -> tuple[Policy, dict[str, Any], dict[str, Any]]:
        """The page's policy, request and settings, and the worker's answer
        (or the one-line reason it gave none) in ``out``."""
        qp = request.query_params
        p = self.find(qp.get("policy") or self.default.id)
        engine = qp.get("engine") if qp.get("engine") in ENGINES else "prolog"
        out: dict[str, Any] = {"engine": engine, "version": qp.get("version") or None, "error": None, "det": None,
                               "raw": None}
        try:
            v = await self.draft_version(p, out["version"])
            vocab = p.data(v or p.latest()).vocabulary
            req = self.read_request(p, v, qp.multi_items(), vocab)
        except CovkbError as err:
            out["error"] = err.message
            vocab = p.data(p.latest()).vocabulary
            return p, self.read_request(p, None, qp.multi_items(), vocab, lenient=True), out
        out["vocab"] = vocab
        if req:
            resp = await self.ask("determine", {"policy": p.id, "engine": engine, "explain": True,
                                                "version": out["version"]}, json.dumps(req).encode())
            if resp.status_code == 200:
                out["raw"] = bytes(resp.body)
                out["det"] = json.loads(out["raw"])
            else:
                out["error"] = _problem(resp)
        return p, req, out

    def witness_links(self, p: Policy, report: dict[str, Any], a: str, b: str | None) -> dict[str, Any]:
        """Each change's witness opened in Determine on both sides (a draft's
        side cannot be: the service decides by version ids only), and its
        first region's answers and citations on each side; what it affects,
        the statements that decide it and what each side leaves open, in
        words (the JSON's ids read through covkb.wording)."""
        services = p.data(p.latest()).vocabulary.services
        words = Words.of(*(p.data(v).vocabulary for v in dict.fromkeys(x for x in (a, b) if x)))
        for c in report["changes"]:
            c["affects"] = [services.get(s, s) for s in c["services"]] + [f"CPT {code}" for code in c["codes"]]
            c["deciding"] = [words.statement_name(s) for s in c["statements"]]
            first = report["regions"][c["regions"][0]] if c.get("regions") else {}
            opened = first.get("open") or {}
            c["sides"] = [(report["from"], _side_words(words, first.get("before") or {}, opened.get("before")),
                           first.get("citations_before") or []),
                          (report["to"], _side_words(words, first.get("after") or {}, opened.get("after")),
                           first.get("citations_after") or [])]
            w = c.get("witness") or {}
            c["open_before"] = self.determine_href(p, w, a) if w else None
            c["open_after"] = self.determine_href(p, w, b) if w and b else None
            # a change that changes no outcome (what may be decided changed, the outcome did not): shown on request
            c["same_outcome"] = all((report["regions"][i].get("before") or {}).get("outcome") ==
                                    (report["regions"][i].get("after") or {}).get("outcome") for i in c.get("regions", ()))
        return report

    def check_links(self, p: Policy, res: dict[str, Any], ref: str | None) -> dict[str, Any]:
        """Each finding's witness opened in Determine, and what covkb decides for it in words."""
        outcomes = p.data(ref or p.latest()).vocabulary.outcomes
        for f in res["findings"]:
            f["open"] = self.determine_href(p, f["witness"], ref) if f.get("witness") and ref else None
            got = f.get("confirmed") or ""
            f["decided"] = (f"an invalid request ({got.removeprefix('error:').replace('_', ' ')})"
                            if got.startswith("error:") else lower(outcomes.get(got, got)))
        return res


def _side_words(w: Words, answer: dict[str, Any], opened: list[str] | None = None) -> dict[str, Any]:
    """One side's answer with what decides it and what it leaves open, in words
    (as the diff worded them with both sides' vocabularies, where it did: a
    draft's own facts are not in the installed versions')."""
    st = answer.get("statement")
    return {**answer, "rules_on": (w.statement(st) or f"statement {st}") if st else None,
            "open": opened if opened is not None else [w.unknown(m) for m in answer.get("missing") or ()]}


def _qualifier_values(p: Policy, q: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """A qualifier's values, each with the service it makes its code report."""
    data = p.data(p.latest())
    said = {atom(r[3]): data.vocabulary.services.get(atom(r[1]), atom(r[1]))
            for r in data.rows("code_qualifier") if atom(r[2]) == q}
    return [(v, f"{v.replace('_', ' ')} ({said[v]})" if v in said else v.replace("_", " ")) for v in values]


_FINDING_STATES = {"findings": "present", "absent_findings": "absent", "unknown_findings": "not stated"}


def _states(vocab: Any, settles: dict[str, Any]) -> str:
    """What an answer writes into the request, in the form's words."""
    parts = []
    for k, v in settles.items():
        f = vocab.fields.get(k)
        label = f.label if f else vocab.qualifiers.get(k, k)
        if isinstance(v, list):
            said = _FINDING_STATES.get(k)  # a finding list: each finding by its label, as the form states it
            parts += [f"{vocab.findings.get(x, x)}: {said}" if said else f"{label}: {x}" for x in v]
        else:
            parts.append(f"{label}: {'yes' if v is True else 'no' if v is False else v}")
    return "; ".join(parts)


def _determine_pages(app: FastAPI, site: _Site) -> None:
    """/, /determine and the determination as JSON and as a picture; a diff as a picture."""

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/determine", status_code=303)

    @app.get("/determine", include_in_schema=False)
    async def determine_page(request: Request) -> Response:
        qp = request.query_params
        blank = [k for k, v in qp.multi_items() if not v.strip()] + (["engine"] if qp.get("engine") == "prolog" else [])
        if forms.is_form(qp.multi_items()) and "hx-request" not in request.headers:
            address = site.form_address(request)  # a sent form: answer at the address of its request
            if address is not None:
                return RedirectResponse(address, status_code=303)
        if blank and "hx-request" not in request.headers:  # a form sends its empty fields: answer at the short address
            kept = [(k, v) for k, v in qp.multi_items() if v.strip() and not (k == "engine" and v == "prolog")]
            return RedirectResponse(f"/determine?{urlencode(kept)}", status_code=303)
        p, req, out = await site.decide(request)
        ctx = _determine_context(site, request, p, req, out)
        resp = site.page("determine", p, status=422 if out["error"] else 200, **ctx)
        if "hx-request" in request.headers:  # the address the browser shows: the request, without empty fields
            resp.headers["HX-Push-Url"] = site.determine_href(p, req, out["version"], out["engine"]) \
                if not out["error"] else f"/determine?{urlencode([(k, v) for k, v in qp.multi_items() if v.strip()])}"
        return resp

    @app.get("/determine/print", include_in_schema=False)
    async def determine_print(request: Request) -> Response:
        """The answer as a rationale letter to print or send: covkb.letter's Letter, as HTML."""
        p, req, out = await site.decide(request)
        if out["det"] is None:
            return site.page("error", p, status=422, message=out["error"] or "the page address states no request")
        lt = letter.letter(out["det"], req, p, today=site.today())
        back = site.determine_href(p, req, out["version"], out["engine"])
        return site.page("letter", p, letter=lt, back=back, engine=out["engine"],
                         quote_link=site.quote_link(p, out["det"]["version"]))

    @app.get("/determine.json", include_in_schema=False)
    async def determine_json(request: Request) -> Response:
        p, req, out = await site.decide(request)
        if out["raw"] is None:
            return Response(json.dumps({"error": out["error"] or "the page address states no request"}),
                            status_code=422, media_type="application/json")
        return Response(out["raw"], media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="determination.json"'})

    @app.get("/determine.svg", include_in_schema=False)
    async def determine_svg(request: Request) -> Response:
        """The derivation as a picture (Graphviz), its quotes linked to the policy view."""
        qp = request.query_params
        p = site.find(qp.get("policy") or site.default.id)
        try:
            vocab = p.data(site.version_of(p, qp.get("version")) or p.latest()).vocabulary
            req = request_from_query(qp.multi_items(), vocab)
        except CovkbError as err:
            return Response(err.message, status_code=422, media_type="text/plain")
        engine = qp.get("engine") if qp.get("engine") in ENGINES else "prolog"
        resp = await site.ask("picture", {"policy": p.id, "engine": engine, "version": qp.get("version") or None},
                              json.dumps(req).encode())
        return resp if resp.status_code == 200 else Response(_problem(resp), status_code=resp.status_code,
                                                             media_type="text/plain")

    @app.get("/revisions.svg", include_in_schema=False)
    async def revisions_svg(policy: str, a: str, b: str) -> Response:
        """A diff as a picture, each witness linked to the Determine page."""
        p = site.find(policy)
        resp = await site.ask("diff_picture", {"policy": p.id, "a": a, "b": b}, b"")
        return resp if resp.status_code == 200 else Response(_problem(resp), status_code=resp.status_code,
                                                             media_type="text/plain")


def _form_parts(site: _Site, p: Policy, req: dict[str, Any], version: str | None, vocab: Any) -> dict[str, Any]:
    """What the form asks: the services, qualifiers, fields and findings the
    policy reads (``covkb.reads``), and whatever else the request states."""
    try:
        r = site.reads(p, site.version_of(p, version))
    except CovkbError:
        r = site.reads(p, None)
    stated = set(req) | {req.get("service")} | {f for k in forms.FINDING_LISTS for f in req.get(k, ())}
    return {"services": sorted(((k, v) for k, v in vocab.services.items() if k in r.services or k in stated),
                               key=lambda kv: kv[1].lower()),
            "qualifiers": [(q, label, _qualifier_values(p, q, vocab.qualifier_values.get(q, ())))
                           for q, label in sorted(vocab.qualifiers.items()) if q in r.qualifiers or q in stated],
            "fields": sorted((f for f in vocab.fields.values() if f.name in r.fields or f.name in stated),
                             key=lambda f: f.name),
            "findings": sorted(((k, v) for k, v in vocab.findings.items() if k in r.findings or k in stated),
                               key=lambda kv: kv[1].lower())}


def _determine_context(site: _Site, request: Request, p: Policy, req: dict[str, Any],
                       out: dict[str, Any]) -> dict[str, Any]:
    """The Determine page's template context: the form, and the answer with
    its explanation, the questions that would change it and its citations."""
    vocab = out.get("vocab") or p.data(p.latest()).vocabulary
    det = out["det"]
    ctx: dict[str, Any] = {"req": req, "error": out["error"], "det": det, "engine": out["engine"],
                           "version": out["version"], "engines": ENGINES, "versions": p.versions,
                           **_form_parts(site, p, req, out["version"], vocab),
                           "codes": sorted(vocab.codes.items()), "outcomes": vocab.outcomes,
                           "finding_choice": forms.finding_choice, "silence": forms.SILENCE,
                           "nav_query": "?" + request.url.query if request.url.query else f"?policy={p.number}"}
    if det is not None:
        data = p.data(p.version(det["version"]))
        href = site.quote_href(p, det["version"])
        words = Words.of(data.vocabulary)
        lt = letter.letter(det, req, p, today=site.today())
        asked = {q.fact: q for q in lt.questions}  # the questions in words, by fact
        qs = []
        for q in views.questions(det, req, data, words):
            said = {a.value: a for a in asked[q.fact].answers} if q.fact in asked else {}
            answers = [{"value": a.value, "text": said[a.value].text if a.value in said else a.label,
                        "leads_to": said[a.value].leads_to if a.value in said else "",
                        "sets": _states(data.vocabulary, a.settles) if a.settles else "",
                        "href": site.determine_href(p, answered(req, a.clears, a.settles), out["version"],
                                                    out["engine"]) if a.settles is not None else None}
                       for a in q.answers]
            qs.append({"fact": q.fact, "text": asked[q.fact].text if q.fact in asked else q.label, "answers": answers})
        ctx.update(letter=lt, quote_link=site.quote_link(p, det["version"]),
                   print_href=site.determine_href(p, req, out["version"], out["engine"], "/determine/print"),
                   outcome_label=lt.decision,
                   tone=views.tone(det["outcome"], data.outcomes),
                   tree=views.tree(det["explanation"], data, href), questions=qs,
                   citations=[{**c, "href": href(c["quote"])} for c in det["citations"]],
                   json_href=site.determine_href(p, req, out["version"], out["engine"], "/determine.json"),
                   svg_href=site.determine_href(p, req, out["version"], out["engine"], "/determine.svg"))
    elif not req and out["error"] is None:
        ctx["examples"] = [(q.title, site.determine_href(p, q.request, q.version))
                           for q in site.named_queries(p) if site.query_version(p, q) is not None][:12]
    return ctx


def _policy_pages(app: FastAPI, site: _Site) -> None:
    """/policy: a version's text with what the encoding reads in it."""

    @app.get("/policy/{policy}", include_in_schema=False)
    async def policy_home(policy: str, version: str | None = None) -> RedirectResponse:
        """The version asked for (the version form), else the one in force today."""
        p = site.find(policy)
        if version in {v.id for v in p.versions}:
            return RedirectResponse(f"/policy/{p.number}/{version}", status_code=303)
        try:
            v, _ = p.version_in_force(site.today())
        except CovkbError:
            v = p.latest()
        return RedirectResponse(f"/policy/{p.number}/{v.id}", status_code=303)

    @app.get("/policy/{policy}/{version}", include_in_schema=False)
    async def policy_page(policy: str, version: str) -> HTMLResponse:
        p = site.find(policy)
        try:
            v = site.version_of(p, version)
        except CovkbError as err:
            return site.page("error", p, status=404, message=err.message)
        assert v is not None
        data = p.data(v)
        vocab = data.vocabulary
        view = views.literate(data, v.source.read_text(encoding="utf-8"),
                              lambda o: vocab.outcomes.get(o, o))
        by_statement: dict[str, list[tuple[str, str]]] = {}
        for q in site.named_queries(p):
            st = q.expect.get("statement")
            if st and site.query_version(p, q) == v.id:
                by_statement.setdefault(st, []).append((q.title, site.determine_href(p, q.request, q.version)))
        unknown = [(data.section_path(atom(s)), q, why) for s, q, why in data.rows("partial_version")]
        return site.page("policy", p, version=v, view=view, by_statement=by_statement, limits=p.known_limits(v),
                         versions=p.versions, unknown=unknown, source=v.source.name,
                         borrowed=not v.source.stem.startswith(v.id))


def _revision_pages(app: FastAPI, site: _Site) -> None:
    """/revisions: two versions, or a draft, checked and diffed."""

    @app.post("/revisions/draft", include_in_schema=False)
    async def revisions_draft(policy: str = Form(...), draft: UploadFile = File(...),
                              wording: UploadFile | None = File(None)) -> HTMLResponse:
        p = site.find(policy)
        name = (draft.filename or "draft").rsplit("/", 1)[-1][:80]
        body = await draft.read(MAX_DRAFT + 1)
        text = await wording.read(MAX_DRAFT + 1) if wording is not None and wording.filename else b""
        ctx: dict[str, Any] = {"a": None, "b": None, "versions": p.versions, "error": None, "report": None,
                               "checks": [], "draft": name, "show_all": False}
        if len(body) > MAX_DRAFT or len(text) > MAX_DRAFT:
            ctx["error"] = f"a draft and its wording are at most {MAX_DRAFT // 1024} KiB each"
            return site.page("revisions", p, status=413, **ctx)
        if site.drafting.locked():  # a draft holds an engine worker for seconds: one at a time, the rest keep deciding
            ctx["error"] = "another draft is being checked and diffed; try again in a minute"
            return site.page("revisions", p, status=503, **ctx)
        async with site.drafting:
            resp = await site.ask("draft", {"policy": p.id, "name": name, "draft_bytes": len(body)}, body + text)
        if resp.status_code != 200:
            ctx["error"] = f"draft {name}: {_problem(resp)}"
            return site.page("revisions", p, status=422, **ctx)
        out = json.loads(bytes(resp.body))
        ctx.update(a=out["base"], checks=[(f"draft {name}", site.check_links(p, out["check"], None))],
                   report=site.witness_links(p, out["diff"], out["base"], None))
        return site.page("revisions", p, **ctx)

    @app.get("/revisions", include_in_schema=False)
    async def revisions_page(request: Request) -> HTMLResponse:
        qp = request.query_params
        p = site.find(qp.get("policy") or site.default.id)
        ids = [v.id for v in p.versions]
        a = qp.get("a") or (ids[-2] if len(ids) > 1 else ids[-1])
        b = qp.get("b") or ids[-1]
        ctx: dict[str, Any] = {"a": a, "b": b, "versions": p.versions, "error": None, "report": None, "checks": [],
                               "draft": None, "show_all": qp.get("all") == "1"}
        try:
            site.version_of(p, a)
            site.version_of(p, b)
        except CovkbError as err:
            ctx["error"] = err.message
            return site.page("revisions", p, status=422, **ctx)
        for ref in dict.fromkeys((a, b)):
            resp = await site.ask("check", {"policy": p.id, "version": ref}, b"")
            if resp.status_code != 200:
                ctx["checks"].append((f"version {ref}", {"error": _problem(resp)}))
                continue
            ctx["checks"].append((f"version {ref}", site.check_links(p, json.loads(bytes(resp.body)), ref)))
        if a != b:
            resp = await site.ask("diff", {"policy": p.id, "a": a, "b": b}, b"")
            if resp.status_code == 200:
                ctx["report"] = site.witness_links(p, json.loads(bytes(resp.body)), a, b)
            else:
                ctx["error"] = _problem(resp)
        return site.page("revisions", p, **ctx)
