"""covkb as a service: a real server on 127.0.0.1 (the engines, never mocks),
asked over HTTP with httpx.  The REST answers are the in-process answers;
errors are problem details with covkb's codes; the CRD examples get the
coverage information they expect, on both engines, and every coverage
assertion keeps the CRD invariants; the FHIR mapping is read from kb/."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.service import crd
from covkb.service.examples import check as check_example, coverage_infos, examples, sub
from covkb.service.fhir_map import InvalidFhir, load_mapping, record_request, settle_bound, validate_resource
from service_server import Server

pytestmark = pytest.mark.slow  # real servers: not in make test-fast

TODAY = dt.date(2025, 6, 1)
ENGINES = ("prolog", "asp")
POLICIES = [Policy(policy=f) for f in policy_folders()]
# named queries decided by a draft file are left out: the service takes version ids only, never file paths
QUERIES = [(p.id, q) for p in POLICIES for q in load_queries(p.queries_dir) if not (q.version or "").endswith((".pl", ".toml"))]
EXAMPLES = examples()


class FakeFhir:
    """A FHIR server on 127.0.0.1 that answers the prefetch queries of one
    example from its prefetch, and remembers what it was asked."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import unquote

        call = dict(EXAMPLES)["pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"]["hook_request"]
        mapping = load_mapping(Policy())
        answers = {crd.fill(q, call): call["prefetch"][k] for k, (_r, q) in mapping.prefetch.items()}
        self.asked: list[tuple[str, str | None]] = []
        self.redirect_to: str | None = None  # answer every read with a 302 there (a hostile FHIR server)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = unquote(self.path.split("/fhir/", 1)[-1])
                fake.asked.append((path, self.headers.get("Authorization")))
                if fake.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", fake.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = next((json.dumps(v).encode() for q, v in answers.items() if unquote(q) == path), None)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/fhir+json")
                self.end_headers()
                self.wfile.write(body or b'{"resourceType": "OperationOutcome", "issue": []}')

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def fhir():
    f = FakeFhir()
    yield f
    f.httpd.shutdown()


@pytest.fixture(scope="module", params=["inline", "pool"])
def server(fhir, request):
    """Every test against both modes: engines in the server processes
    (a CDS call that reads the FHIR server handed to their engine worker),
    and the front with its pool of engine workers."""
    s = Server("--mode", request.param, "--debug-ops", "--fhir-server", fhir.url, workers=2)
    yield s
    assert s.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled


@pytest.fixture(scope="module")
def client(server):
    # a JSON client: every body it sends is application/json unless the call says otherwise
    with httpx.Client(base_url=server.url, timeout=120, headers={"content-type": "application/json"}) as c:
        yield c


@pytest.fixture(scope="module")
def kbs():
    out = {(p.id, e): KnowledgeBase(engine=e, policy=p.folder, today=TODAY) for p in POLICIES for e in ENGINES}
    yield out
    for kb in out.values():
        kb.close()


def _problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == code and body["type"].endswith(code)
    assert body["title"] and body["detail"] and "\n" not in body["detail"]
    return body


# -- REST: the same answers as in process ------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("policy", "query"), QUERIES, ids=[f"{p}:{q.name}" for p, q in QUERIES])
def test_determine_answers_as_the_api_in_process(client, kbs, engine, policy, query) -> None:
    r = client.post("/v1/determine", params={"engine": engine, "policy": policy,
                                             **({"version": query.version} if query.version else {})},
                    content=json.dumps(query.request))
    try:
        want = kbs[(policy, engine)].determine(query.request, version=query.version).to_dict()
    except CovkbError as err:
        body = _problem(r, 422 if err.code in ("invalid_request", "unknown_id", "version_not_available") else 500, err.code)
        assert body["detail"] == err.message
        return
    assert r.status_code == 200, r.text
    assert r.content == json.dumps(want, ensure_ascii=False, separators=(",", ":")).encode()  # byte for byte
    assert query.check(r.json()) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_requests_sent_all_at_once_each_get_their_own_answer(server, kbs, engine) -> None:
    """Every named query at once (more than the workers take, so requests
    queue and are pipelined behind one another): each answer is its own
    request's, byte for byte.  A trailing space makes each body new to the
    memo, so each is decided by a worker."""
    import asyncio

    cigna = [q for p, q in QUERIES if p == POLICIES[0].id and not q.version]
    want = []
    for q in cigna:
        try:
            want.append((200, json.dumps(kbs[(POLICIES[0].id, engine)].determine(q.request).to_dict(),
                                         ensure_ascii=False, separators=(",", ":")).encode()))
        except CovkbError:
            want.append((422, None))

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120, headers={"content-type": "application/json"}) as c:
            return await asyncio.gather(*(c.post("/v1/determine", params={"engine": engine, "policy": POLICIES[0].id},
                                                 content=json.dumps(q.request) + " " * (3 + ENGINES.index(engine)))
                                          for q in cigna))

    got = asyncio.run(send_all())
    assert len(cigna) > 20
    for q, (status, body), r in zip(cigna, want, got):
        assert r.status_code == status, (q.name, r.text[:200])
        if body is not None:
            assert r.content == body, q.name


