"""The draft workspace's pages: /drafts (the list), /drafts/new, and
/drafts/{id}, a draft's shareable page.

A draft's page holds its TOML text and a form for the common changes
(covkb.draft.edits writes each as the table it stands for); each save stores
a new revision and the page shows the draft reviewed: its check findings and
its diff against its base (or any version), in the Revisions page's words
(its partials), and its test requests decided, a failing one beside the
change that broke it.  The page carries the revision it was read at: a save
of an older one is refused by the store (409), and the page shows the newer
text beside the analyst's own, never overwriting either.

The pages keep nothing themselves: they ask the worker operations the REST
API runs (``draft_save``, ``draft_get``, ``draft_list``, ``draft_review``,
``draft_export``; covkb.service.ops) through the site's ``ask``.  Who may
open them is decided before they run (covkb.service.web_auth: an analyst
creates and changes drafts); each revision saved names the logged-in user as
its author (with ``--no-auth``, the name the form gives).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..draft import edits, scaffold
from ..errors import CovkbError
from ..facts import atom
from . import session

KEPT_REVIEWS = 32  # draft reviews the pages keep, by (draft, revision, version diffed against)
EDIT_FIELDS = ("kind", "statement", "outcome", "referral", "finding", "id", "group", "quote", "criterion", "code",
               "service", "from", "to", "number", "text")


class _Failed(Exception):
    """A worker's answer that is not 200: its status and one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def test_name(why: str) -> str:
    """A test request's name (a named query's file stem) from its sentence."""
    return (re.sub(r"[^a-z0-9]+", "_", why.lower()).strip("_") or "test")[:80]


