"""One rule for a silent record, on every surface (issue 21, item 2).

A finding a request does not list is read as the request's
``unlisted_findings`` says: unknown (the default: a record's silence is not
evidence) or absent; ``absent_findings`` states findings absent outright.
Here, as data:

- the contradictions a request may state about a finding are refused in
  one line, by both readers of a request;
- both engines give the same whole answer, the new sources included
  (``not_stated``, ``stated_absent``, ``general_stated_absent``,
  ``closed_world``), and the reading changes only what silence means;
- every named query's silent record (its request without
  ``unlisted_findings``) gets the same outcome from the CLI (a process per
  request), the API (a real server on 127.0.0.1), the batch (one run per
  policy) and the CRD service (a CDS Hooks call built from the request,
  for every query a FHIR record can state), as in process.  A surface is
  one entry of ``SURFACES``: the web form is added there.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from covkb import CovkbError, InvalidRequest, KnowledgeBase
from covkb.batch import run_batch
from covkb.policy import Policy, policy_folders
from covkb.queries import NamedQuery, load_queries
from covkb.render import to_markdown, to_text
from covkb.service.crd import explanation_link, orders_of, record_of
from covkb.service.examples import coverage_infos, examples, sub
from covkb.service.fhir_map import load_mapping, record_request

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 6, 1)
ENGINES = ("prolog", "asp")
POLICIES = [Policy(policy=f) for f in policy_folders()]
D = {"date_of_service": "2025-06-01"}


@functools.cache
def _kb(policy: str = "cigna-0284", engine: str = "prolog") -> KnowledgeBase:
    return KnowledgeBase(policy=policy, engine=engine, today=TODAY)


# -- contradictions: refused in one line ------------------------------------------------------------------------

CONTRADICTIONS = [
    ({"findings": ["cone_biopsy"], "absent_findings": ["cone_biopsy"]},
     "finding 'cone_biopsy' is listed both as present and as absent"),
    ({"unknown_findings": ["cone_biopsy"], "absent_findings": ["cone_biopsy"]},
     "finding 'cone_biopsy' is listed both as unknown and as absent"),
    ({"findings": ["cone_biopsy"], "unknown_findings": ["cone_biopsy"]},
     "finding 'cone_biopsy' is listed both as present and as unknown"),
    # a finding stated absent rules out its more specific forms
    ({"findings": ["cone_biopsy"], "absent_findings": ["prior_cervical_trauma"]},
     "finding 'cone_biopsy' is listed as present but its more general form 'prior_cervical_trauma' as absent"),
    ({"unknown_findings": ["cone_biopsy"], "absent_findings": ["prior_cervical_trauma"]},
     "finding 'cone_biopsy' is listed as unknown but its more general form 'prior_cervical_trauma' as absent"),
    ({"unlisted_findings": "maybe"}, "unlisted_findings: 'maybe' is not one of unknown or absent"),
    ({"unlisted_findings": None}, None),  # JSON null: the default
    ({"absent_findings": ["no_such_finding"]}, "absent_findings: unknown finding 'no_such_finding'"),
]


@pytest.mark.parametrize(("fields", "message"), CONTRADICTIONS, ids=[m or "null" for _, m in CONTRADICTIONS])
def test_a_request_that_contradicts_itself_is_refused_in_one_line(fields: dict, message: str | None) -> None:
    req = {**D, "cpt": "59325", "prior_pregnancy_losses": 3, **fields}
    kb = _kb()
    if message is None:
        assert kb.determine(req).unlisted_findings == "unknown"
        return
    with pytest.raises(InvalidRequest) as exc:
        kb.determine(req)
    assert exc.value.message.startswith(message) and "\n" not in exc.value.message
    with pytest.raises(InvalidRequest) as by_model:  # the model words the same refusal
        kb.parse(req)
    assert by_model.value.message == exc.value.message


def test_the_cli_refuses_a_contradiction_in_one_line() -> None:
    p = subprocess.run([sys.executable, "-m", "covkb.cli", "determine", "--cpt", "59325", "--losses", "3",
                        "--date", "2025-06-01", "--finding", "cone_biopsy", "--absent-finding", "cone_biopsy"],
                       capture_output=True, text=True, env=_env())
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == "covkb: error: finding 'cone_biopsy' is listed both as present and as absent\n"


# -- what silence means, in both engines ----------------------------------------------------------------------------

# (request fields, the fact, its value and source in every case, the outcome)
SOURCES = [
    ({}, "shortened_cervical_length", "unknown", "not_stated", "insufficient_information"),
    ({"unlisted_findings": "unknown"}, "shortened_cervical_length", "unknown", "not_stated",
     "insufficient_information"),
    ({"unlisted_findings": "absent"}, "shortened_cervical_length", "no", "closed_world", "criteria_not_met"),
    ({"absent_findings": ["shortened_cervical_length", "prior_cervical_trauma",
                          "prior_failed_history_indicated_transvaginal_cerclage"]},
     "shortened_cervical_length", "no", "stated_absent", "criteria_not_met"),
    ({"absent_findings": ["prior_failed_transvaginal_cerclage"], "unlisted_findings": "absent"},
     "prior_failed_history_indicated_transvaginal_cerclage", "no", "general_stated_absent", "criteria_not_met"),
    ({"absent_findings": ["prior_failed_transvaginal_cerclage"]},
     "prior_failed_history_indicated_transvaginal_cerclage", "no", "general_stated_absent",
     "insufficient_information"),
    ({"findings": ["cone_biopsy"]}, "shortened_cervical_length", "unknown", "not_stated", "medically_necessary"),
    ({"unknown_findings": ["cone_biopsy"], "unlisted_findings": "absent"}, "prior_cervical_trauma", "unknown",
     "specific_form_unknown", "insufficient_information"),
]


def _settled(node: dict, fact: str) -> set[tuple[str, str]]:
    """(value, source) of every node that settles the fact from the request."""
    out = set()
    if node.get("kind") == "fact" and node.get("id") == fact and node.get("source") != "assumed":
        out.add((node["value"], node["source"]))
    for c in node.get("children", ()):
        out |= _settled(c, fact)
    return out


@pytest.mark.parametrize(("fields", "fact", "value", "source", "outcome"), SOURCES,
                         ids=[f"{s}-{json.dumps(f, sort_keys=True)}" for f, _, _, s, _ in SOURCES])
def test_both_engines_read_silence_alike(fields: dict, fact: str, value: str, source: str, outcome: str) -> None:
    req = {**D, "service": "transabdominal_cerclage", "pregnant": True, "prior_pregnancy_losses": 3, **fields}
    answers = [_kb(engine=e).determine(req).to_dict() for e in ENGINES]
    assert answers[0] == {**answers[1], "warnings": answers[0]["warnings"]}  # the whole answer, derivation included
    d = answers[0]
    assert d["outcome"] == outcome
    assert d["unlisted_findings"] == fields.get("unlisted_findings", "unknown")
    # the fact's unknown is shown as the request settles it under each case's assumption
    assert _settled(d["explanation"], fact) == {(value, source)}


def test_every_answer_says_its_reading_in_words() -> None:
    kb = _kb()
    section_path = kb.policy.data(kb.policy.latest()).section_path
    for reading, words in (("unknown", "read as unknown"), ("absent", "read as absent")):
        d = kb.determine({**D, "cpt": "59325", "prior_pregnancy_losses": 3, "unlisted_findings": reading})
        assert d.to_dict()["unlisted_findings"] == reading
        assert any(line.strip().startswith(f"unlisted findings: {words}")
                   for line in to_text(d, section_path).splitlines()[:8])
        markdown = to_markdown(d, section_path).splitlines()[:8]
        assert any(line.startswith(f"- unlisted findings: {words}") for line in markdown)


CSV_ROWS = [  # a batch's CSV columns of the same names: lists ;-separated
    ("cpt,prior_pregnancy_losses,date_of_service\n59325,3,2025-06-01\n", "insufficient_information", "unknown"),
    ("cpt,prior_pregnancy_losses,date_of_service,unlisted_findings\n59325,3,2025-06-01,absent\n", "criteria_not_met",
     "absent"),
    ("cpt,prior_pregnancy_losses,date_of_service,absent_findings\n59325,3,2025-06-01,"
     "prior_cervical_trauma;prior_failed_history_indicated_transvaginal_cerclage;shortened_cervical_length\n",
     "criteria_not_met", "unknown"),
]


@pytest.mark.parametrize(("text", "outcome", "reading"), CSV_ROWS, ids=["silent", "closed", "stated absent"])
def test_a_csv_batch_reads_the_reading_and_the_absent_findings_columns(tmp_path: Path, text: str, outcome: str,
                                                                       reading: str) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(text, encoding="utf-8")
    run_batch(str(src), str(dst), policy="cigna_0284")
    [row] = list(csv.DictReader(dst.read_text(encoding="utf-8").splitlines()))
    assert (row["outcome"], row["unlisted_findings"], row["error_code"]) == (outcome, reading, "")


# -- the same silent record on every surface -----------------------------------------------------------------------

def _silent(q: NamedQuery) -> dict[str, Any]:
    """The query's record as it stands, read by the default: no reading stated."""
    return {k: v for k, v in q.request.items() if k != "unlisted_findings"}