def test_explain_false_leaves_the_explanation_out(client) -> None:
    r = client.post("/v1/determine", params={"explain": "false"}, json={"service": "nk_cell_test", "prior_pregnancy_losses": 2})
    assert r.status_code == 200 and "explanation" not in r.json() and r.json()["outcome"] == "not_covered"


@pytest.mark.parametrize(("plain", "spelled_otherwise"), [
    ("explain=false", "explain=0"),
    ("explain=false&engine=asp", "engine=asp&explain=False&unused=1"),
    ("policy=cigna-0284", "policy=cigna_0284&explain=yes"),
    ("", "engine=prolog&engine=prolog"),
])
def test_a_query_answers_alike_however_its_parameters_are_spelled(client, plain, spelled_otherwise) -> None:
    # the plain spelling takes the front's short route, the others FastAPI's: the same bytes
    body = json.dumps({"cpt": "59325", "prior_pregnancy_losses": 3, "findings": ["cone_biopsy"]})
    a = client.post(f"/v1/determine?{plain}", content=body)
    b = client.post(f"/v1/determine?{spelled_otherwise}", content=body)
    assert a.status_code == b.status_code == 200
    assert a.content == b.content and a.headers["content-type"] == b.headers["content-type"]


def test_an_id_not_in_the_vocabulary_is_a_422_with_the_suggestion(client) -> None:
    body = _problem(client.post("/v1/determine", json={"cpt": "59325", "findings": ["cone_biopsi"]}), 422, "unknown_id")
    assert "did you mean 'cone_biopsy'" in body["detail"]


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "malformed_body"),
    (b"", 400, "malformed_body"),
    (b"[1, 2]", 422, "invalid_request"),
    (b'{"cpt": "59325", "pregnant": false}', 422, "invalid_request"),
    (b'{"service": "nk_cell_test", "prior_pregnancy_losses": "two"}', 422, "invalid_request"),
    (b'{"servce": "nk_cell_test"}', 422, "invalid_request"),
    (b'{"cpt": "59325", "findings": ["x) :- halt"]}', 422, "invalid_request"),
    (b"\xff\xfe", 400, "malformed_body"),
])
def test_bad_requests_are_problems_never_500(client, body, status, code) -> None:
    _problem(client.post("/v1/determine", content=body), status, code)


def test_a_body_over_1_mib_is_413(client) -> None:
    big = json.dumps({"service": "nk_cell_test", "findings": [], "x": "a" * (1 << 20)})
    _problem(client.post("/v1/determine", content=big), 413, "too_large")

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(20):
            yield b" " * 65536
    _problem(client.post("/v1/determine", content=chunks()), 413, "too_large")


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("POST", "/v1/determine?policy=cigna-0248", 404, "not_found"),
    ("POST", "/v1/determine?engine=lisp", 422, "invalid_request"),
    ("POST", "/v1/determine?version=../../etc/passwd.pl", 422, "invalid_request"),
    ("POST", "/v1/determine?version=1999-01-01", 422, "version_not_available"),
    ("GET", "/v1/policies/nope/vocabulary", 404, "not_found"),
    ("GET", "/v1/policies/cigna-0284/versions/1999/check", 404, "not_found"),
    ("GET", "/v1/nothing", 404, "not_found"),
    ("GET", "/v1/determine", 405, "method_not_allowed"),
    ("POST", "/cds-services/no-such-hook", 404, "not_found"),
])
def test_routing_errors_are_problems(client, method, path, status, code) -> None:
    _problem(client.request(method, path, json={"service": "nk_cell_test"}), status, code)


