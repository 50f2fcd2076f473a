"""Da Vinci PAS (issue 23, item 4) on a real server on 127.0.0.1.

- every named query a Claim states (its record in FHIR, as
  tests/test_silent_record.py's CDS calls state it; what FHIR cannot state,
  a qualifier, a count, a finding stated absent, answered in the generated
  questionnaire as a QuestionnaireResponse), sent as PAS, gets the review
  action its outcome declares (kb/vocabulary.pl, meaning_review/4) for the
  outcome ``covkb determine`` gives, and its explanation link that outcome,
  on both engines;
- denials carry the reason in words and the policy's citations; items
  pended for information carry the questionnaire; items the policy does not
  decide are pended for a person, never approved;
- the PAS profiles' required elements and invariants covkb's answers use;
- ``$inquire`` finds every decision after the server restarts (SQLite file
  store); a person's review is listed, recorded and then returned.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from pas_bundles import answered_bundle, claim_bundle, inquiry_bundle
from test_silent_record import KEYS, QUERIES, _kb, _silent, crd_calls

from covkb import CovkbError, KnowledgeBase
from covkb.outcomes import MEANINGS
from covkb.questionnaire import plan
from covkb.service.pas_examples import check, examples, item_code, item_link, item_notes, item_questionnaire
from covkb.policy import Policy

pytestmark = pytest.mark.slow  # real servers: not in make test-fast

X12_306 = "https://codesystem.x12.org/005010/306"
PAS = "http://hl7.org/fhir/us/davinci-pas"
REVIEW_ACTION = f"{PAS}/StructureDefinition/extension-reviewAction"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
BY_KEY = dict(zip(KEYS, QUERIES))
TODAY = dt.date(2025, 6, 1)
# what a Claim's record states (test_silent_record._cds_call): the rest a QuestionnaireResponse answers
STATABLE = {"date_of_service", "cpt", "pregnant", "prior_pregnancy_losses", "diagnoses", "findings"}


@functools.cache
def pas_claims() -> dict[str, tuple[str, dict[str, Any], Any, dict[str, Any] | None]]:
    """Every query a Claim states: (policy, the CDS call whose record the
    Claim carries, the plan its questionnaire asks, the answers or None).
    Its record in FHIR (as CRD reads it), the rest answered in the
    generated questionnaire (as a scenario's facts answer it, test_dtr), kept
    where covkb reads the two as a request with the query's whole answer."""
    from test_dtr import scenario_answers
    from test_silent_record import _cds_call, _same_answer

    from covkb.questionnaire import request_of
    from covkb.service.pas_map import merge

    out: dict[str, Any] = {k: (p, call, None, None) for k, (p, call) in crd_calls().items()}
    for (policy, q), key in zip(QUERIES, KEYS):
        pol = Policy(policy=policy)
        r = as_sent(pol, _silent(q))
        if key in out or r is None:
            continue  # a Claim's item is a code
        call = _cds_call(pol, {k: v for k, v in r.items() if k in STATABLE})
        if call is None:
            continue
        record = _request_of_call(pol, call)
        kb = KnowledgeBase(policy=policy, today=TODAY)
        try:
            p = plan(kb, record)
            cases, _, _, _ = kb.cases(r, True, p.version)  # the query's cases, as test_dtr answers from them
            answers = scenario_answers(cases, r, p)
        except CovkbError:
            continue
        if answers and _same_answer(policy, r, merge(record, request_of(p, answers))):
            out[key] = (policy, call, p, answers)
        elif not answers and _same_answer(policy, r, record):  # its record states it all (a service sent as its code)
            out[key] = (policy, call, None, None)
    return out


def as_sent(policy: Policy, r: dict[str, Any]) -> dict[str, Any] | None:
    """The query's record as a Claim can send it: a Claim's item is a code,
    so a query naming a service and no code sends the service's code (the
    first code the knowledge base lists as reporting that service alone,
    code_reports/2, else the first reporting it); None where the query names
    neither, or no code reports its service."""
    if "cpt" in r or "service" not in r:
        return r if "cpt" in r else None
    try:
        version = policy.version_in_force(dt.date.fromisoformat(r.get("date_of_service", TODAY.isoformat())))[0]
    except CovkbError:  # no version on its date: the latest's codes (the answer says no version decides)
        version = policy.latest()
    data = policy.data(version)
    reports: dict[str, set[str]] = {}
    for code, service in data.rows("code_reports"):
        reports.setdefault(str(code), set()).add(getattr(service, "name", str(service)))
    codes = [c for c, services in reports.items() if r["service"] in services]
    alone = [c for c in codes if reports[c] == {r["service"]}]
    if not codes:
        return None
    return {**{k: v for k, v in r.items() if k != "service"}, "cpt": (alone or codes)[0]}


def _request_of_call(policy: Policy, call: dict[str, Any]) -> dict[str, Any]:
    from test_silent_record import _crd_request

    return _crd_request(policy, call)


CLAIMS = sorted(pas_claims())


def _claim(key: str, ident: str) -> dict[str, Any]:
    """The query's PAS request: its record, and the questionnaire answered where the record leaves facts out."""
    from covkb.service.dtr import questionnaire

    policy, call, p, answers = pas_claims()[key]
    bundle = claim_bundle(call, ident)
    if answers is None:
        return bundle
    return answered_bundle(bundle, questionnaire(p, "http://127.0.0.1:8000"), answers, ident, carry_questionnaire=False)


def _request_of(key: str) -> dict[str, Any]:
    """The request the CRD service reads from the query's call (as PAS reads its Claim)."""
    from test_silent_record import _crd_request

    policy, call = pas_claims()[key][:2]
    return _crd_request(Policy(policy=policy), call)


def _ident(key: str) -> str:
    return key.split(":")[1].replace("_", "-")[:50]


def _expected(key: str) -> tuple[str, str | None]:
    """(review action, outcome) covkb determine gives the query's silent record as the Claim sends it (as_sent);
    an error's item is pended for a person."""
    policy, q = BY_KEY[key]
    try:
        got = _kb(policy).determine(as_sent(Policy(policy=policy), _silent(q))).outcome
    except CovkbError as err:
        got = err.code
    outcomes = Policy(policy=policy).data(Policy(policy=policy).latest()).outcomes
    if got in outcomes:
        return outcomes[got].review_action, got
    return "pended_for_review", None


def _action(item: dict[str, Any]) -> dict[str, Any]:
    [adj] = item["adjudication"]
    [ra] = [e for e in adj["extension"] if e["url"] == REVIEW_ACTION]
    return ra


_x12, _notes, _link = item_code, item_notes, item_link


CODE = {"approved": "A1", "denied": "A3", "pended_for_information": "A4", "pended_for_review": "A4"}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('pas')}/covkb.sqlite3"