# queries decided by a version or a draft chosen by hand are left out: a batch line and a CDS call cannot choose one
QUERIES = [(p.id, q) for p in POLICIES for q in load_queries(p.queries_dir) if q.version is None]
KEYS = [f"{p}:{q.name}" for p, q in QUERIES]


def _outcome(d: dict[str, Any]) -> str:
    """An answer's outcome, or its error's code (a record's error, or a problem's)."""
    return d["error"]["code"] if "error" in d else d["code"] if "status" in d else d["outcome"]


def _in_process(policy: str, q: NamedQuery) -> str:
    try:
        return _kb(policy).determine(_silent(q)).outcome
    except CovkbError as err:
        return err.code


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "pyapi") + os.pathsep + os.environ.get("PYTHONPATH", ""))


def by_cli(server: Any, tmp: Path) -> dict[str, str]:
    """`covkb determine --format json`, a process per request."""
    out = {}
    for (policy, q), key in zip(QUERIES, KEYS):
        p = subprocess.run([sys.executable, "-m", "covkb.cli", "determine", "--policy", policy, "-r", "-",
                            "--format", "json"], input=json.dumps(_silent(q)), capture_output=True, text=True,
                           env=_env())
        out[key] = _outcome(json.loads(p.stdout)) if p.stdout.strip() else f"exit {p.returncode}: {p.stderr}"
    return out


