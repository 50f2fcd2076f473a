"""The HTTP routes of the draft workspace (covkb.workspace, kept in covkb.store).

    POST /v1/drafts                 a new draft: {policy, text, note, author, tests} in, the draft out (201)
    GET  /v1/drafts[?policy=]       the drafts kept, last updated first (without their text)
    GET  /v1/drafts/{id}            one draft, its latest revision (?history=true: every revision)
    PUT  /v1/drafts/{id}            a new revision: {text, note, author, tests, revision} (409 when stale)
    POST /v1/drafts/{id}/edits      a new revision made by one common change (the draft page's form,
                                    covkb.draft.edits): {edit, revision, note} (409 when stale)
    GET  /v1/drafts/{id}/review     its check, its diff against its base, its test requests decided
    GET  /v1/drafts/{id}/export     the kb/ files (and named queries) that make it a version:
                                    a .tar.gz, or JSON with ?format=json

A draft is read as a version wherever a version is asked for: ``version=draft:ID``
(POST /v1/determine, POST /v1/batch, GET check, diff's a or b, compare's POLICY@draft:ID).
Every operation runs in an engine worker (ops.Worker.op_draft_*: the web pages ask the same
ones), never from a cache.  Bad input is an RFC 9457 problem: 404 for an unknown id, 409 for a
stale revision, 413 for a draft over the size limit, 422 for a draft or test that is refused.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.responses import Response

SAVE_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["text"],
    "properties": {
        "policy": {"type": "string", "description": "the policy it revises (POST; a PUT keeps the draft's)"},
        "text": {"type": "string", "description": "the draft in covkb's TOML draft language (nothing in it runs)"},
        "note": {"type": "string", "description": "the author's note"},
        "author": {"type": "string"},
        "tests": {"type": "array", "description": "test requests, as named queries have them",
                  "items": {"type": "object", "required": ["name", "request", "expect"], "properties": {
                      "name": {"type": "string"}, "request": {"type": "object"},
                      "expect": {"type": "object"}, "why": {"type": "string"}}}},
        "revision": {"type": "integer", "description": "PUT: the revision edited (409 when someone saved since)"},
    }}}}}}

EDIT_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["edit", "revision"],
    "properties": {
        "edit": {"type": "object", "required": ["kind"], "description": (
            "kind outcome {statement, outcome, referral?}; add_criterion {statement, finding, quote, id?, group?, "
            "criteria?}; remove_criterion {statement, criterion}; list_code {code, service}; move_code {code, "
            "from, to}; reword {statement, quotes | number and text}")},
        "revision": {"type": "integer", "description": "the revision edited (409 when someone saved since)"},
        "note": {"type": "string", "description": "the revision's note (else the draft's)"},
    }}}}}}


def mount(app: FastAPI, front: Any, answers: Any) -> None:
    """Add the draft routes; front reads policy references, answers runs operations."""

    def caller(request: Request) -> Optional[str]:
        claims = request.scope.get("state", {}).get("caller") or {}  # the verified token's claims (auth.py)
        return claims.get("sub") or claims.get("client_id")

    @app.post("/v1/drafts", summary="Keep a new draft revision of a policy", status_code=201, openapi_extra=SAVE_DOC,
              description="The draft is checked on saving (its findings kept with it); one that does not compile "
                          "is kept all the same, its one-line error its finding. `version=draft:ID` then decides "
                          "requests by it.")
    async def create(request: Request, policy: Optional[str] = None) -> Response:
        args = {"policy": front.policy_or_404(policy).id if policy else None, "author": caller(request)}
        return await answers.run("draft_save", args, await request.body(), slow=True)

    @app.get("/v1/drafts", summary="The drafts kept, last updated first")
    async def listing(policy: Optional[str] = None) -> Response:
        return await answers.run("draft_list", {"policy": front.policy_or_404(policy).id if policy else None})

    @app.get("/v1/drafts/{draft_id}", summary="One draft as kept (its latest revision)")
    async def read(draft_id: str, history: bool = False) -> Response:
        return await answers.run("draft_get", {"draft_id": draft_id, "history": history}, slow=True)

    @app.put("/v1/drafts/{draft_id}", summary="Save a new revision of a draft", openapi_extra=SAVE_DOC)
    async def update(draft_id: str, request: Request) -> Response:
        return await answers.run("draft_save", {"draft_id": draft_id, "author": caller(request)},
                                 await request.body(), slow=True)

    @app.post("/v1/drafts/{draft_id}/edits", summary="Save a new revision made by one common change",
              openapi_extra=EDIT_DOC,
              description="The change the draft page's form makes (an outcome, a criterion added or removed, a "
                          "code listed or moved, a quote reworded), written into the draft's TOML as the table it "
                          "stands for; the result must compile, else nothing is saved (422, one line).")
    async def edit(draft_id: str, request: Request) -> Response:
        return await answers.run("draft_edit", {"draft_id": draft_id, "author": caller(request)},
                                 await request.body(), slow=True)

    @app.get("/v1/drafts/{draft_id}/review",
             summary="A draft's check, its diff against its base, and its test requests decided",
             description="Each failing test names the diff regions that hold its request: the change that broke it.")
    async def review(draft_id: str, engine: str = "prolog") -> Response:
        return await answers.run("draft_review", {"draft_id": draft_id, "engine": engine}, slow=True)

    @app.get("/v1/drafts/{draft_id}/export", summary="The kb/ files and named queries that would make a draft a version",
             description="A .tar.gz to unpack at the top of a covkb checkout (kb/ and queries/), or "
                         "JSON {version, files: {path: text}} with ?format=json.")
    async def export(draft_id: str, format: str = "tar") -> Response:
        resp = await answers.run("draft_export", {"draft_id": draft_id, "format": format}, slow=True)
        if resp.status_code == 200 and format == "tar":
            resp.headers["Content-Disposition"] = f'attachment; filename="draft-{draft_id}.tar.gz"'
        return resp
