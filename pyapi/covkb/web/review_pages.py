"""The reviewer's page: /reviews, the prior-authorization requests pended
for a person (Da Vinci PAS, covkb.service.pas), and a form on each to
approve or deny its pended items with a reason.

The page keeps nothing itself: it asks the worker operations the REST API
runs (``reviews`` for GET /v1/reviews, ``review`` for POST
/v1/reviews/{id}; covkb.service.ops) through the site's ``ask``, so a
decision recorded here is the one ``Claim/$inquire`` then returns.  Who may
open it is decided before it runs (covkb.service.web_auth: the reviewer
role); the review names the logged-in user as its reviewer (with
``--no-auth``, the name the form gives).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import session


def mount(app: FastAPI, site: Any, problem: Callable[[Response], str]) -> None:
    """Add /reviews and its form's POST /reviews/{id}."""
    site.env.get_template("reviews.html")  # loaded at start, as the other pages'

    async def listing() -> tuple[list[dict[str, Any]], str | None]:
        resp = await site.ask("reviews", {}, b"")
        if resp.status_code != 200:
            return [], problem(resp)
        return json.loads(bytes(resp.body))["reviews"], None

    async def show(*, status: int = 200, error: str | None = None, done: str | None = None) -> HTMLResponse:
        rows, failed = await listing()
        return site.page("reviews", site.default, rows=rows, error=error or failed, done=done,
                         status=status if not failed else 502)

    @app.get("/reviews", include_in_schema=False)
    async def reviews_page(done: str | None = None) -> HTMLResponse:
        return await show(done=done)

    @app.post("/reviews/{key}", include_in_schema=False)
    async def review(key: str, request: Request) -> Response:
        form = await request.form()
        who = session.current.get()
        reviewer = who.user if who is not None else str(form.get("reviewer") or "")
        body = {"action": str(form.get("action") or ""), "reason": str(form.get("reason") or ""), "reviewer": reviewer}
        base_url = str(request.base_url).rstrip("/")
        resp = await site.ask("review", {"key": key, "base_url": base_url, "client": None}, json.dumps(body).encode())
        if resp.status_code != 200:
            return await show(status=resp.status_code, error=problem(resp))
        return RedirectResponse(f"/reviews?done={quote(key)}", status_code=303)
