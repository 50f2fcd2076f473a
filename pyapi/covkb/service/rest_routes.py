"""The REST v1 routes besides /v1/determine (which app.py answers on its
hot path): the batch, the policies, their vocabulary, check, diff, compare,
and the explanations a CRD card links to.

    /v1/batch  /v1/policies  /v1/policies/{p}/vocabulary
    /v1/policies/{p}/versions/{v}/check  /v1/policies/{p}/diff  /v1/compare
    /v1/explanations/{token}

Mounted by app.create_app as pas_routes and dtr_routes are: ``front`` reads
policy references (app._Front), ``answers`` runs operations and remembers
their answers (app._Answers).
"""

from __future__ import annotations

import asyncio
import json
from enum import Enum
from typing import Any, AsyncIterator, Optional

from fastapi import FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from ..errors import CovkbError
from .problems import PROBLEM, dumps, problem


class EngineName(str, Enum):
    prolog = "prolog"
    asp = "asp"


class BodyTooLarge(Exception):
    """A body over its limit (app.BodyLimit), noticed while it streams in."""

    def __init__(self, limit: int) -> None:
        self.limit = limit


def mount(app: FastAPI, front: Any, answers: Any) -> None:
    """Add the batch, policy and explanation routes."""
    _batch_route(app, front, answers)
    _policy_routes(app, front, answers)


def _batch_route(app: FastAPI, front: Any, answers: Any) -> None:
    """REST v1: /v1/batch, JSON Lines streamed through the engine workers a chunk at a time."""
    settings, pool = answers.settings, answers.pool

    @app.post("/v1/batch", summary="JSON Lines in, JSON Lines out, one record per line, in order",
              openapi_extra={"requestBody": {"required": True, "content": {"application/x-ndjson": {
                  "schema": {"type": "string", "description": "one request JSON object per line"}}}}})
    async def batch(request: Request, engine: EngineName = EngineName.prolog, policy: Optional[str] = None,
                    version: Optional[str] = None,
                    keep: list[str] = Query([], description="fields copied into each record (covkb batch --keep)")
                    ) -> Response:
        from ..batch_lines import check_keep

        if policy is not None:
            policy = front.policy_or_404(policy).id
        try:
            kept = list(check_keep(keep))
        except CovkbError as err:
            return Response(dumps(problem(422, err.code, err.message)), status_code=422, media_type=PROBLEM)
        args = {"policy": policy, "engine": engine.value, "version": version, "keep": kept}

        async def records() -> AsyncIterator[bytes]:
            in_flight: list[tuple[asyncio.Future[tuple[int, str, bytes]], int, int]] = []
            read = 0
            try:
                try:
                    async for first, chunk in _line_chunks(request, settings.batch_chunk):
                        n = chunk.count(b"\n") + 1
                        task = asyncio.ensure_future(
                            pool.call("batch", {**args, "first_line": first}, chunk, timeout=settings.slow_timeout))
                        in_flight.append((task, first, n))
                        read = first + n - 1
                        while len(in_flight) > pool.size:
                            yield await _chunk_out(*in_flight.pop(0))
                    over = None
                except BodyTooLarge as exc:  # a streamed body over the limit: said in the last record, never cut
                    over = exc
                while in_flight:
                    yield await _chunk_out(*in_flight.pop(0))
                if over is not None:
                    yield dumps({"error": {"code": "too_large", "message": (
                        f"the body is over {over.limit} bytes: lines 1 to {read} were read and answered above, "
                        "the rest was not read; send it in another batch")}, "lines_read": read}) + b"\n"
            finally:
                for t, _, _ in in_flight:
                    t.cancel()

        return _StreamingBody(records(), media_type="application/x-ndjson")


async def _line_chunks(request: Request, size: int) -> AsyncIterator[tuple[int, bytes]]:
    """A streamed body's lines, size at a time, each chunk with its first
    line's number.  Linear in the body however long its lines: a piece is
    scanned once, and of a line over MAX_REQUEST_BYTES only the first
    MAX_REQUEST_BYTES + 1 bytes are kept (enough for its error record)."""
    from ..limits import MAX_REQUEST_BYTES

    keep = MAX_REQUEST_BYTES + 1
    buf = bytearray()
    line = 1
    lines: list[bytes] = []
    async for piece in request.stream():
        start = 0
        while (end := piece.find(b"\n", start)) != -1:
            if len(buf) < keep:
                buf += piece[start:min(end, start + keep - len(buf))]
            lines.append(bytes(buf))
            buf.clear()
            start = end + 1
        if len(buf) < keep:
            buf += piece[start:min(len(piece), start + keep - len(buf))]
        while len(lines) >= size:
            yield line, b"\n".join(lines[:size])
            line += size
            del lines[:size]
    if buf:
        lines.append(bytes(buf))
    if lines:
        yield line, b"\n".join(lines)