def test_openapi_and_docs(client) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/determine", "/v1/batch", "/v1/policies", "/v1/policies/{policy}/vocabulary",
                 "/v1/policies/{policy}/versions/{version}/check", "/v1/policies/{policy}/diff", "/v1/compare",
                 "/cds-services", "/cds-services/{service_id}"):
        assert path in spec["paths"], path
    schema = spec["paths"]["/v1/determine"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "prior_pregnancy_losses" in json.dumps(schema)
    assert client.get("/docs").status_code == 200


def test_batch_streams_one_record_per_line_in_order(client, kbs) -> None:
    lines = []
    for i in range(600):  # several chunks, spread over the workers
        q = QUERIES[i % len(QUERIES)][1] if QUERIES[i % len(QUERIES)][0] == "cigna_0284" else None
        lines.append(json.dumps(q.request) if q and not q.version else ("not json" if i % 7 == 0 else json.dumps({"service": "nk_cell_test"})))
    body = ("\n".join(lines) + "\n").encode()
    with client.stream("POST", "/v1/batch", content=body, headers={"content-type": "application/x-ndjson"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        out = [json.loads(x) for x in r.iter_lines() if x]
    assert [o["line"] for o in out] == list(range(1, len(lines) + 1))
    kb = kbs[("cigna_0284", "prolog")]
    for line, rec in zip(lines, out):
        try:
            want = kb.determine(json.loads(line), explain=False).to_dict(explanation=False)
            del want["citations"]
            assert {k: v for k, v in rec.items() if k != "line"} == json.loads(json.dumps(want))
        except (CovkbError, ValueError):
            assert "error" in rec


def test_policies_vocabulary_check_diff_compare(client) -> None:
    ps = client.get("/v1/policies").json()
    assert {p["policy"] for p in ps} == {p.id for p in POLICIES} and sum(p["default"] for p in ps) == 1
    v = client.get("/v1/policies/cigna-0284/vocabulary").json()
    assert "cone_biopsy" in v["findings"] and v["request_fields"]["prior_pregnancy_losses"]["kind"] == "count"
    c = client.get("/v1/policies/cigna-0284/versions/2025-02-15/check")
    assert c.status_code == 200 and c.json()["ok"] is True
    d = client.get("/v1/policies/cigna-0284/diff", params={"a": "before-2024-04-15", "b": "2024-04-15"})
    assert d.status_code == 200 and "revoked" in d.json()["by_kind"]
    m = client.get("/v1/compare", params={"a": "cigna-0284", "b": "aetna-0348"})
    assert m.status_code == 200 and m.json()["regions"]


# -- CDS Hooks / CRD -----------------------------------------------------------------

def test_discovery_lists_order_sign_and_order_select_with_the_mapping_prefetch(client) -> None:
    services = client.get("/cds-services").json()["services"]
    ids = {s["id"]: s for s in services}
    assert {"covkb-order-sign", "covkb-order-select"} <= set(ids)
    mapping = load_mapping(Policy())
    for s in services:
        assert s["hook"] in ("order-sign", "order-select") and s["description"]
        assert s["prefetch"] == {k: q for k, (_r, q) in mapping.prefetch.items()}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_crd_example_gets_the_coverage_information_it_expects(client, engine, name, example) -> None:
    r = client.post(f"/cds-services/{example['service']}", params={"engine": engine}, json=example["hook_request"])
    assert r.status_code == 200, r.text
    resp = r.json()
    [ci] = coverage_infos(resp)
    assert len(resp["cards"]) == 1  # a card beside the assertion (tests/test_cards.py reads it)
    link = crd.explanation_link(ci)
    expl = client.get(link.removeprefix(client.base_url.__str__().rstrip("/"))).json()
    assert check_example(example, resp, expl) == []
    assert expl["explanation"]["kind"] == "determination"  # the derivation behind the assertion
    assert sub(ci, "coverage") == {"reference": f"Coverage/cov-{example['hook_request']['context']['patientId']}"}
    assert sub(ci, "date") == TODAY.isoformat()
    # the deciding version in words with its dates, and the assertion's expiry where a later version decides
    policy = Policy(policy=crd.untoken(link.rsplit("/", 1)[1])["policy"])
    version = policy.version(expl["version"])
    [said] = [d["valueString"] for d in sub(ci, "detail") if d["url"] == "qualification"]
    assert f"version {version.id}, " in said and (not version.effective or version.effective.isoformat() in said)
    later = [v.effective for v in policy.versions[policy.versions.index(version) + 1:] if v.effective]
    assert sub(ci, "expiry-date") == ((min(later) - dt.timedelta(days=1)).isoformat() if later else None)


DOC_EXAMPLES = [(n, e) for n, e in EXAMPLES if e["expect"].get("doc-needed")]


@pytest.mark.parametrize(("name", "example"), DOC_EXAMPLES, ids=[n for n, _ in DOC_EXAMPLES])
def test_an_order_whose_open_facts_a_clinician_can_answer_names_the_generated_questionnaire(client, name, example) -> None:
    from covkb import questionnaire
    r = client.post(f"/cds-services/{example['service']}", json=example["hook_request"])
    [ci] = coverage_infos(r.json())
    link = crd.explanation_link(ci)
    expl = client.get(link.removeprefix(str(client.base_url).rstrip("/"))).json()
    kb = KnowledgeBase(policy=crd.untoken(link.rsplit("/", 1)[1])["policy"])
    plan = questionnaire.plan(kb, expl["request"], expl["version"])
    assert sub(ci, "questionnaire") == questionnaire.canonical_url(link.split("/v1/explanations/")[0], plan)
    assert plan.items  # it asks something: the facts the record leaves open
    # DTR, given the assertion's id as its context, returns that Questionnaire
    hook = example["hook_request"]
    order = next(e["resource"] for e in hook["context"]["draftOrders"]["entry"]
                 if e["resource"]["resourceType"] == "ServiceRequest")
    coverage = next(e["resource"] for b in hook["prefetch"].values() if isinstance(b, dict)
                    for e in b.get("entry") or [] if e["resource"]["resourceType"] == "Coverage")
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "coverage", "resource": coverage}, {"name": "order", "resource": order},
        {"name": "context", "valueString": sub(ci, "coverage-assertion-id")}]}
    r = client.post("/fhir/Questionnaire/$questionnaire-package", params={"policy": kb.policy.id}, json=params)
    assert r.status_code == 200, r.text
    urls = {e["resource"]["url"] for p in r.json()["parameter"] if p["name"] == "packagebundle"
            for e in p["resource"]["entry"] if e["resource"]["resourceType"] == "Questionnaire"}
    assert urls == {sub(ci, "questionnaire")}