def _server(store_url: str, mode: str = "inline") -> Any:
    """A real server on 127.0.0.1 keeping its decisions at store_url."""
    import os

    from service_server import Server

    old = os.environ.get("COVKB_STORE_URL")
    os.environ["COVKB_STORE_URL"] = store_url
    try:
        return Server("--mode", mode, workers=1)
    finally:
        if old is None:
            del os.environ["COVKB_STORE_URL"]
        else:
            os.environ["COVKB_STORE_URL"] = old


@pytest.fixture(scope="module")
def server(store_url):
    s = _server(store_url)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def submitted(server) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every query's PAS request and covkb's answer, submitted once."""
    out = {}
    with httpx.Client(base_url=server.url, timeout=120) as c:
        for key in CLAIMS:
            bundle = _claim(key, _ident(key))
            r = c.post("/fhir/Claim/$submit", params={"policy": pas_claims()[key][0]}, json=bundle)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("application/fhir+json")
            out[key] = (bundle, r.json())
    return out


# -- the outcome covkb determine gives -----------------------------------------------------------------------

def test_enough_named_queries_are_sent_as_pas() -> None:
    assert len(CLAIMS) >= 37 and sum(pas_claims()[k][3] is not None for k in CLAIMS) >= 8
    assert sum("cpt" not in _silent(BY_KEY[k][1]) for k in CLAIMS) >= 13  # a service sent as its code


def why_not_sent(key: str) -> str | None:
    """Why a named query cannot be sent as PAS (None: it can)."""
    from test_silent_record import _cds_call

    policy, q = BY_KEY[key]
    pol = Policy(policy=policy)
    r = as_sent(pol, _silent(q))
    if r is None:
        return "it names no code, and no code of its version reports its service (code_reports/2)"
    try:
        _kb(policy).determine(r)
    except CovkbError:
        return "an invalid request (its answer is an error, as the query expects)"
    if "service" in r:
        return "it names a service beside its code: a Claim's item is the code alone"
    if "unknown_findings" in r or "absent_findings" in r and any(
            f in r.get("findings", ()) for f in r["absent_findings"]):
        return "it states a finding unknown: a record states what is, or is not, so"
    if _cds_call(pol, {k: v for k, v in r.items() if k in STATABLE}) is None:
        return "its record holds a finding the FHIR mapping has no code for"
    if set(r) - STATABLE - {"cpt"}:
        return "what it adds to its code (a qualifier) is not what a questionnaire asks of that record"
    return None


NOT_SENT = [k for k in KEYS if k not in pas_claims()]


@pytest.mark.parametrize("key", NOT_SENT)
def test_a_named_query_not_sent_as_pas_is_one_a_claim_cannot_state(key: str) -> None:
    assert why_not_sent(key) is not None, f"{key} can be sent as PAS: pas_claims() should send it"


@pytest.mark.parametrize("key", CLAIMS)
def test_every_named_query_sent_as_pas_gets_the_review_action_of_its_outcome(server, submitted, key: str) -> None:
    action, outcome = _expected(key)
    _, answer = submitted[key]
    cr = answer["entry"][0]["resource"]
    [item] = cr["item"]
    assert _x12(item) == CODE[action]
    link = _link(cr, item)
    if outcome is None:
        assert link is None and any("could not decide" in t for t in _notes(cr, item))
        return
    explained = httpx.get(link.replace("http://127.0.0.1:8000", server.url), timeout=60).json()
    assert explained["outcome"] == outcome


@pytest.fixture(scope="module")
def submitted_asp(server) -> dict[str, dict[str, Any]]:
    """Every query's PAS request decided by the ASP engine (its own identifiers: a submission is kept once)."""
    out = {}
    with httpx.Client(base_url=server.url, timeout=120) as c:
        for key in CLAIMS:
            r = c.post("/fhir/Claim/$submit", params={"policy": pas_claims()[key][0], "engine": "asp"},
                       json=_claim(key, _ident(key)[:45] + "-asp"))
            assert r.status_code == 200, r.text
            out[key] = r.json()
    return out


