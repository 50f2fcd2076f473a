"""The HTTP routes of Da Vinci PAS (service/pas.py) and of a person's review.

    POST /fhir/Claim/$submit    a PAS request Bundle in, a PAS response Bundle out
    POST /fhir/Claim/$inquire   a PAS inquiry Bundle in, Parameters with the decisions found out
    GET  /v1/reviews            the preauthorizations pended for a person
    POST /v1/reviews/{id}       a person approves or denies them, with a reason

Every operation runs in an ops.Worker (op_pas_*; $submit in the server
process itself inline, as a CDS call, the others in its engine worker),
never from a cache: each reads or writes covkb.store.  Bad input is answered with
an RFC 9457 problem document, in one line.  Notifying the provider once a
person has reviewed (PAS subscriptions) is out of scope: the provider asks
again with $inquire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.responses import Response


def mount(app: FastAPI, front: Any, answers: Any, base_url: Callable[[], str]) -> None:
    """Add the PAS and review routes; front reads policy references, answers runs operations,
    base_url() is the base of the links covkb writes (--public-url)."""

    def policy_id(ref: Optional[str]) -> Optional[str]:
        return front.policy_or_404(ref).id if ref is not None else None

    @app.post("/fhir/Claim/$submit", summary="Da Vinci PAS: a prior-authorization request decided from the policy",
              description="A PAS request Bundle (a Claim with use preauthorization first) in; a PAS response "
                          "Bundle out: per item its review action (approved, denied with the reason and the "
                          "policy's citations, pended with the questionnaire, pended for a person), the "
                          "preauthorization reference and the explanation link.")
    async def submit(request: Request, policy: Optional[str] = None, engine: str = "prolog") -> Response:
        if engine not in ("prolog", "asp"):
            from fastapi import HTTPException

            raise HTTPException(422, f"engine is prolog or asp, not {engine!r}")
        args = {"policy": policy_id(policy), "engine": engine, "base_url": base_url()}
        return await answers.run("pas_submit", args, await request.body())

    @app.post("/fhir/Claim/$inquire", summary="Da Vinci PAS: the decisions kept for a prior-authorization request",
              description="A PAS inquiry Bundle in (its Claim's insurance.preAuthRef, or its identifier); a "
                          "Parameters resource out, one `return` Bundle per decision found, with a person's "
                          "review where there is one.")
    async def inquire(request: Request) -> Response:
        return await answers.run("pas_inquire", {"base_url": base_url()}, await request.body())

    @app.get("/v1/reviews", summary="The prior-authorization requests pended for a person's review")
    async def reviews() -> Response:
        return await answers.run("reviews", {})

    @app.post("/v1/reviews/{key}", summary="A person's review: approve or deny the pended items, with a reason",
              description='JSON in: {"action": "approve" | "deny", "reason": "...", "reviewer": "..."}; the '
                          "PAS inquiry response Bundle as it now stands out.")
    async def review(key: str, request: Request) -> Response:
        caller = request.scope.get("state", {}).get("caller") or {}  # the verified token's claims (auth.py)
        client = caller.get("sub") or caller.get("client_id")
        return await answers.run("review", {"key": key, "base_url": base_url(), "client": client},
                                 await request.body())