def _policy_routes(app: FastAPI, front: Any, answers: Any) -> None:
    """REST v1: the policies, their vocabulary, check, diff, compare; explanations."""
    run = answers.run

    @app.get("/v1/policies", summary="The installed policies, each with its versions")
    async def policies() -> list[dict[str, Any]]:
        return [{"policy": p.id, "number": p.number, "title": p.title, "default": p.id == front.default.id,
                 "versions": [{"version": v.id, "effective": v.effective.isoformat() if v.effective else None,
                               "next_review": v.next_review.isoformat() if v.next_review else None,
                               "known": v.knowledge} for v in p.versions]} for p in front.installed]

    @app.get("/v1/policies/{policy}/vocabulary", summary="Every id a request may use, and the request fields")
    async def vocabulary(policy: str) -> dict[str, Any]:
        p = front.policy_or_404(policy)
        v = p.data(p.latest()).vocabulary
        return {
            "request_fields": {f.name: {"kind": f.kind, "label": f.label, "values": list(f.values) if f.states_fact else None,
                                        "minimum": f.minimum, "maximum": f.maximum, "unit": f.unit,
                                        "code_system": f.code_system} for f in v.fields.values()},
            "outcomes": v.outcomes, "services": v.services, "findings": v.findings, "patient_facts": v.patient_facts,
            "qualifiers": v.qualifiers, "qualifier_values": {k: list(x) for k, x in v.qualifier_values.items()},
            "cpt_codes": v.codes,
        }

    @app.get("/v1/policies/{policy}/versions/{version}/check", summary="covkb check of one version")
    async def check(policy: str, version: str) -> Response:
        p = front.policy_or_404(policy)
        return await run("check", {"policy": p.id, "version": version}, slow=True, cache_key=("check", p.id, version))

    @app.get("/v1/policies/{policy}/diff", summary="Which cases change between two versions")
    async def diff(policy: str, a: str, b: str) -> Response:
        p = front.policy_or_404(policy)
        return await run("diff", {"policy": p.id, "a": a, "b": b}, slow=True, cache_key=("diff", p.id, a, b))

    @app.get("/v1/compare", summary="Where two payers decide the same requests differently (POLICY[@VERSION])")
    async def compare(a: str, b: str) -> Response:
        for ref in (a, b):
            front.policy_or_404(ref.partition("@")[0])
        return await run("compare", {"a": a, "b": b}, slow=True, cache_key=("compare", a, b))

    @app.get("/v1/explanations/{token}", summary="The determination behind a CRD coverage assertion, explained",
             description="JSON for an API client; a browser (Accept ranking text/html first) is sent to the "
                         "web page of the same answer.")
    async def explanation(token: str, request: Request, engine: Optional[EngineName] = None) -> Response:
        from .negotiation import wants_html

        vary = {"Vary": "Accept"}
        if wants_html(request.headers.get("accept")):
            page = _explanation_page(front, token, engine.value if engine else None)
            if page is not None:
                return RedirectResponse(page, status_code=303, headers=vary)
        resp = await answers.remembered("explain", {"token": token, "engine": engine.value if engine else None}, b"")
        resp.headers.update(vary)
        return resp


def _explanation_page(front: Any, token: str, engine: str | None) -> str | None:
    """The web page's address of the answer a CRD explanation token names
    (the Determine page decides it again, by the same rule); None when the
    token names no installed policy (the JSON answer then says so)."""
    from ..web.forms import determine_href
    from . import crd

    try:
        data = crd.untoken(token)
    except CovkbError:
        return None
    p = front.by_ref.get(str(data.get("policy")))
    return None if p is None else determine_href(p.number, data["request"], None, engine or data.get("engine"))


class _StreamingBody(StreamingResponse):
    """A streamed answer whose generator itself reads the request body: it
    must be the only reader of ``receive`` (Starlette's disconnect listener
    would take the body's messages), so this one does not listen."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.stream_response(send)


async def _chunk_out(task: asyncio.Future[tuple[int, str, bytes]], first: int, count: int) -> bytes:
    """A decided chunk's records; where the engine could not answer, an error
    record for each of its lines (lines in == lines out, always)."""
    try:
        status, media, out, _ = await task
        if status == 200:
            return out
        err = json.loads(out)
        error = {"code": err.get("code", "internal"), "message": err.get("detail", "")}
    except CovkbError as exc:
        error = exc.to_dict()
    return b"".join(dumps({"line": first + i, "error": error}) + b"\n" for i in range(count))