@pytest.mark.parametrize("key", CLAIMS)
def test_both_engines_give_the_same_review_actions_and_words(submitted, submitted_asp, key: str) -> None:
    prolog = submitted[key][1]["entry"][0]["resource"]
    asp = submitted_asp[key]["entry"][0]["resource"]
    assert [(_x12(i), _notes(prolog, i)[0]) for i in prolog["item"]] == [(_x12(i), _notes(asp, i)[0]) for i in asp["item"]]


@pytest.mark.parametrize("meaning", MEANINGS)
def test_only_a_decision_approves_or_denies(meaning: str) -> None:
    """What the policy does not decide is pended (for the facts, or for a
    person): kb declares it so for every meaning."""
    p = Policy(policy="cigna-0284")
    data = p.data(p.latest())
    for o in data.outcomes.values():
        if o.meaning == meaning:
            assert (o.review_action in ("approved", "denied")) == (meaning in ("covered", "denied"))
            assert o.review_action != "approved" or meaning == "covered"
            assert o.review_code == CODE[o.review_action]


def _with(submitted: dict, action: str) -> list[tuple[str, dict, dict]]:
    out = []
    for key, (bundle, answer) in submitted.items():
        cr = answer["entry"][0]["resource"]
        for item in cr["item"]:
            if _expected(key)[0] == action:
                out.append((key, cr, item))
    return out


