"""DTR as FHIR (covkb.service.dtr): the generated Questionnaire, the package,
the adaptive form and the QuestionnaireResponse that decides.

Every resource covkb emits is validated with fhir.resources' R4B models; the
guides' invariants and required elements for the profiles used are written
here as tests (the HL7 validator is not available): FHIR R4 Questionnaire
que-7, que-12 and the unique linkIds; DTR STU 2 dtrq-2, dtrq-4, dtrb-1, dtr-1,
dtrx-1, the package Bundle's slices (one Questionnaire, one
QuestionnaireResponse), dtr-questionnaireresponse's required extensions
(qr-coverage, intendedUse), questionnaire and subject, the output
Parameters' names; SDC's enableWhenExpression is evaluated with fhirpathpy
and must show an item exactly when covkb.questionnaire does.  The routes run
on a real server on 127.0.0.1; a generated Questionnaire is read back by GET.
"""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhirpathpy import evaluate
from fhirpathpy.models import models

from covkb import KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.questionnaire import Item, Plan, plan, request_of
from covkb.service import dtr

BASE = "http://127.0.0.1:8000"
POLICIES = [*(str(p) for p in policy_folders()), str(Path(__file__).parent / "policies" / "example_pap")]
CPT = "http://www.ama-assn.org/go/cpt"


@functools.cache
def _kb(policy: str) -> KnowledgeBase:
    return KnowledgeBase(policy=policy)


def _undecided() -> list[Any]:
    return [pytest.param(p, q, id=f"{Path(p).name}-{q.name}") for p in POLICIES
            for q in load_queries(Policy(policy=p).queries_dir) if q.expect.get("outcome") == "insufficient_information"
            and q.version is None]


def _plan(policy: str, query: Any) -> Plan:
    return plan(_kb(policy), query.request)


def _all_answers(p: Plan) -> list[dict[str, Any]]:
    """Every combination of answers, an item left unanswered among them."""
    choices = [[None, *(o.value for o in i.options)] for i in p.items]
    return [{i.link_id: v for i, v in zip(p.items, combo) if v is not None} for combo in itertools.product(*choices)]


def response_with(q: dict[str, Any], answers: dict[str, Any], p: Plan) -> dict[str, Any]:
    """A QuestionnaireResponse answering q, as a DTR client writes it (each answer's origin: manual, with
    its author, dtrx-1)."""
    items = []
    for item in p.items:
        if item.link_id not in answers:
            continue
        v = answers[item.link_id]
        value = {"valueCoding": {"system": dtr.code_system(BASE, p), "code": str(v)}} if item.kind == "choice" else \
            {"valueInteger": v} if item.kind == "integer" else {"valueBoolean": v}
        origin = {"url": dtr.ORIGIN, "extension": [{"url": "source", "valueCode": "manual"},
                                                   {"url": "author", "valueReference": {"reference": "Practitioner/1"}}]}
        items.append({"linkId": item.link_id, "answer": [{**value, "extension": [origin]}]})
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": f"{q['url']}|{q['version']}",
            "subject": {"reference": "Patient/p1"}, **({"item": items} if items else {})}