def by_api(server: Any, tmp: Path) -> dict[str, str]:
    """POST /v1/determine on the real server."""
    out = {}
    with httpx.Client(base_url=server.url, timeout=120) as c:
        for (policy, q), key in zip(QUERIES, KEYS):
            r = c.post("/v1/determine", params={"policy": policy}, content=json.dumps(_silent(q)),
                       headers={"content-type": "application/json"})
            body = r.json()
            out[key] = body["outcome"] if r.status_code == 200 else body["code"]
    return out


def by_batch(server: Any, tmp: Path) -> dict[str, str]:
    """`covkb batch`'s run, one per policy: a JSON line per query."""
    out = {}
    for p in POLICIES:
        mine = [(q, key) for (policy, q), key in zip(QUERIES, KEYS) if policy == p.id]
        src, dst = tmp / f"{p.id}.jsonl", tmp / f"{p.id}.out.jsonl"
        src.write_text("".join(json.dumps(_silent(q)) + "\n" for q, _ in mine), encoding="utf-8")
        run_batch(str(src), str(dst), policy=p.id)
        for (_, key), line in zip(mine, dst.read_text(encoding="utf-8").splitlines()):
            out[key] = _outcome(json.loads(line))
    return out


# -- the CRD surface: a CDS Hooks call that states the query's record in FHIR -----------------------------------