def test_a_denial_says_its_reason_in_words_with_the_policys_citations(submitted) -> None:
    denied = _with(submitted, "denied")
    assert denied
    for key, cr, item in denied:
        notes = _notes(cr, item)
        assert notes[0].startswith(f"Item {item['itemSequence']}: Denied. "), notes[0]
        cites = [t for t in notes if "the policy's words: " in t]
        assert cites and '"' in cites[0] and ":" in cites[0]
        reason = item["adjudication"][0]["reason"]["text"]
        assert reason.startswith("Denied: ") and "version" in reason


def test_an_item_the_policy_does_not_decide_is_pended_for_a_person_with_the_reason(submitted) -> None:
    pended = _with(submitted, "pended_for_review")
    assert pended
    for key, cr, item in pended:
        assert _x12(item) == "A4"
        assert _notes(cr, item)[0].startswith(f"Item {item['itemSequence']}: Pended for a person's review")


def test_an_item_missing_information_is_pended_with_the_questionnaire(submitted) -> None:
    pended = _with(submitted, "pended_for_information")
    assert pended
    asked = 0
    for key, cr, item in pended:
        q = item_questionnaire(submitted[key][1], item["itemSequence"])
        first = _notes(cr, item)[0]
        if q is None:  # nothing a form can ask settles it (the plan asks nothing): a person decides
            policy, query = BY_KEY[key]
            kb = KnowledgeBase(policy=policy, today=dt.date(2025, 6, 1))
            assert not plan(kb, _request_of(key)).items
            assert first.startswith(f"Item {item['itemSequence']}: Pended for a person's review: no question")
            continue
        asked += 1
        assert q["item"] and first.startswith(f"Item {item['itemSequence']}: Pended: more information is needed")
        assert any(q["url"] in t for t in _notes(cr, item))
    assert asked


@pytest.mark.parametrize("carried", [True, False], ids=["the Bundle carries the Questionnaire", "covkb asks it again"])
def test_the_questionnaire_answered_decides_the_item(server, carried: bool) -> None:
    """Pended for information, answered (a QuestionnaireResponse in the
    Bundle), submitted again: decided as covkb determine decides the request with the answer."""
    policy, call = _call("cpt_59325_with_three_losses_and_a_silent_record_needs_more_information")
    bundle = claim_bundle(call, f"to-answer-{carried}")
    first = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120).json()
    q = item_questionnaire(first, 1)
    for answer, x12 in (({"prior_cervical_trauma": True}, "A1"), ({"prior_cervical_trauma": False}, "A4")):
        again = answered_bundle(bundle, q, answer, f"answered-{carried}-{answer['prior_cervical_trauma']}",
                                carry_questionnaire=carried)
        r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=again, timeout=120)
        assert r.status_code == 200, r.text
        [item] = r.json()["entry"][0]["resource"]["item"]
        assert _x12(item) == x12


def test_an_answer_the_questionnaire_does_not_ask_is_refused(server) -> None:
    policy, call = _call("cpt_59325_with_three_losses_and_a_silent_record_needs_more_information")
    bundle = claim_bundle(call, "to-answer-badly")
    first = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120).json()
    q = item_questionnaire(first, 1)
    q = {**q, "item": [*q["item"], {"linkId": "halt", "type": "boolean", "text": "?"}]}
    again = answered_bundle(bundle, q, {"halt": True}, "answered-badly")
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=again, timeout=120)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "asks no such item" in r.json()["detail"]


@pytest.mark.parametrize(("name", "example"), examples(), ids=[n for n, _ in examples()])
def test_the_pas_examples_get_their_review_actions(server, name: str, example: dict[str, Any]) -> None:
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": example["policy"]}, json=example["bundle"],
                   timeout=120)
    assert r.status_code == 200, r.text

    def outcome_of(link: str) -> str:
        return httpx.get(link.replace("http://127.0.0.1:8000", server.url), timeout=60).json()["outcome"]
    assert check(example, r.json(), outcome_of) == []


# -- the PAS profiles: required elements and invariants -----------------------------------------------------------