def test_a_decided_assertion_is_kept_under_its_coverage_assertion_id(tmp_path, monkeypatch) -> None:
    from covkb import store
    url = f"sqlite:///{tmp_path / 'covkb.sqlite3'}"
    monkeypatch.setenv("COVKB_STORE_URL", url)
    name = "loss_history_missing_is_conditional"
    example = dict(EXAMPLES)[name]
    s = Server(workers=1)
    try:
        with httpx.Client(base_url=s.url, timeout=120) as c:
            for _ in range(2):  # the same order twice: one decision, kept once
                [ci] = coverage_infos(c.post(f"/cds-services/{example['service']}", json=example["hook_request"]).json())
            expl = c.get(crd.explanation_link(ci).removeprefix(s.url)).json()
    finally:
        s.stop()
    kept = store.Store.open(url).decision(sub(ci, "coverage-assertion-id"))
    assert kept is not None and kept.kind == "crd" and kept.request == expl["request"]
    assert kept.version == expl["version"] and kept.status == "conditional"
    assert kept.answer["determination"]["outcome"] == example["expect"]["outcome"]


def _declared_assertions() -> list[tuple[str, crd.Assertion]]:
    """Every outcome of every installed policy's latest version, as its
    declaration makes it (with the questionnaire where it declares
    documentation), and the technical failure."""
    out = []
    for p in POLICIES:
        for o in p.data(p.latest()).outcomes.values():
            q = "http://covkb.example/fhir/Questionnaire/q|1" if o.crd_doc_needed else None
            out.append((f"{p.id}:{o.id}", crd.Assertion(o.crd_covered, o.label, info_needed=o.crd_info_needed,
                                                        doc_needed=o.crd_doc_needed, doc_purpose=o.crd_doc_purpose,
                                                        questionnaire=q, policy_words="P, version v, in force from 2024-01-01",
                                                        expiry=TODAY)))
    covered, coding = crd.TECHNICAL
    return [*out, ("technical", crd.Assertion(covered, "covkb could not decide", reason_coding=coding))]


POLICIES = [Policy(policy=f) for f in policy_folders()]
DECLARED = _declared_assertions()
BILLING = (None, {"system": "http://www.ama-assn.org/go/cpt", "code": "59325"})


def _ci(said: crd.Assertion, billing: dict | None = None) -> dict:
    return crd.coverage_information(said, coverage_ref="Coverage/c", billing=billing, link="http://x/v1/explanations/t",
                                    assertion_id="covkb-1", date=TODAY)


def test_the_declarations_give_every_crd_2_2_covered_code_but_indeterminate_to_an_outcome() -> None:
    covered = {said.covered for name, said in DECLARED if name != "technical"}
    assert covered == {"covered", "not-covered", "conditional"}
    assert any(said.doc_needed for _, said in DECLARED)  # some outcome asks for documentation
    assert dict(DECLARED)["technical"].covered == "indeterminate"


@pytest.mark.parametrize("billing", BILLING, ids=["no-billing", "billing"])
@pytest.mark.parametrize(("name", "said"), DECLARED, ids=[n for n, _ in DECLARED])
def test_every_outcome_maps_to_coverage_information_that_keeps_the_crd_invariants(name, said, billing) -> None:
    ci = _ci(said, billing)
    assert crd.invariant_violations(ci) == []
    validate_resource({"resourceType": "ServiceRequest", "status": "draft", "intent": "order",  # R4B: raises if not
                       "subject": {"reference": "Patient/p"}, "extension": [ci]}, "ci", "ServiceRequest")
    assert crd.explanation_link(ci) == "http://x/v1/explanations/t"


def _covered(value):
    return lambda ext: [dict(e, valueCode=value) if e["url"] == "covered" else e for e in ext]


def _without(url):
    return lambda ext: [e for e in ext if e["url"] != url]


def _plus(*subs):
    return lambda ext: [*ext, *subs]


_COVERED = crd.Assertion("covered", "r")
_DOC = crd.Assertion("conditional", "r", info_needed="OTH", doc_needed="clinical", doc_purpose="withpa",
                     questionnaire="http://q|1")
