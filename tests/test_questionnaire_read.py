"""A generated Questionnaire read back (DTR clients fetch the one CRD names by
its canonical URL): ``GET /fhir/Questionnaire/{id}`` and ``GET
/fhir/Questionnaire?url=CANONICAL`` return the Questionnaire covkb generated
— in ``$questionnaire-package``, named in CRD's doc-needed, or pended in PAS —
made again from what it knew (kept in covkb.store under its id).  An id or
URL covkb never generated is 404, or an empty searchset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from covkb.service.ops import Worker

BASE = "http://covkb.test"
CPT = "http://www.ama-assn.org/go/cpt"
ORDER = {"resourceType": "ServiceRequest", "id": "order-1", "status": "draft", "intent": "order",
         "subject": {"reference": "Patient/p1"}, "occurrenceDateTime": "2025-06-01",
         "code": {"coding": [{"system": CPT, "code": "59325"}]}}
COVERAGE = {"resourceType": "Coverage", "id": "cov-1", "status": "active", "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"reference": "Organization/payer"}]}
PACKAGE = {"resourceType": "Parameters", "parameter": [{"name": "coverage", "resource": COVERAGE},
                                                        {"name": "order", "resource": ORDER}]}


def _worker(tmp_path: Path) -> Worker:
    return Worker({"policy": "cigna_0284", "today": "2025-06-01", "preload_policies": [], "preload_engines": [],
                   "store": f"sqlite:///{tmp_path / 'store.sqlite3'}"})


def _call(w: Worker, op: str, body: dict[str, Any] | None = None, **args: Any) -> tuple[int, dict[str, Any]]:
    status, _, out = w.handle({"op": op, "args": args}, json.dumps(body or {}).encode())
    return status, json.loads(out)


def _packaged(w: Worker, **args: Any) -> dict[str, Any]:
    status, out = _call(w, "dtr_package", PACKAGE, policy="cigna_0284", base_url=BASE, **args)
    assert status == 200, out
    (bundle,) = [p["resource"] for p in out["parameter"] if p["name"] == "packagebundle"]
    return bundle["entry"][0]["resource"]


def test_a_packaged_questionnaire_is_read_back_by_its_id_and_its_canonical_url(tmp_path: Path) -> None:
    w = _worker(tmp_path)
    q = _packaged(w)
    status, got = _call(w, "questionnaire", qid=q["id"], base_url=BASE)
    assert status == 200 and got == q
    Questionnaire.model_validate(got)
    status, found = _call(w, "questionnaire", url=q["url"], base_url=BASE)
    assert status == 200 and found["type"] == "searchset" and found["total"] == 1
    Bundle.model_validate(found)
    assert found["entry"][0]["resource"] == q and found["entry"][0]["fullUrl"] == q["url"]
    status, found = _call(w, "questionnaire", url=f"{q['url']}|{q['version']}", base_url=BASE)
    assert found["total"] == 1
    adaptive = _packaged(w, adaptive=True)
    status, got = _call(w, "questionnaire", qid=adaptive["id"], base_url=BASE)
    assert status == 200 and got == adaptive and "item" not in got


def test_any_process_reads_it_back_from_the_store(tmp_path: Path) -> None:
    q = _packaged(_worker(tmp_path))
    status, got = _call(_worker(tmp_path), "questionnaire", qid=q["id"], base_url=BASE)  # another worker, the same store
    assert status == 200 and got == q


def test_the_questionnaire_crd_names_is_read_back_by_its_canonical_url(tmp_path: Path) -> None:
    from covkb.service.examples import examples

    w = _worker(tmp_path)
    ex = next(ex for _n, ex in examples() if ex["expect"].get("doc-needed") and ex["service"] == "covkb-order-sign")
    status, out = _call(w, "cds", ex["hook_request"], hook="order-sign", policy=None, base_url=BASE)
    assert status == 200, out
    (named,) = [e["valueCanonical"] for a in out["systemActions"] for ext in a["resource"].get("extension") or []
                if ext["url"].endswith("ext-coverage-information") for e in ext["extension"] if e["url"] == "questionnaire"]
    status, found = _call(w, "questionnaire", url=named, base_url=BASE)
    assert status == 200 and found["total"] == 1 and found["entry"][0]["resource"]["url"] == named


@pytest.mark.parametrize(("args", "words"), [
    ({"qid": "cigna-0284.2025-02-15.cerclage.000000000000"}, "no Questionnaire"),
    ({"qid": "x" * 200}, "no Questionnaire"),
])
def test_an_id_covkb_never_generated_is_not_found(tmp_path: Path, args: dict[str, Any], words: str) -> None:
    status, out = _call(_worker(tmp_path), "questionnaire", base_url=BASE, **args)
    assert status == 404 and words in out["detail"]


@pytest.mark.parametrize("url", [
    "http://elsewhere.test/fhir/Questionnaire/abc",          # another server's canonical
    f"{BASE}/fhir/Questionnaire/cigna-0284.x.y.000000000000",  # covkb's form, never generated
    f"{BASE}/fhir/Questionnaire/a/b",
    "",
])
def test_a_canonical_covkb_never_generated_finds_none(tmp_path: Path, url: str) -> None:
    status, out = _call(_worker(tmp_path), "questionnaire", url=url, base_url=BASE)
    assert status == 200 and out["total"] == 0 and out["entry"] == []