# -- the Questionnaire ------------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "query"), _undecided())
def test_the_questionnaire_is_valid_fhir_and_keeps_the_guides_invariants(policy: str, query: Any) -> None:
    p = _plan(policy, query)
    q = dtr.questionnaire(p, BASE)
    Questionnaire.model_validate(q)
    assert q["meta"]["profile"] == [dtr.STD_PROFILE] and q["subjectType"] == ["Patient"]
    assert q["url"] and q["version"] == p.version and q["status"] == "active"
    seen: list[str] = []
    for item in _items(q):
        assert item["linkId"] not in seen, "linkIds are unique"
        seen.append(item["linkId"])
        assert item.get("text"), "dtr-base-questionnaire: item.text 1..1"
        assert item["type"] != "reference", "dtrq-4"
        if item["type"] in ("choice", "open-choice"):
            assert item.get("answerOption"), "dtrq-2"
        for ew in item.get("enableWhen", ()):
            assert ew["question"] in seen, "enableWhen names an earlier question"
            if ew["operator"] == "exists":
                assert "answerBoolean" in ew, "que-7"
        if len(item.get("enableWhen", ())) > 1:
            assert item.get("enableBehavior") in ("all", "any"), "que-12"
    asked = [i for i in q.get("item", ())]
    assert [i["linkId"] for i in asked] == [i.link_id for i in p.items]
    for i, item in zip(p.items, asked):
        if i.help:  # the policy's quote, as an SDC help item
            (help_,) = item["item"]
            assert help_["type"] == "display" and i.help[0][1] in help_["text"]
            assert help_["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "help"


def _items(q: dict[str, Any]) -> list[dict[str, Any]]:
    out, stack = [], list(reversed(q.get("item", [])))
    while stack:
        it = stack.pop()
        out.append(it)
        stack += list(reversed(it.get("item", [])))
    return out


@pytest.mark.slow  # every answer set of every undecided query: make test, not test-fast
@pytest.mark.parametrize(("policy", "query"), _undecided())
def test_enable_when_shows_an_item_exactly_when_it_can_change_the_outcome(policy: str, query: Any) -> None:
    """FHIR's enableWhen (as R4 defines each operator) or the SDC expression
    (evaluated by fhirpathpy) agree with covkb's relevance for every
    combination of answers, unanswered items among them."""
    p = _plan(policy, query)
    q = dtr.questionnaire(p, BASE)
    by_id = {i["linkId"]: i for i in q.get("item", ())}
    for answers in _all_answers(p):
        qr = response_with(q, answers, p)
        for item in p.items:
            assert _shown(by_id[item.link_id], qr) == item.enabled(answers), (item.link_id, answers)


def _shown(item: dict[str, Any], qr: dict[str, Any]) -> bool:
    expr = next((e["valueExpression"]["expression"] for e in item.get("extension", ())
                 if e["url"] == dtr.ENABLE_EXPRESSION), None)
    if expr is not None:
        return evaluate(qr, expr, {"resource": qr}, model=models["r4"]) == [True]
    whens = item.get("enableWhen")
    if not whens:
        return True
    results = [_holds(w, qr) for w in whens]
    return any(results) if item.get("enableBehavior") == "any" else all(results)


def _holds(w: dict[str, Any], qr: dict[str, Any]) -> bool:
    """One enableWhen, as FHIR R4 defines its operators."""
    answers = [a for it in qr.get("item", ()) if it["linkId"] == w["question"] for a in it["answer"]]
    want = next(v for k, v in w.items() if k.startswith("answer"))
    values = [a.get("valueBoolean", a.get("valueInteger", (a.get("valueCoding") or {}).get("code"))) for a in answers]
    want = want["code"] if isinstance(want, dict) else want
    op = w["operator"]
    if op == "exists":
        return bool(values) == want
    if op == "!=":
        return all(v != want for v in values)
    return any({"=": v == want, ">=": v >= want, "<": v < want, ">": v > want, "<=": v <= want}[op] for v in values)


@pytest.mark.slow  # every answer set of every undecided query: make test, not test-fast
@pytest.mark.parametrize(("policy", "query"), _undecided())
def test_a_completed_response_maps_back_to_the_request(policy: str, query: Any) -> None:
    kb = _kb(policy)
    p = _plan(policy, query)
    q = dtr.questionnaire(p, BASE)
    assert dtr.plan_of(kb, q).known_digest == p.known_digest
    for n, answers in enumerate(_all_answers(p)[:64]):
        qr = response_with(q, answers, p)
        QuestionnaireResponse.model_validate(qr)
        assert dtr.questionnaire_response_request(p, qr) == request_of(p, answers)
        if n < 4:  # read through the Questionnaire alone, its plan made again from the kb (the costly way)
            assert dtr.questionnaire_response_request(q, qr, kb=kb) == request_of(p, answers)


def test_a_response_naming_an_unasked_item_or_an_unknown_answer_is_refused() -> None:
    policy, query = next(q.values for q in _undecided() if q.values[1].name.startswith("cpt_59325"))
    p = _plan(policy, query)
    q = dtr.questionnaire(p, BASE)
    bad = response_with(q, {}, p) | {"item": [{"linkId": "no_such_item", "answer": [{"valueBoolean": True}]}]}
    with pytest.raises(dtr.InvalidFhir, match="asks no such item"):
        dtr.questionnaire_response_request(q, bad, kb=_kb(policy))
    with pytest.raises(dtr.InvalidFhir, match="not one covkb generated"):
        dtr.questionnaire_response_request({**q, "identifier": []}, response_with(q, {}, p), kb=_kb(policy))


# -- the operations on a real server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    from service_server import Server

    s = Server(workers=1)
    yield s
    assert s.stop() in (0, -15)


def _order(cpt: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": "order-1", "status": "draft", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "occurrenceDateTime": "2025-06-01",
            "code": {"coding": [{"system": CPT, "code": cpt}]}, **extra}


COVERAGE = {"resourceType": "Coverage", "id": "cov-1", "status": "active", "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"reference": "Organization/payer"}]}


def _package_input(*orders: dict[str, Any], context: str | None = None) -> dict[str, Any]:
    params = [{"name": "coverage", "resource": COVERAGE}, *({"name": "order", "resource": o} for o in orders)]
    if context:
        params.append({"name": "context", "valueString": context})
    return {"resourceType": "Parameters", "parameter": params}


@pytest.mark.slow
def test_questionnaire_package_adaptive_form_and_decision(server) -> None:
    """A cerclage order (CPT 59325) says nothing of the patient: the package
    holds its questionnaire; the adaptive form asks one question at a time
    until the outcome is decided; the answered form decides, explained."""
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$questionnaire-package", timeout=60, json=_package_input(_order("59325")))
    assert r.status_code == 200, r.text
    out = r.json()
    Parameters.model_validate(out)
    assert {p["name"] for p in out["parameter"]} <= {"packagebundle", "outcome"}
    (bundle,) = [p["resource"] for p in out["parameter"] if p["name"] == "packagebundle"]
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection" and bundle["entry"][0]["resource"]["resourceType"] == "Questionnaire"  # dtrb-1
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Questionnaire") == 1 and kinds.count("QuestionnaireResponse") == 1
    q, qr = (e["resource"] for e in bundle["entry"])
    urls = {e["url"] for e in qr["extension"]}
    assert {dtr.QR_COVERAGE, dtr.INTENDED_USE} <= urls and qr["subject"] and qr["questionnaire"] == f"{q['url']}|{q['version']}"
    # the adaptive form: the client's empty response, the generated Questionnaire contained
    qr = {**qr, "contained": [q], "questionnaire": "#" + q["id"]}
    asked = []
    for _ in range(10):
        r = httpx.post(f"{server.url}/fhir/Questionnaire/$next-question", timeout=60,
                       json={"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": qr}]})
        assert r.status_code == 200, r.text
        qr = r.json()["parameter"][0]["resource"]
        QuestionnaireResponse.model_validate(qr)
        if qr["status"] == "completed":
            break
        last = qr["item"][-1]
        assert "answer" not in last and last["linkId"] not in asked
        asked.append(last["linkId"])
        last["answer"] = [{"valueInteger": 3} if last["linkId"] == "prior_pregnancy_losses" else {"valueBoolean": True}]
    assert qr["status"] == "completed" and asked[0] == "prior_pregnancy_losses"
    assert len(asked) < len(q["item"])  # a yes to the first criterion decides; the rest were never asked
    r = httpx.post(f"{server.url}/fhir/QuestionnaireResponse/$determine", timeout=60, json=qr)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["outcome"] == "medically_necessary" and d["explanation"] and d["summary"].startswith("Medically necessary")