_TECH = crd.Assertion(crd.TECHNICAL[0], "r", reason_coding=crd.TECHNICAL[1])
BROKEN = [  # (invariant, a valid assertion, what breaks it)
    ("crd-ci-q1", _DOC, _without("doc-needed")),
    ("crd-ci-q2", _COVERED, lambda ext: _plus({"url": "pa-needed", "valueCode": "auth-needed"})(_covered("not-covered")(ext))),
    ("crd-ci-q3", _DOC, _without("info-needed")),
    ("crd-ci-q3", _COVERED, _plus({"url": "info-needed", "valueCode": "OTH"})),
    ("crd-ci-q4", _DOC, _plus({"url": "pa-needed", "valueCode": "no-auth"})),
    ("crd-ci-q5", _COVERED, _plus({"url": "pa-needed", "valueCode": "satisfied"})),
    ("crd-ci-q5", _COVERED, _plus({"url": "satisfied-pa-id", "valueString": "X"})),
    ("crd-ci-q6", _DOC, lambda ext: _without("doc-purpose")(_without("reason")(ext))),
    ("crd-ci-q7", _COVERED, lambda ext: [dict(e, valueCodeableConcept={"coding": [{"system": "http://x", "code": "y"}]})
                                         if e["url"] == "reason" else e for e in ext]),
    ("crd-ci-q8", _DOC, lambda ext: _without("info-needed")(_without("reason")(_covered("covered")(ext)))),
    ("crd-ci-q9", _TECH, _without("reason")),
    ("covered value set", _COVERED, _covered("maybe")),
    ("info-needed value set", _DOC, lambda ext: [dict(e, valueCode="later") if e["url"] == "info-needed" else e
                                                 for e in ext]),
    ("date 1..1", _COVERED, _without("date")),
    ("coverage-assertion-id 1..1", _COVERED, _without("coverage-assertion-id")),
    ("detail.category 1..1", _COVERED, lambda ext: [dict(e, extension=e["extension"][1:]) if e["url"] == "detail" else e
                                                    for e in ext]),
    ("expiry-date 0..1", _COVERED, _plus({"url": "expiry-date", "valueDate": "2030-01-01"},
                                         {"url": "expiry-date", "valueDate": "2031-01-01"})),
]