_TEMPLATE = dict(examples())["pregnancy_status_missing_and_no_cervical_history_is_conditional"]["hook_request"]


def _coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _observation(m: Any, field: str) -> tuple[str, str]:
    """The Observation code (system URI, code) that gives a request field."""
    return next(key for key, readings in m.observations.items() if any(f == field for f, _ in readings))


def _cds_call(policy: Policy, req: dict[str, Any]) -> dict[str, Any] | None:
    """A CDS Hooks order-sign call whose record states what the request
    states (the order's CPT code and date; conditions, procedures and
    observations for its findings, diagnoses, pregnancy and losses), built
    from the policy's FHIR mapping; None when FHIR cannot state a field."""
    m = load_mapping(policy)
    if set(req) - {"date_of_service", "cpt", "pregnant", "prior_pregnancy_losses", "diagnoses", "findings",
                   "absent_findings", "unknown_findings"} or "cpt" not in req:
        return None
    call = copy.deepcopy(_TEMPLATE)
    pid = call["context"]["patientId"]
    order = call["context"]["draftOrders"]["entry"][0]["resource"]
    order["code"] = _coded(m.systems["cpt"], req["cpt"])
    order["occurrenceDateTime"] = order["authoredOn"] = req.get("date_of_service", TODAY.isoformat())
    pre = call["prefetch"]
    conditions, procedures, status, history = [], [], [], []
    means = {(field, value): key for key, fv in m.code_means.items() for field, value in fv}
    for stance, findings in (("confirmed", req.get("findings", ())), ("refuted", req.get("absent_findings", ()))):
        for f in findings:
            key = means.get(("findings", f))
            if key is None or (key[0] == "procedure" and stance == "refuted"):
                return None  # FHIR states a procedure done, never one not done
            res = {"resourceType": key[0].capitalize(), "id": f"{key[0]}-{len(conditions) + len(procedures)}",
                   "subject": {"reference": f"Patient/{pid}"}, "code": _coded(key[1], key[2])}
            if key[0] == "procedure":
                procedures.append({**res, "status": "completed"})
            else:
                conditions.append({**res, "verificationStatus": _coded(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status", stance)})
    for i, code in enumerate(req.get("diagnoses", ())):
        conditions.append({"resourceType": "Condition", "id": f"dx-{i}", "subject": {"reference": f"Patient/{pid}"},
                           "code": _coded(next(u for (res, u), f in m.code_lists.items() if f == "diagnoses"), code)})
    subject = {"reference": f"Patient/{pid}"}
    if "pregnant" in req:
        uri, code = _observation(m, "pregnant")
        said = "yes" if req["pregnant"] else "no"
        answer = next(a for (_, c, a), v in m.answers.items() if c == code and v == said)
        status.append({"resourceType": "Observation", "id": "preg", "status": "final", "subject": subject,
                       "code": _coded(uri, code), "effectiveDateTime": "2025-05-20",
                       "valueCodeableConcept": _coded(uri, answer)})
    if "prior_pregnancy_losses" in req:
        uri, code = _observation(m, "prior_pregnancy_losses")
        history.append({"resourceType": "Observation", "id": "sab", "status": "final", "subject": subject,
                        "code": _coded(uri, code), "effectiveDateTime": "2025-05-20",
                        "valueInteger": req["prior_pregnancy_losses"]})
    for k, rs in (("conditions", conditions), ("procedures", procedures), ("pregnancy_status", status),
                  ("pregnancy_history", history)):
        pre[k] = {"resourceType": "Bundle", "type": "searchset", "total": len(rs),
                  "entry": [{"resource": r} for r in rs]}
    return call


def _crd_request(policy: Policy, call: dict[str, Any]) -> dict[str, Any]:
    """The request the CRD service reads from the call (in process)."""
    m = load_mapping(policy)
    record, _ = record_of(call, m)
    [order] = orders_of(call, call["hook"])
    return record_request(m, policy.data(policy.latest()), order, record)[0]


def _same_answer(policy: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    def answer(r: dict[str, Any]) -> Any:
        try:
            d = _kb(policy).determine(r).to_dict()
        except CovkbError as err:
            return err.code
        d.pop("warnings")
        return d
    return answer(a) == answer(b)


@functools.cache
def crd_calls() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every query whose record FHIR states, as its call: the call the CRD
    service reads as a request with the same whole answer as the query's
    silent record (so FHIR stated it all), by the policy's CDS service."""
    out = {}
    for (policy, q), key in zip(QUERIES, KEYS):
        pol = next(p for p in POLICIES if p.id == policy)
        call = _cds_call(pol, _silent(q))
        if call is not None and _same_answer(policy, _silent(q), _crd_request(pol, call)):
            out[key] = (policy, call)
    return out


# the silent records the CRD service must read as the other surfaces do (their FHIR states them)
CRD_MUST_STATE = [
    "cigna_0284:cpt_59325_with_three_losses_and_a_silent_record_needs_more_information",
    "cigna_0284:cpt_59325_with_cone_biopsy_is_medically_necessary",
    "cigna_0284:cpt_59325_without_conditions_criteria_not_met",
]


@pytest.mark.parametrize("key", CRD_MUST_STATE)
def test_the_crd_service_reads_a_silent_record_as_the_request_language_does(key: str) -> None:
    assert key in crd_calls(), f"{key}: the CRD service's request answers otherwise than the query's silent record"


def by_crd(server: Any, tmp: Path) -> dict[str, str]:
    """A CDS Hooks order-sign call per query FHIR can state; the outcome is
    the explanation's its coverage information links to."""
    out = {}
    with httpx.Client(base_url=server.url, timeout=120) as c:
        ids = {s["id"] for s in c.get("/cds-services").json()["services"] if s["hook"] == "order-sign"}
        for key, (policy, call) in crd_calls().items():
            sid = f"covkb-order-sign-{policy}" if f"covkb-order-sign-{policy}" in ids else "covkb-order-sign"
            r = c.post(f"/cds-services/{sid}", json=call)
            assert r.status_code == 200, r.text
            [ci] = coverage_infos(r.json())
            link = explanation_link(ci)
            out[key] = _outcome(c.get(link.removeprefix(server.url)).json())
    return out


SURFACES: dict[str, Callable[[Any, Path], dict[str, str]]] = {
    "cli": by_cli, "api": by_api, "batch": by_batch, "crd": by_crd,
}


@pytest.fixture(scope="module")
def server():
    from service_server import Server

    s = Server("--mode", "inline", workers=1)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def answers(server, tmp_path_factory) -> dict[str, dict[str, str]]:
    """Each surface's outcome for each query's silent record, asked once."""
    return {name: ask(server, tmp_path_factory.mktemp(name)) for name, ask in SURFACES.items()}


@pytest.mark.exhaustive  # every named query through a process, a server, a batch and CRD each: the last tier
@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize(("policy", "query"), QUERIES, ids=KEYS)
def test_every_surface_gives_a_silent_record_the_same_outcome(answers, surface: str, policy: str,
                                                               query: NamedQuery) -> None:
    key = f"{policy}:{query.name}"
    if surface == "crd" and key not in crd_calls():
        pytest.skip("FHIR does not state this record (a service id, a qualifier, a refuted procedure, ...)")
    assert answers[surface][key] == _in_process(policy, query)