@pytest.mark.parametrize("key", CLAIMS)
def test_the_response_keeps_the_pas_profiles(submitted, key: str) -> None:
    bundle, answer = submitted[key]
    get_fhir_model_class("Bundle").model_validate(answer)  # R4 (fhir.resources' R4B models)
    assert answer["type"] == "collection" and answer["timestamp"] and answer["identifier"]["value"]
    assert answer["entry"][0]["resource"]["resourceType"] == "ClaimResponse"  # ClaimResponseFirst
    assert all(e["fullUrl"] and e["resource"] for e in answer["entry"])
    assert not any(k in e for e in answer["entry"] for k in ("search", "request", "response"))
    cr = answer["entry"][0]["resource"]
    claim = bundle["entry"][0]["resource"]
    assert cr["status"] == "active" and cr["use"] == "preauthorization" and cr["request"]
    assert cr["outcome"] in ("queued", "complete", "error", "partial")
    assert cr["patient"] == claim["patient"] and cr["insurer"] == claim["insurer"]
    assert cr["preAuthRef"].startswith("covkb-pa-")
    assert [i["itemSequence"] for i in cr["item"]] == [i["sequence"] for i in claim["item"]]  # echoed
    for item in cr["item"]:
        assert item["adjudication"][0]["category"]["coding"] == [{"system": ADJUDICATION, "code": "submitted"}]
        assert _x12(item) in ("A1", "A3", "A4")
        providers = [e for e in item["extension"] if e["url"].endswith("extension-itemAuthorizedProvider")]
        assert providers and all(sum(s["url"].endswith("extension-authorizedProviderType") for s in p["extension"]) == 1
                                 for p in providers)  # authorizedProvider 1..*, its providerType 1..1
    for e in answer["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Task":  # invariant QuestionnaireContext
            assert r["code"]["coding"][0]["code"] == "attachment-request-questionnaire"
            assert any(i["type"]["coding"][0]["code"] == "questionnaire-context" for i in r["input"])
            assert any(i["type"]["coding"][0]["code"] == "payer-url" for i in r["input"])


# -- several items, retries, bad input ----------------------------------------------------------------------------

def _call(key: str) -> tuple[str, dict[str, Any]]:
    return crd_calls()[f"cigna_0284:{key}"]


def test_each_item_of_a_claim_gets_its_own_review_action(server) -> None:
    policy, call = _call("cpt_59325_with_cone_biopsy_is_medically_necessary")
    items = [{"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "59325"}]},
              "servicedDate": "2025-06-01"},
             {"sequence": 2, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "86950"}]},
              "servicedDate": "2025-06-01"}]
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy},
                   json=claim_bundle(call, "two-items", items=items), timeout=120)
    assert r.status_code == 200, r.text
    cr = r.json()["entry"][0]["resource"]
    assert [(_x12(i), i["itemSequence"]) for i in cr["item"]] == [("A1", 1), ("A3", 2)]
    assert cr["disposition"] == "1 item approved; 1 item denied"
    number = next(e for e in _action(cr["item"][0])["extension"] if e["url"] == "number")["valueString"]
    assert number == f"{cr['preAuthRef']}-1"


def test_an_item_reads_the_supporting_information_it_names(server) -> None:
    """Claim.item.informationSequence: the item's record is what it names (else all the Claim's)."""
    policy, call = _call("cpt_59325_with_cone_biopsy_is_medically_necessary")
    bundle = claim_bundle(call, "information-sequence")
    claim = bundle["entry"][0]["resource"]
    seq = {i["valueReference"]["reference"].split("/")[0]: i["sequence"] for i in claim["supportingInfo"]}
    code = claim["item"][0]["productOrService"]
    claim["item"] = [{"sequence": 1, "productOrService": code, "servicedDate": "2025-06-01"},
                     {"sequence": 2, "productOrService": code, "servicedDate": "2025-06-01",
                      "informationSequence": [seq["Observation"]]},
                     {"sequence": 3, "productOrService": code, "servicedDate": "2025-06-01",
                      "informationSequence": [seq["Observation"], seq["Procedure"]]}]
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120)
    assert r.status_code == 200, r.text
    cr = r.json()["entry"][0]["resource"]
    assert [_x12(i) for i in cr["item"]] == ["A1", "A4", "A1"]  # without the cone biopsy, the history is unknown
    assert "Cone biopsy" not in _notes(cr, cr["item"][1])[0] and "Conization" in _notes(cr, cr["item"][0])[0]


