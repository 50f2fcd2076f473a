"""The DTR routes under /fhir (covkb.service.dtr does the FHIR; the engine
workers run it, covkb.service.ops): ``Questionnaire/$questionnaire-package``,
``Questionnaire/$next-question``, ``QuestionnaireResponse/$determine`` (a
completed QuestionnaireResponse decided, with the full explanation), and
``GET Questionnaire/{id}`` and ``GET Questionnaire?url=`` (a generated
Questionnaire read back by its id or canonical URL, as a DTR client fetches
the one CRD named).  Their
answers are never remembered: a context names what the store holds now.
Bad input gets an RFC 9457 problem document (covkb.service.problems)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Optional

from fastapi import FastAPI, Query, Request, Response

ENGINE_HELP = "prolog or asp"
POLICY_HELP = "An installed policy's id (default: the default policy)"
ADAPTIVE_HELP = "true: an adaptive Questionnaire with no items yet, whose questions $next-question asks one at a time"


def mount(app: FastAPI, *, policy_id: Callable[[Optional[str]], str],
          run: Callable[..., Awaitable[Response]], base_url: Callable[[], str]) -> None:
    """Add the routes; policy_id(ref) names an installed policy (404 else), run(op, args, body) asks the workers."""

    def args(engine: str, policy: Optional[str], *, with_base: bool = True) -> dict[str, Any]:
        out = {"policy": policy_id(policy), "engine": engine}
        return {**out, "base_url": base_url()} if with_base else out

    @app.post("/fhir/Questionnaire/$questionnaire-package", summary="DTR: the questionnaire an order needs, "
              "generated from the policy")
    async def questionnaire_package(request: Request, engine: str = Query("prolog", description=ENGINE_HELP),
                                    policy: Optional[str] = Query(None, description=POLICY_HELP),
                                    adaptive: bool = Query(False, description=ADAPTIVE_HELP)) -> Response:
        return await run("dtr_package", {**args(engine, policy), "adaptive": adaptive}, await request.body())

    @app.post("/fhir/Questionnaire/$next-question", summary="SDC adaptive form: the next question that can "
              "change the decision, or completed")
    async def next_question(request: Request, engine: str = Query("prolog", description=ENGINE_HELP),
                            policy: Optional[str] = Query(None, description=POLICY_HELP)) -> Response:
        return await run("dtr_next", args(engine, policy), await request.body())

    @app.post("/fhir/QuestionnaireResponse/$determine", summary="A completed QuestionnaireResponse, decided "
              "with the full explanation")
    async def questionnaire_response_determine(request: Request,
                                               engine: str = Query("prolog", description=ENGINE_HELP),
                                               policy: Optional[str] = Query(None, description=POLICY_HELP)) -> Response:
        return await run("dtr_decide", args(engine, policy, with_base=False), await request.body())

    @app.get("/fhir/Questionnaire", summary="DTR: the Questionnaire of a canonical URL covkb generated (a searchset)")
    async def questionnaire_by_url(url: str = Query(..., description="The Questionnaire's canonical URL "
                                                                     "(CRD's doc-needed names it), |version allowed")
                                   ) -> Response:
        return await run("questionnaire", {"url": url, "base_url": base_url()})

    @app.get("/fhir/Questionnaire/{qid}", summary="DTR: a Questionnaire covkb generated, by its id")
    async def questionnaire_by_id(qid: str) -> Response:
        return await run("questionnaire", {"qid": qid, "base_url": base_url()})