@pytest.mark.slow
def test_an_order_the_policy_decides_needs_no_questionnaire(server) -> None:
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$questionnaire-package", timeout=60, json=_package_input(_order("99213")))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [p["name"] for p in out["parameter"]] == ["outcome"]
    assert "No further documentation" in out["parameter"][0]["resource"]["issue"][0]["diagnostics"]


@pytest.mark.slow
@pytest.mark.parametrize(("body", "words"), [
    (b"not json", "not JSON"),
    (json.dumps({"resourceType": "Parameters", "parameter": [{"name": "order", "resource": _order("59325")}]}).encode(),
     "exactly one Coverage"),
    (json.dumps({"resourceType": "Parameters", "parameter": [{"name": "coverage", "resource": COVERAGE}]}).encode(),
     "dtr-1"),
    (json.dumps({"resourceType": "Patient", "birthDate": "not a date"}).encode(), "Patient"),
])
def test_bad_input_gets_a_problem_document(server, body: bytes, words: str) -> None:
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$questionnaire-package", timeout=60, content=body,
                   headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert words in r.json()["detail"]


def test_a_context_names_the_request_crd_decided(tmp_path) -> None:
    """A CRD coverage-assertion-id (context) names
    the request CRD kept in covkb.store: the questionnaire asks what that request left open."""
    import covkb.store as store_mod
    from covkb.service.ops import Worker

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = store_mod.Store.open(url)
    policy = next(p for p in POLICIES if Path(p).name == "cigna_0284")
    request = {"date_of_service": "2025-06-01", "cpt": "59325", "prior_pregnancy_losses": 3,
               "unlisted_findings": "unknown"}
    data = Policy(policy=policy).data("2025-02-15")
    store.save_decision("crd", "covkb-assertion-1", policy="cigna_0284", version="2025-02-15",
                        kb_digest=store_mod.kb_digest(data), request=request,
                        answer={"outcome": "insufficient_information"}, status="conditional")
    w = Worker({"policy": "cigna_0284", "today": "2025-06-01", "preload_engines": [], "store": url})
    body = json.dumps(_package_input(_order("59325"), context="covkb-assertion-1")).encode()
    status, _, out = w.handle({"op": "dtr_package", "args": {"policy": "cigna_0284", "base_url": BASE}}, body)
    assert status == 200, out
    (bundle,) = [p["resource"] for p in json.loads(out)["parameter"] if p["name"] == "packagebundle"]
    q = bundle["entry"][0]["resource"]
    assert "prior_pregnancy_losses" not in {i["linkId"] for i in q["item"]}  # CRD's request said it
    assert dtr.known_request(q) == plan(_kb(policy), request).request