def test_a_retried_submission_finds_its_decision_and_a_different_one_is_refused(server) -> None:
    policy, call = _call("cpt_86950_leukocyte_transfusion_is_not_medically_necessary")
    bundle = claim_bundle(call, "retried")
    first = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120)
    again = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    changed = copy.deepcopy(bundle)
    changed["entry"][0]["resource"]["item"][0]["servicedDate"] = "2025-06-02"
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", params={"policy": policy}, json=changed, timeout=120)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "$inquire" in r.json()["detail"]


def _broken(change) -> bytes:
    _, call = _call("cpt_59325_with_cone_biopsy_is_medically_necessary")
    b = claim_bundle(call, "broken")
    change(b)
    return json.dumps(b).encode()


BAD = {
    "not JSON": (b"{nope", 400, "not JSON"),
    "not a Bundle": (b'{"resourceType": "Claim"}', 400, "is a Bundle"),
    "no Claim first": (_broken(lambda b: b["entry"].reverse()), 400, "ClaimFirst"),
    "a claim, not a preauthorization": (_broken(lambda b: b["entry"][0]["resource"].update(use="claim")), 400,
                                        "preauthorization"),
    "invalid FHIR": (_broken(lambda b: b["entry"][0]["resource"]["item"][0].update(sequence="first")), 400, "sequence"),
    "no item": (_broken(lambda b: b["entry"][0]["resource"].pop("item")), 400, "no item"),
    "no insurer": (_broken(lambda b: b["entry"][0]["resource"].pop("insurer")), 400, "insurer"),
    "a reference outside the Bundle": (_broken(lambda b: b["entry"].pop()), 400, "not in the Bundle"),
    "over 8 MiB": (b'{"resourceType": "Bundle", "entry": [' + b" " * (8 << 20) + b"]}", 413, "over"),
    "Prolog in a code": (_broken(lambda b: b["entry"][0]["resource"]["item"][0]["productOrService"]["coding"][0]
                                 .update(code="x')), halt. %")), 200, None),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_gets_a_problem_in_one_line(server, name: str) -> None:
    body, status, words = BAD[name]
    r = httpx.post(f"{server.url}/fhir/Claim/$submit", content=body, timeout=60,
                   headers={"content-type": "application/fhir+json"})
    assert r.status_code == status, r.text
    if status == 200:  # untrusted input stays data: the code is not a CPT code, the item pended for a person
        [item] = r.json()["entry"][0]["resource"]["item"]
        assert _x12(item) == "A4"
        return
    p = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert words in p["detail"] and "\n" not in p["detail"] and "Traceback" not in r.text


# -- kept: $inquire after a restart, and a person's review --------------------------------------------------------

@pytest.fixture(scope="module")
def restarted(server, submitted, store_url):
    """A new server on the same store, once every decision was made."""
    server.stop()
    s = _server(store_url)
    yield s
    s.stop()


def _inquire(server: Any, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    r = httpx.post(f"{server.url}/fhir/Claim/$inquire", json=bundle, timeout=60)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["resourceType"] == "Parameters"
    return [p["resource"] for p in out.get("parameter") or []]


@pytest.mark.parametrize("key", CLAIMS)
def test_inquire_finds_every_decision_after_a_restart(restarted, submitted, key: str) -> None:
    bundle, answer = submitted[key]
    cr = answer["entry"][0]["resource"]
    for inquiry in (inquiry_bundle(bundle, pre_auth_ref=cr["preAuthRef"]), inquiry_bundle(bundle)):
        [found] = _inquire(restarted, inquiry)
        got = found["entry"][0]["resource"]
        assert got["preAuthRef"] == cr["preAuthRef"]
        assert [(_x12(i), _notes(got, i)) for i in got["item"]] == [(_x12(i), _notes(cr, i)) for i in cr["item"]]
        get_fhir_model_class("Bundle").model_validate(found)


def test_a_submission_kept_by_an_earlier_server_answers_with_this_servers_links(restarted, submitted) -> None:
    """A retried submission after a restart (another port): the kept decision, its links under this server."""
    key = next(k for k, (_, a) in submitted.items() if "/v1/explanations/" in json.dumps(a))
    bundle, first = submitted[key]
    r = httpx.post(f"{restarted.url}/fhir/Claim/$submit", params={"policy": pas_claims()[key][0]}, json=bundle,
                   timeout=120)
    assert r.status_code == 200, r.text
    links = re.findall(r"https?://[^\s\"]+/v1/explanations/[^\s\"]+", json.dumps(r.json()))
    assert links and all(u.startswith(restarted.url + "/") for u in links)
    assert httpx.get(links[0], timeout=60).status_code == 200
    assert r.json()["entry"][0]["resource"]["preAuthRef"] == first["entry"][0]["resource"]["preAuthRef"]


def test_a_persons_review_is_listed_recorded_and_then_inquired(restarted, submitted) -> None:
    c = httpx.Client(base_url=restarted.url, timeout=60)
    listed = c.get("/v1/reviews").json()["reviews"]
    pended = {k: a["entry"][0]["resource"]["preAuthRef"] for k, (b, a) in submitted.items()
              if any(_x12(i) == "A4" for i in a["entry"][0]["resource"]["item"])}
    assert set(pended.values()) <= {r["id"] for r in listed}
    entry = next(r for r in listed if r["id"] in pended.values())
    assert entry["items"] and all(i["summary"].startswith("Pended") and i["reason"] for i in entry["items"])
    key = next(k for k, v in pended.items() if v == entry["id"])
    bad = c.post(f"/v1/reviews/{entry['id']}", json={"action": "maybe", "reason": "x", "reviewer": "y"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert c.post("/v1/reviews/covkb-pa-nothing", json={"action": "approve", "reason": "r", "reviewer": "y"}
                  ).status_code == 404
    r = c.post(f"/v1/reviews/{entry['id']}", json={"action": "deny", "reviewer": "Dr Reviewer",
                                                   "reason": "The records do not show the indication."})
    assert r.status_code == 200, r.text
    cr = r.json()["entry"][0]["resource"]
    assert all(_x12(i) == "A3" for i in cr["item"])
    assert cr["extension"][0]["extension"] == [{"url": "wasHumanReviewedFlag", "valueBoolean": True}]
    for item in cr["item"]:  # the decision in force first, then covkb's before it
        notes = _notes(cr, item)
        assert notes[0] == (f"Item {item['itemSequence']}: Denied by a person's review (Dr Reviewer): "
                            "The records do not show the indication.")
        assert notes[1].startswith(f"Item {item['itemSequence']}: before a person's review, Pended")
    [found] = _inquire(restarted, inquiry_bundle(submitted[key][0], pre_auth_ref=entry["id"]))
    assert found["entry"][0]["resource"]["item"] == cr["item"]
    again = c.post(f"/v1/reviews/{entry['id']}", json={"action": "approve", "reason": "r", "reviewer": "y"})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert entry["id"] not in {r["id"] for r in c.get("/v1/reviews").json()["reviews"]}
    other = next(r for r in listed if r["id"] in pended.values() and r["id"] != entry["id"])
    r = c.post(f"/v1/reviews/{other['id']}", json={"action": "approve", "reviewer": "Dr Reviewer",
                                                   "reason": "The operative note shows a prior conization."})
    approved = r.json()["entry"][0]["resource"]
    assert all(_x12(i) == "A1" for i in approved["item"]) and approved["disposition"].endswith("approved")
    number = [e for e in _action(approved["item"][0])["extension"] if e["url"] == "number"]
    assert number and number[0]["valueString"].startswith(other["id"])


def test_pas_in_pool_mode(store_url) -> None:
    """The same exchange where one front hands every operation to engine workers."""
    s = _server(store_url.replace("covkb.sqlite3", "pool.sqlite3"), "pool")
    try:
        policy, call = _call("cpt_86950_leukocyte_transfusion_is_not_medically_necessary")
        bundle = claim_bundle(call, "pool")
        r = httpx.post(f"{s.url}/fhir/Claim/$submit", params={"policy": policy}, json=bundle, timeout=120)
        assert r.status_code == 200, r.text
        [found] = _inquire(s, inquiry_bundle(bundle))
        assert [_x12(i) for i in found["entry"][0]["resource"]["item"]] == ["A3"]
    finally:
        s.stop()