class _Drafts:
    """The worker operations the pages use, each answer read as JSON."""

    def __init__(self, site: Any, problem: Callable[[Response], str]) -> None:
        self.site, self.problem = site, problem
        # reviews by (draft, revision, against): a page shown again (a form's mistake, the shared link)
        # is not reviewed again; a new revision is a new key, so none is served past an edit
        self.reviews: OrderedDict[tuple[str, int, str], dict[str, Any]] = OrderedDict()

    async def ask(self, op: str, args: dict[str, Any], body: Any = None) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        resp = await self.site.ask(op, args, raw)
        if resp.status_code not in (200, 201):
            raise _Failed(resp.status_code, self.problem(resp))
        return json.loads(bytes(resp.body))

    async def get(self, did: str) -> dict[str, Any]:
        return await self.ask("draft_get", {"draft_id": did})

    async def save(self, policy: str, draft: dict[str, Any], did: str | None = None,
                   revision: int | None = None) -> dict[str, Any]:
        return await self.ask("draft_save", {"policy": policy, "draft_id": did}, {**draft, "revision": revision})

    async def list(self, policy: str | None) -> list[dict[str, Any]]:
        out = await self.ask("draft_list", {"policy": policy})
        return out["drafts"] if isinstance(out, dict) else out

    async def review(self, did: str, revision: int) -> dict[str, Any]:
        return await self._kept((did, revision, ""), lambda: self.ask("draft_review", {"draft_id": did}))

    async def diff(self, policy: str, a: str, did: str, revision: int) -> dict[str, Any]:
        return await self._kept((did, revision, a),
                                lambda: self.ask("diff", {"policy": policy, "a": a, "b": f"draft:{did}"}))

    async def _kept(self, key: tuple[str, int, str], answer: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        if key not in self.reviews:
            self.reviews[key] = await answer()
            while len(self.reviews) > KEPT_REVIEWS:
                self.reviews.popitem(last=False)
        self.reviews.move_to_end(key)
        return self.reviews[key]


def _revision(form: Any) -> int | None:
    r = str(form.get("revision") or "")
    return int(r) if r.isdigit() else None


def _saved(d: dict[str, Any], **change: Any) -> dict[str, Any]:
    """What a save sends: the draft as kept, with these changed, by the logged-in user (where one is)."""
    out = {k: d.get(k) for k in ("text", "note", "author")}
    out["tests"] = list(d.get("tests") or [])
    return {**out, **change, "author": _author(str(change.get("author", out["author"]) or ""))}


def _author(given: str) -> str:
    """A revision's author: the logged-in user; with nobody logged in (--no-auth), the name given."""
    who = session.current.get()
    return who.user if who is not None else given


def mount(app: FastAPI, site: Any, problem: Callable[[Response], str]) -> None:
    """Add /drafts, /drafts/new, /drafts/{id} and its saves, edits, tests and export."""
    ops = _Drafts(site, problem)
    for name in ("drafts", "draft", "draft_new"):
        site.env.get_template(f"{name}.html")  # loaded at start, as the other pages'
    _list_routes(app, site, ops)
    _draft_routes(app, site, ops)


def _list_routes(app: FastAPI, site: Any, ops: _Drafts) -> None:
    """/drafts and /drafts/new."""

    @app.get("/drafts", include_in_schema=False)
    async def drafts_page(policy: str | None = None) -> HTMLResponse:
        p = site.find(policy) if policy else site.default
        try:
            rows = await ops.list(p.id if policy else None)
            error = None
        except _Failed as f:
            rows, error = [], f.message
        return site.page("drafts", p, rows=rows, error=error, only=bool(policy), status=200 if not error else 502,
                         nav_query=f"?policy={p.number}")

    @app.get("/drafts/new", include_in_schema=False)
    async def draft_new_page(policy: str | None = None) -> HTMLResponse:
        p = site.find(policy) if policy else site.default
        return site.page("draft_new", p, versions=p.versions, base=p.latest().id, error=None)

    @app.post("/drafts/new", include_in_schema=False)
    async def draft_create(request: Request) -> Response:
        form = await request.form()
        p = site.find(str(form.get("policy") or site.default.id))
        base = str(form.get("base") or p.latest().id)
        try:
            site.version_of(p, base)
            text = scaffold(p, base) if form.get("start") != "empty" else f'revision_of = "{base}"\n'
            d = await ops.save(p.id, {"text": text, "note": str(form.get("note") or ""),
                                      "author": _author(str(form.get("author") or "")), "tests": []})
        except (CovkbError, _Failed) as err:
            return site.page("draft_new", p, status=422, versions=p.versions, base=base, error=err.message)
        return RedirectResponse(f"/drafts/{d['id']}", status_code=303)


def _draft_routes(app: FastAPI, site: Any, ops: _Drafts) -> None:
    """/drafts/{id}: the page, its saves (text, common changes, test requests) and export."""

    async def show(did: str, *, against: str | None = None, status: int = 200, error: str | None = None,
                   conflict: str | None = None, mine: str | None = None, test_request: str = "") -> HTMLResponse:
        try:
            d = await ops.get(did)
        except _Failed as f:
            return site.page("error", site.default, status=f.status, message=f.message)
        p = site.find(d["policy"])
        ctx = await _review_context(site, ops, p, d, against)
        ctx.update(error=error or ctx.get("error"), conflict=conflict, mine=mine, test_request=test_request,
                   **_form_choices(p, d))
        return site.page("draft", p, status=status, nav_query=f"?policy={p.number}", **ctx)

    @app.get("/drafts/{did}", include_in_schema=False)
    async def draft_page(did: str, against: str | None = None, request: str = "") -> HTMLResponse:
        return await show(did, against=against or None, test_request=request)

    async def save(did: str, form: Any, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        """Save a new revision made by ``change`` from the draft as the page read it."""
        try:
            d = await ops.get(did)
        except _Failed as f:
            return site.page("error", site.default, status=f.status, message=f.message)
        revision = _revision(form)
        try:
            if revision is not None and revision != d["revision"]:
                raise _Failed(409, "stale")
            p = site.find(d["policy"])
            await ops.save(p.id, change(d), did, revision)
        except _Failed as f:
            if f.status == 409:  # someone saved since this page was read: show theirs beside ours
                return await show(did, status=409, mine=str(form["text"]) if "text" in form else None, conflict=(
                    "This draft was changed by someone else since you opened it: nothing was saved. "
                    "Its newer text is below; your text is kept beside it to copy from."))
            return await show(did, status=f.status, error=f.message)
        except (CovkbError, ValueError) as err:
            return await show(did, status=422, error=err.message if isinstance(err, CovkbError) else str(err),
                              test_request=str(form.get("request") or ""))
        return RedirectResponse(f"/drafts/{did}", status_code=303)

    @app.post("/drafts/{did}", include_in_schema=False)
    async def draft_save(did: str, request: Request) -> Response:
        form = await request.form()
        return await save(did, form, lambda d: _saved(d, text=str(form.get("text") or ""),
                                                       note=str(form.get("note", d.get("note") or ""))))

    @app.post("/drafts/{did}/edit", include_in_schema=False)
    async def draft_edit(did: str, request: Request) -> Response:
        form = await request.form()
        edit = {k: str(form[k]) for k in EDIT_FIELDS if str(form.get(k) or "").strip()}
        if form.get("referral_remove"):
            edit["referral"] = ""
        if str(form.get("criterion_of") or "").count(" ") == 1:  # the criterion chosen: "statement criterion"
            edit["statement"], edit["criterion"] = str(form["criterion_of"]).split(" ")

        def change(d: dict[str, Any]) -> dict[str, Any]:
            return _saved(d, text=edits.apply(d["text"], edit, site.find(d["policy"]), f"{did}.toml"))

        return await save(did, form, change)

    @app.post("/drafts/{did}/tests", include_in_schema=False)
    async def draft_tests(did: str, request: Request) -> Response:
        form = await request.form()

        def change(d: dict[str, Any]) -> dict[str, Any]:
            tests = list(d.get("tests") or [])
            if form.get("remove"):
                return _saved(d, tests=[t for t in tests if t.get("name") != form.get("remove")])
            return _saved(d, tests=tests + [_test_request(form)])

        return await save(did, form, change)

    @app.get("/drafts/{did}/export", include_in_schema=False)
    async def draft_export(did: str) -> Response:
        resp = await site.ask("draft_export", {"draft_id": did, "format": "tar"}, b"")
        if resp.status_code != 200:
            return site.page("error", site.default, status=resp.status_code, message=ops.problem(resp))
        name = re.sub(r"[^A-Za-z0-9_-]", "", did)
        return Response(bytes(resp.body), media_type=resp.media_type or "application/gzip",
                        headers={"Content-Disposition": f'attachment; filename="draft-{name}.tar.gz"'})


def _test_request(form: Any) -> dict[str, Any]:
    """A test request from the page's form: its request (JSON), expected outcome and why."""
    why = " ".join(str(form.get("why") or "").split())
    if not why:
        raise ValueError("why: say in a sentence why the draft should answer so")
    try:
        req = json.loads(str(form.get("request") or ""))
    except ValueError as exc:
        raise ValueError(f"request: not JSON ({exc.args[0].split(':')[0]})") from None
    if not isinstance(req, dict):
        raise ValueError("request: expected a JSON object, as the Determine page's JSON gives")
    outcome = str(form.get("outcome") or "")
    if not outcome:
        raise ValueError("outcome: choose the outcome the draft should decide")
    return {"name": str(form.get("name") or "").strip() or test_name(why), "request": req,
            "expect": {"outcome": outcome}, "why": why}


async def _review_context(site: Any, ops: _Drafts, p: Any, d: dict[str, Any], against: str | None) -> dict[str, Any]:
    """The draft reviewed, in the Revisions page's terms: checks, report (its
    diff with links) and its tests decided, each failing one beside its change."""
    did, ref = d["id"], f"draft:{d['id']}"
    ctx: dict[str, Any] = {"d": d, "a": d.get("revision_of") or "", "b": ref, "draft": ref, "show_all": False,
                           "report": None, "checks": [], "tests": [], "error": None, "review": None,
                           "versions": p.versions, "against": against,
                           "decide_href": f"/determine?policy={quote(p.number)}&version={quote(ref)}"}
    try:
        review = await ops.review(did, d["revision"])
    except _Failed as f:
        ctx["error"] = f.message
        return ctx
    ctx["review"] = review
    if review.get("error"):
        ctx["error"] = f"the draft does not compile: {review['error'].get('message')}"
        ctx["tests"] = review.get("tests") or []
        return ctx
    if review.get("check"):
        res = site.check_links(p, review["check"], None)
        for f in res["findings"]:  # a witness opens in Determine against the draft
            f["open"] = site.determine_href(p, f["witness"], ref) if f.get("witness") else None
        ctx["checks"] = [(f"draft {did}", res)]
    report = review.get("diff")
    if against and against != ctx["a"]:
        try:
            report = await ops.diff(p.id, against, did, d["revision"])
            ctx["a"] = against
        except _Failed as f:
            ctx["error"], report = f"diff against {against}: {f.message}", None
    tests = review.get("tests") or []
    if report is not None:
        ctx["report"] = _linked(site, p, report, ctx["a"], ref, tests if ctx["a"] == d.get("revision_of") else [])
    ctx["tests"] = tests
    return ctx


def _linked(site: Any, p: Any, report: dict[str, Any], a: str, ref: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    """The diff with the Revisions page's links; each change names the failing tests its regions hold."""
    report = site.witness_links(p, report, a, None)
    for c in report["changes"]:
        w = c.get("witness") or {}
        c["open_after"] = site.determine_href(p, w, ref) if w else None
        regions = set(c.get("regions") or ())
        c["failing_tests"] = [t["name"] for t in tests if t.get("passed") is False and _broke(c, regions, t)]
    return report


def _broke(change: dict[str, Any], regions: set[int], test: dict[str, Any]) -> bool:
    """The change holds the failing test's request: one of its regions (the review's), or, where the review
    places the request in no region, the statement that decides the request is one the change changes."""
    if test.get("regions"):
        return bool(regions & set(test["regions"]))
    return (test.get("actual") or {}).get("statement") in set(change.get("statements") or ())


def _form_choices(p: Any, d: dict[str, Any]) -> dict[str, Any]:
    """What the form for common changes offers: the base version's statements,
    outcomes, findings, criteria, codes and services (ids, with their words)."""
    try:
        data = p.data(p.version(d.get("revision_of") or p.latest().id))
    except CovkbError:
        data = p.data(p.latest())
    v = data.vocabulary
    criteria: dict[str, list[str]] = {}
    for r in data.rows("criterion") + data.rows("criterion_group"):
        criteria.setdefault(atom(r[0]), []).append(atom(r[1]))
    return {"statements": sorted(v.statements.items()), "all_outcomes": list(v.outcomes.items()),
            "findings": sorted(v.findings.items(), key=lambda kv: kv[1].lower()),
            "criteria": sorted((s, c) for s, cs in criteria.items() for c in cs),
            "codes": sorted(v.codes.items()), "services": sorted(v.services.items(), key=lambda kv: kv[1].lower())}