@pytest.mark.parametrize(("invariant", "said", "breaks"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_the_invariant_checker_catches_each_crd_2_2_invariant(invariant, said, breaks) -> None:
    ci = _ci(said)
    assert crd.invariant_violations(ci) == []  # valid before
    ci["extension"] = breaks(ci["extension"])
    assert invariant in crd.invariant_violations(ci)


def _hook(name: str) -> dict:
    return json.loads(json.dumps(dict(EXAMPLES)[name]["hook_request"]))


def test_crd_errors(client) -> None:
    good = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    # invalid FHIR: 400 with an OperationOutcome
    bad = json.loads(json.dumps(good))
    bad["prefetch"]["procedures"]["entry"][0]["resource"]["status"] = {"not": "a code"}
    r = client.post("/cds-services/covkb-order-sign", json=bad)
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    assert "prefetch.procedures" in r.json()["issue"][0]["diagnostics"]
    bad = json.loads(json.dumps(good))
    bad["context"]["draftOrders"] = {"resourceType": "Bundel"}
    assert client.post("/cds-services/covkb-order-sign", json=bad).status_code == 400
    r = client.post("/cds-services/covkb-order-sign", content=b"{")
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    # the wrong hook for the service
    wrong = dict(good, hook="order-select")
    assert client.post("/cds-services/covkb-order-sign", json=wrong).status_code == 400
    # prefetch missing and no FHIR server: 412
    missing = json.loads(json.dumps(good))
    del missing["prefetch"]["pregnancy_status"]
    body = _problem(client.post("/cds-services/covkb-order-sign", json=missing), 412, "prefetch_missing")
    assert "pregnancy_status" in body["detail"]
    missing["fhirServer"] = "https://ehr.example/fhir"  # not a server this service reads
    _problem(client.post("/cds-services/covkb-order-sign", json=missing), 412, "prefetch_missing")
    # unknown hook: 404
    _problem(client.post("/cds-services/covkb-order-dispatch", json=good), 404, "not_found")


def test_an_order_the_record_contradicts_is_indeterminate_not_an_error(client) -> None:
    call = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    obs = call["prefetch"]["pregnancy_status"]["entry"][0]["resource"]
    obs["valueCodeableConcept"]["coding"][0].update(code="LA26683-5", display="Not pregnant")
    r = client.post("/cds-services/covkb-order-sign", json=call)
    [ci] = coverage_infos(r.json())
    # covkb cannot read the record as a request: indeterminate, for a technical reason, said in words
    assert sub(ci, "covered") == "indeterminate" and sub(ci, "info-needed") is None
    assert sub(ci, "reason")["coding"] == [crd.TECHNICAL[1]]
    assert "contradicts" in sub(ci, "reason")["text"] and crd.invariant_violations(ci) == []


def test_order_sign_answers_every_service_request_and_keeps_the_rest_of_the_resource(client) -> None:
    call = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    first = call["context"]["draftOrders"]["entry"][0]["resource"]
    second = json.loads(json.dumps(first))
    second.update(id="order-2", code={"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "86357"}]},
                  extension=[{"url": "http://example.org/other", "valueString": "kept"}])
    call["context"]["draftOrders"]["entry"].append({"resource": second})
    call["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": "MedicationRequest", "id": "m1", "status": "draft",
                                                                 "intent": "order", "subject": {"reference": "Patient/pat-cone"},
                                                                 "medicationCodeableConcept": {"text": "aspirin"}}})
    actions = client.post("/cds-services/covkb-order-sign", json=call).json()["systemActions"]
    assert [a["resource"]["id"] for a in actions] == ["order-1", "order-2"]
    assert [a["type"] for a in actions] == ["update", "update"]
    assert [sub(coverage_infos({"systemActions": [a]})[0], "covered") for a in actions] == ["covered", "not-covered"]
    assert actions[1]["resource"]["extension"][0] == {"url": "http://example.org/other", "valueString": "kept"}


def test_no_active_coverage_gets_no_assertion(client) -> None:
    call = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    call["prefetch"]["coverage"] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    assert client.post("/cds-services/covkb-order-sign", json=call).json() == {"cards": [], "systemActions": []}


# -- the FHIR mapping is data, and silence is not evidence --------------------------------

@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_the_mapping_is_read_from_kb_and_names_only_vocabulary_ids(policy) -> None:
    m = load_mapping(policy)  # refuses a field, finding or service the policy does not declare
    assert m.files and all("kb" in f.parts for f in m.files)
    assert m.prefetch and m.order_codes and m.code_means and m.observations


def test_a_silent_record_leaves_every_finding_and_field_unknown() -> None:
    p = Policy()
    data = p.data(p.latest())
    order = {"resourceType": "ServiceRequest", "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "59325"}]}}
    req, evidence = record_request(load_mapping(p), data, order, {})
    assert req == {"cpt": "59325", "findings": [], "unlisted_findings": "unknown"}  # the request's own rule
    assert evidence == []


def test_a_resource_found_valid_is_not_validated_again_and_an_invalid_one_is_refused_every_time() -> None:
    good = {"resourceType": "Procedure", "id": "p-memo", "status": "completed", "subject": {"reference": "Patient/x"}}
    bad = dict(good, status={"not": "a code"})
    for _ in range(2):
        validate_resource(good, "prefetch.procedures")
        with pytest.raises(InvalidFhir, match="prefetch.procedures: Procedure.status"):
            validate_resource(bad, "prefetch.procedures")
    with pytest.raises(InvalidFhir, match="expected a Bundle"):
        validate_resource(good, "context.draftOrders", "Bundle")  # a remembered resource is still of its type


def test_a_refuted_condition_states_the_finding_absent_and_uncertain_resources_state_nothing() -> None:
    p = Policy()
    data = p.data(p.latest())
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    cond = lambda code, status: {"resourceType": "Condition", "code": {"coding": [{"system": icd, "code": code}]},  # noqa: E731
                                 "verificationStatus": {"coding": [{"code": status}]}, "subject": {"reference": "Patient/p"}}
    sct = "http://snomed.info/sct"
    record = {"condition": [cond("O71.3", "refuted"), cond("O26.872", "entered-in-error"), cond("O26.873", "unconfirmed")],
              "procedure": [{"resourceType": "Procedure", "status": "not-done", "code": {"coding": [{"system": sct, "code": "54535009"}]}}],
              "observation": [{"resourceType": "Observation", "status": "preliminary", "valueInteger": 4,
                               "code": {"coding": [{"system": "http://loinc.org", "code": "11614-5"}]}}]}
    req, _ = record_request(load_mapping(p), data, {"resourceType": "ServiceRequest"}, record)
    assert req["absent_findings"] == ["cervical_laceration_during_delivery"]
    # the rest is silence, read as unknown: nothing else is listed
    assert req["findings"] == [] and "unknown_findings" not in req and req["unlisted_findings"] == "unknown"
    assert "diagnoses" not in req and "prior_pregnancy_losses" not in req


@pytest.mark.parametrize(("lo", "hi", "want"), [(3, 10**6, 3), (2, 10**6, 2), (1, 10**6, None), (0, 1, 1), (0, 3, None), (5, 5, 5)])
def test_a_bound_settles_a_count_only_where_no_threshold_splits_it(lo, hi, want) -> None:
    p = Policy()
    assert settle_bound(p.data(p.latest()), "prior_pregnancy_losses", lo, hi) == want


def test_an_explanation_token_names_only_installed_policies(client) -> None:
    bad = crd.token("/tmp/elsewhere", "prolog", {"service": "nk_cell_test"})
    _problem(client.get(f"/v1/explanations/{bad}"), 404, "not_found")
    _problem(client.get("/v1/explanations/not-a-token"), 404, "not_found")
    good = crd.token("cigna_0284", "asp", {"service": "nk_cell_test", "prior_pregnancy_losses": 2})
    r = client.get(f"/v1/explanations/{good}")
    assert r.status_code == 200 and r.json()["outcome"] == "not_covered" and r.json()["explanation"]["children"]


def test_covkb_serve_starts_the_service() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from service_server import REPO, free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyapi"))
    proc = subprocess.Popen([sys.executable, "-m", "covkb.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                h = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert h["mode"] == "inline" and [s["serving"] for s in h["pool"]["servers"]] == [True]
        # authentication is on by default: a patient's facts need an access token, the policy does not
        r = httpx.post(f"http://127.0.0.1:{port}/v1/determine", json={"service": "nk_cell_test", "prior_pregnancy_losses": 2})
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/policies").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) in (0, -signal.SIGTERM)


@pytest.mark.parametrize("mode", ["inline", "pool"])
def test_covkb_serve_with_an_unknown_policy_fails_in_one_line_before_it_listens(mode: str) -> None:
    import os
    import subprocess
    import sys

    from service_server import REPO, free_port

    env = dict(os.environ, PYTHONPATH=str(REPO / "pyapi"))
    run = subprocess.run([sys.executable, "-m", "covkb.cli", "serve", "--port", str(free_port()), "--mode", mode,
                          "--policy", "nope"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["covkb: error: no policy 'nope'; `covkb policies` lists them"]


def test_an_identical_request_is_answered_from_the_memo_with_the_same_answer(client) -> None:
    # each server process has its memo: the health asked on the same connection is this process's
    body = {"service": "nk_cell_test", "prior_pregnancy_losses": 2, "date_of_service": "2025-03-03"}
    first = client.post("/v1/determine", params={"engine": "asp"}, json=body)
    hits = client.get("/healthz").json()["memo"]["hits"]
    second = client.post("/v1/determine", params={"engine": "asp"}, json=body)
    assert client.get("/healthz").json()["memo"]["hits"] == hits + 1
    assert second.status_code == first.status_code == 200 and second.content == first.content
    other = client.post("/v1/determine", params={"engine": "prolog"}, json=body)  # another engine: decided again
    assert client.get("/healthz").json()["memo"]["hits"] == hits + 1 and other.json()["outcome"] == first.json()["outcome"]


def test_a_cds_call_may_carry_a_larger_record_but_not_without_bound(client) -> None:
    call = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    call["prefetch"]["patient"]["text"] = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + "x" * (2 << 20) + "</div>"}
    assert client.post("/cds-services/covkb-order-sign", json=call).status_code == 200
    call["prefetch"]["patient"]["text"]["div"] = "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + "x" * (9 << 20) + "</div>"
    _problem(client.post("/cds-services/covkb-order-sign", json=call), 413, "too_large")


def _nested_extension(depth: int) -> dict:
    ext: dict = {"url": "http://example.org/leaf", "valueString": "x"}
    for _ in range(depth):
        ext = {"url": "http://example.org/nest", "extension": [ext]}
    return ext


def _many_orders(call: dict, n: int) -> dict:
    entry = call["context"]["draftOrders"]["entry"][0]
    call["context"]["draftOrders"]["entry"] = [json.loads(json.dumps(entry)) for _ in range(n)]
    for i, e in enumerate(call["context"]["draftOrders"]["entry"]):
        e["resource"]["id"] = f"o{i}"
    return call


# (what is out of proportion, how the call is made so) -> 422 over_limit before any work; the
# first used to answer 500 RecursionError, the second 400 with Python's words, the third to hold a
# server process for seconds (3,000 orders; 40,000 had it killed as hung)
OVER_LIMIT = [
    ("extensions nested 150 deep", lambda c: c["prefetch"]["patient"].setdefault("extension", []).append(
        _nested_extension(150)) or c),
    ("a body nested 10,000 deep", lambda c: c),  # written as text below: json.dumps cannot
    ("3,000 draft orders", lambda c: _many_orders(c, 3000)),
]


@pytest.mark.parametrize(("what", "make"), OVER_LIMIT, ids=[w for w, _ in OVER_LIMIT])
def test_a_cds_call_out_of_proportion_is_refused_before_any_work(client, what, make) -> None:
    call = make(_hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"))
    body = json.dumps(call)
    if "10,000" in what:
        body = body.replace('"resourceType": "Patient"', '"resourceType": "Patient", "x": ' + "[" * 10000 + "]" * 10000)
    start = time.monotonic()
    r = client.post("/cds-services/covkb-order-sign", content=body, headers={"content-type": "application/json"})
    problem = _problem(r, 422, "over_limit")
    assert "limit" in problem["detail"] or "at most" in problem["detail"]
    assert not any(w in r.text for w in ("Recursion", "Traceback", "recursion depth", ".py"))
    assert time.monotonic() - start < 5


def test_up_to_the_order_limit_a_call_is_answered(client) -> None:
    from covkb.service.fhir_map import MAX_ORDERS

    r = client.post("/cds-services/covkb-order-sign", json=_many_orders(
        _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"), MAX_ORDERS))
    assert r.status_code == 200, r.text


def test_missing_prefetch_is_read_from_an_allowed_fhir_server_with_its_authorization(client, fhir) -> None:
    name = "pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"
    call = _hook(name)
    with_prefetch = client.post("/cds-services/covkb-order-sign", json=call).json()
    for key in ("conditions", "procedures", "pregnancy_status"):
        del call["prefetch"][key]
    call["fhirServer"] = fhir.url
    call["fhirAuthorization"] = {"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "covkb"}
    r = client.post("/cds-services/covkb-order-sign", json=call)
    assert r.status_code == 200, r.text
    assert check_example(dict(EXAMPLES)[name], r.json(), None) == []
    assert coverage_infos(r.json())[0] == coverage_infos(with_prefetch)[0]
    asked = {q.split("?")[0] for q, _a in fhir.asked}
    assert asked == {"Condition", "Procedure", "Observation"} and {a for _q, a in fhir.asked} == {"Bearer t0k3n"}
    # an answer that rests on the FHIR server is read again, never remembered
    assert r.headers["cache-control"] == "no-store"
    n = len(fhir.asked)
    assert client.post("/cds-services/covkb-order-sign", json=call).status_code == 200 and len(fhir.asked) == n + 3
    # a server the service was not started with is never asked
    call["fhirServer"] = "http://127.0.0.1:9/fhir"
    body = _problem(client.post("/cds-services/covkb-order-sign", json=call), 412, "prefetch_missing")
    assert "does not query the FHIR server" in body["detail"]


def test_a_redirect_from_the_allowed_fhir_server_is_not_followed_with_the_token(client, fhir) -> None:
    """The EHR's token used to follow a 302 to any host the FHIR server named (6 GETs, each with it)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    stolen: list[str | None] = []

    class Thief(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            stolen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    thief = ThreadingHTTPServer(("127.0.0.1", 0), Thief)
    threading.Thread(target=thief.serve_forever, daemon=True).start()
    call = _hook("pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered")
    del call["prefetch"]["conditions"]
    call["fhirServer"] = fhir.url
    call["fhirAuthorization"] = {"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "covkb"}
    fhir.redirect_to = f"http://127.0.0.1:{thief.server_address[1]}/stolen"
    try:
        body = _problem(client.post("/cds-services/covkb-order-sign", json=call), 412, "prefetch_missing")
    finally:
        fhir.redirect_to = None
        thief.shutdown()
    assert "redirect" in body["detail"] and stolen == []


def test_the_memo_is_bounded_by_count_and_by_bytes() -> None:
    from covkb.service.app import Memo

    m = Memo(3, 100)
    for i in range(5):
        m.put((i,), (200, "application/json", b"x" * 30))
    assert list(m.items) == [(2,), (3,), (4,)] and m.bytes == 90
    m.get((2,))
    m.put((5,), (200, "application/json", b"x" * 40))  # 4 entries: the least recently used goes
    assert list(m.items) == [(4,), (2,), (5,)] and m.bytes == 100
    m.put((6,), (200, "application/json", b"x" * 45))  # over 100 bytes: the least recently used go
    assert list(m.items) == [(5,), (6,)] and m.bytes == 85
    m.put((7,), (200, "application/json", b"x" * 101))  # larger than the whole memo: not kept
    assert (7,) not in m.items and Memo(0, 100).get((1,)) is None


def test_what_one_turn_of_the_event_loop_writes_goes_out_as_one_write() -> None:
    """A response's head and body reach the socket in one write (uvicorn
    writes them apart); a close sends what is pending first; an abort drops it."""
    import asyncio

    from covkb.service.http_protocol import _OneWrite

    class Transport:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(data)

        def is_closing(self) -> bool:
            return self.closed

        def get_write_buffer_size(self) -> int:
            return 0

        def close(self) -> None:
            self.closed = True

        def abort(self) -> None:
            self.closed = True

        def get_extra_info(self, name: str) -> str:
            return f"info:{name}"

    async def scenario() -> None:
        t = Transport()
        w = _OneWrite(t)
        w.write(b"HTTP/1.1 200 OK\r\n\r\n")
        w.write(memoryview(b"body"))
        assert t.writes == [] and w.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        assert t.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        w.write(b"last")
        w.close()
        assert t.writes[-1] == b"last" and t.closed
        assert w.get_extra_info("peername") == "info:peername"
        t2 = Transport()
        w2 = _OneWrite(t2)
        w2.write(b"never")
        w2.abort()
        await asyncio.sleep(0)
        assert t2.writes == [] and t2.closed

    asyncio.run(scenario())