@pytest.mark.slow
def test_a_body_that_is_not_fhir_json_is_refused(server) -> None:
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$next-question", content=b"{}", timeout=60,
                   headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"


@pytest.mark.slow
def test_an_adaptive_package_starts_empty_and_next_question_asks(server) -> None:
    """?adaptive=true: the package's Questionnaire is an adaptive one with no
    items, contained in its QuestionnaireResponse (dtr-questionnaireresponse-adapt);
    $next-question asks the first question that can change the outcome."""
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$questionnaire-package?adaptive=true", timeout=60,
                   json=_package_input(_order("59325")))
    assert r.status_code == 200, r.text
    (bundle,) = [p["resource"] for p in r.json()["parameter"] if p["name"] == "packagebundle"]
    q, qr = (e["resource"] for e in bundle["entry"])
    assert "item" not in q and q["meta"]["profile"] == [dtr.ADAPT_PROFILE] and q["derivedFrom"]
    assert any(e["url"] == dtr.ADAPTIVE for e in q["extension"])
    assert qr["contained"][0]["id"] == q["id"] and qr["questionnaire"] == "#" + q["id"]
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$next-question", timeout=60, json=qr)
    assert r.status_code == 200, r.text
    out = r.json()["parameter"][0]["resource"]
    assert out["status"] == "in-progress" and [i["linkId"] for i in out["item"]] == ["prior_pregnancy_losses"]
    assert [i["linkId"] for i in out["contained"][0]["item"]] == ["prior_pregnancy_losses"]


@pytest.mark.slow
def test_a_generated_questionnaire_is_read_back_by_id_and_canonical_url(server) -> None:
    """DTR clients fetch the Questionnaire CRD names by its canonical URL (tests/test_questionnaire_read.py: the rest)."""
    r = httpx.post(f"{server.url}/fhir/Questionnaire/$questionnaire-package", timeout=60, json=_package_input(_order("59325")))
    assert r.status_code == 200, r.text
    (bundle,) = [p["resource"] for p in r.json()["parameter"] if p["name"] == "packagebundle"]
    q = bundle["entry"][0]["resource"]
    r = httpx.get(f"{server.url}/fhir/Questionnaire/{q['id']}", timeout=60)
    assert r.status_code == 200 and r.json() == q
    r = httpx.get(f"{server.url}/fhir/Questionnaire", params={"url": q["url"]}, timeout=60)
    assert r.status_code == 200 and [e["resource"] for e in r.json()["entry"]] == [q]
    r = httpx.get(f"{server.url}/fhir/Questionnaire/not-one-of-covkbs", timeout=60)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
