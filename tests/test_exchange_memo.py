"""What the prior-authorization exchange remembers, or does once where it
did twice, answers what it would have computed afresh (issue 23's latency
work; docs/performance.md):

* a questionnaire planned from the cases that decided the request (PAS:
  each item decided once) is the plan made by deciding it again;
* an engine worker's plans are remembered by policy, engine, version (or
  the day) and what the request says, and the request CRD kept under a
  coverage-assertion-id once found; CRD's determinations by what the
  mapped record says (two patients' records alike: one determination);
* a Bundle validated a part at a time (its envelope, then each resource not
  found valid lately) is refused exactly where whole validation refuses it,
  in the same words.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from covkb import KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.questionnaire import decide, plan
from covkb.service import fhir_map
from covkb.service.fhir_map import InvalidFhir, validate_resource

REPO = Path(__file__).resolve().parents[1]


def _undecided() -> list[Any]:
    return [pytest.param(str(p), q, id=f"{p.name}-{q.name}") for p in policy_folders()
            for q in load_queries(Policy(policy=p).queries_dir)
            if q.expect.get("outcome") == "insufficient_information" and q.version_ref() is None]


_KBS: dict[str, KnowledgeBase] = {}


def _kb(policy: str) -> KnowledgeBase:
    if policy not in _KBS:
        _KBS[policy] = KnowledgeBase(engine="prolog", policy=policy)
    return _KBS[policy]


@pytest.mark.parametrize(("policy", "query"), _undecided())
def test_a_plan_from_the_cases_that_decided_the_request_is_the_plan_made_afresh(policy: str, query: Any) -> None:
    kb = _kb(policy)
    decided = decide(kb, query.request)
    version = decided[2].version
    assert decided[2].outcome == "insufficient_information"
    assert plan(kb, query.request, version, decided=decided) == plan(kb, query.request, version)


def test_a_worker_remembers_plans_by_version_and_what_is_known_and_a_kept_request_once_found(tmp_path: Path) -> None:
    from covkb.service.ops import Worker
    from covkb.store import Store

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    w = Worker({"policy": None, "today": "2025-06-01", "store": url, "preload_policies": [],
                "preload_engines": []})
    q = next(q for p in policy_folders() for q in load_queries(Policy(policy=p).queries_dir)
             if q.expect.get("outcome") == "insufficient_information" and q.version_ref() is None
             and Policy(policy=p).id == Policy().id)
    kb = w.kb(None, "prolog")
    first = w.plan(kb, q.request)
    assert w.plan(kb, json.loads(json.dumps(q.request))) is first  # the same facts: the same plan, not made again
    assert w.plan(kb, q.request, first.version) == first and w.plan(kb, q.request, first.version) is not first
    other = {**q.request, "unlisted_findings": "absent" if q.request.get("unlisted_findings") != "absent" else "unknown"}
    assert w.plan(kb, other) is not first
    # a kept CRD request: None until CRD keeps it (not remembered as missing), then found once
    assert w._stored_request("assertion-1") is None
    with Store.open(url) as store:
        store.save_decision("crd", "assertion-1", policy=kb.policy.id, version=first.version, kb_digest="d",
                            request=q.request, answer={}, status="decided")
    assert w._stored_request("assertion-1") == q.request
    w._store.close()
    w._store, w.store_url = None, f"sqlite:///{tmp_path / 'absent' / 'none.sqlite3'}"  # the store gone: still known
    assert w._stored_request("assertion-1") == q.request


def _bundle() -> dict[str, Any]:
    path = next(p for p in sorted((REPO / "queries" / "fhir").rglob("*.json"))
                if '"preauthorization"' in p.read_text())
    data = json.loads(path.read_text())
    return next(c for c in (data, *(v for v in data.values() if isinstance(v, dict)))
                if c.get("resourceType") == "Bundle")


def _whole(bundle: dict[str, Any]) -> str | None:
    """Whole validation's words (the resources remembered valid forgotten first)."""
    fhir_map._valid.clear()
    try:
        fhir_map._validate_model(bundle, "Bundle", "the PAS request")
    except InvalidFhir as err:
        return err.message
    return None


def _broken(where: str) -> dict[str, Any]:
    b = copy.deepcopy(_bundle())
    if where == "envelope":
        b["timestamp"] = "not a time"
    elif where == "claim":
        b["entry"][0]["resource"]["status"] = {"not": "a code"}
    else:  # a resource that recurs (remembered valid in another Bundle), then changed in this one
        b["entry"][-1]["resource"]["id"] = ["not", "an id"]
    return b


@pytest.mark.parametrize("where", ["envelope", "claim", "another entry"])
def test_a_bundle_validated_by_entry_is_refused_where_and_as_whole_validation_refuses_it(where: str) -> None:
    bad = _broken(where)
    said = _whole(bad)
    assert said is not None
    validate_resource(_bundle(), "the PAS request", "Bundle")  # its other resources now remembered valid
    with pytest.raises(InvalidFhir) as err:
        validate_resource(bad, "the PAS request", "Bundle")
    assert err.value.message == said


def test_a_bundle_of_resources_found_valid_is_validated_by_entry_and_remembered() -> None:
    good = _bundle()
    resources = sum(1 for e in good["entry"] if isinstance(e.get("resource"), dict))
    fhir_map._valid.clear()
    assert not fhir_map._valid_by_entry(good)  # nothing of it seen: validated whole, in one pass
    validate_resource(good, "the PAS request", "Bundle")
    assert len(fhir_map._valid) == resources + 1  # the Bundle, and each of its resources
    fresh = copy.deepcopy(good)
    fresh["identifier"] = {"system": "urn:test", "value": "another"}  # a new request, its record the same
    assert fhir_map._valid_by_entry(fresh)
    validate_resource(fresh, "the PAS request", "Bundle")
    assert len(fhir_map._valid) == resources + 2  # only the new Bundle itself


def test_a_worker_remembers_crds_determinations_by_what_the_record_says_not_whose_record_it_is(tmp_path: Path) -> None:
    """Two patients' records that say the same: the second order is answered
    by the determination the first made (the same object), its cards alike
    but for the patient."""
    from covkb.service.ops import Worker

    w = Worker({"policy": "cigna_0284", "today": "2025-06-01", "store": f"sqlite:///{tmp_path / 's.sqlite3'}",
                "preload_policies": [], "preload_engines": []})
    example = json.loads((REPO / "queries" / "fhir" / "nk_cell_testing_is_not_covered.json").read_text())
    body = json.dumps(example["hook_request"])
    pid = example["hook_request"]["context"]["patientId"]
    answers = [json.loads(w.op_cds(b.encode(), "order-sign", None, "http://x")[2])
               for b in (body, body.replace(pid, pid + "-another"))]
    assert len(w._decided) == 1
    (first,) = w._decided.values()
    kb = w.kb(None, "prolog")
    assert w.decided(kb, json.loads(next(iter(w._decided))[-1])) is first
    assert [c["summary"] for c in answers[0]["cards"]] == [c["summary"] for c in answers[1]["cards"]]
    assert answers[0]["cards"] and first.outcome == "not_covered"
