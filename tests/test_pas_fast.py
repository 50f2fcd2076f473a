"""What makes a PAS ``$submit`` and a CDS JWT cheap, each still checked:

- the resources covkb emits are validated with fhir.resources wherever the
  contract is checked (COVKB_CHECK_CONTRACT, which conftest sets), and not
  at run time without it;
- a PAS request Bundle is validated once, as far as covkb reads it: its
  envelope and every resource of a type covkb reads, in full; a resource
  it only carries (a Patient, a Coverage) need only be a resource;
- a PAS decision is kept with one INSERT (``Store.keep_decision``), read
  back as ``save_decision`` keeps it;
- ``$submit`` is decided in the server process (inline), no engine worker started;
- a CDS JWT whose key would be fetched is verified in a thread, its jti
  not written by the attempt in the event loop.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from covkb.errors import InvalidRequest
from covkb.service import fhir_map
from covkb.service.fhir_map import InvalidFhir, validate_emitted, validate_read
from covkb.service.pas_map import READ, parse_bundle
from service_server import REPO, Issuer, JwksHost, Server
from test_exchange_memo import _whole

PAS = REPO / "queries" / "fhir" / "pas"


def _bundle(name: str = "cerclage_after_a_cone_biopsy_is_approved") -> dict[str, Any]:
    data = json.loads((PAS / f"{name}.json").read_text())
    return next(c for c in (data, *(v for v in data.values() if isinstance(v, dict)))
                if c.get("resourceType") == "Bundle")




# -- what covkb emits ---------------------------------------------------------------------------------------------

BAD_QUESTIONNAIRE = {"resourceType": "Questionnaire", "status": {"not": "a code"}}


def test_an_invalid_emitted_resource_is_covkbs_bug_where_the_contract_is_checked() -> None:
    with pytest.raises(RuntimeError, match="covkb wrote an invalid resource: the answer: Questionnaire.status"):
        validate_emitted(BAD_QUESTIONNAIRE, "the answer", "Questionnaire")


def test_an_emitted_resource_is_not_validated_again_at_run_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COVKB_CHECK_CONTRACT")
    validate_emitted(BAD_QUESTIONNAIRE, "the answer", "Questionnaire")  # not checked: built as the tests found it


# -- what covkb reads ---------------------------------------------------------------------------------------------

def _with(change: Any) -> dict[str, Any]:
    b = copy.deepcopy(_bundle())
    change(b)
    return b


def _entry(b: dict[str, Any], rtype: str) -> dict[str, Any]:
    return next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == rtype)


REFUSED = {
    "the envelope": lambda b: b.update(timestamp="not a time"),
    "an entry's own element": lambda b: b["entry"][1].update(fullUrl=["not", "a uri"]),
    "the Claim": lambda b: b["entry"][0]["resource"].update(status={"not": "a code"}),
    "a record resource": lambda b: _entry(b, "Observation").update(status=["not", "a code"]),
}


@pytest.mark.parametrize("where", REFUSED)
def test_what_covkb_reads_is_refused_as_whole_validation_refuses_it(where: str) -> None:
    bad = _with(REFUSED[where])
    said = _whole(bad)
    assert said is not None
    validate_read(_bundle(), "the PAS request", READ)  # its resources now remembered valid
    with pytest.raises(InvalidFhir) as err:
        validate_read(bad, "the PAS request", READ)
    assert err.value.message == said


@pytest.mark.parametrize("rtype", ["Patient", "Coverage"])
def test_a_resource_covkb_only_carries_need_only_be_a_resource(rtype: str) -> None:
    assert rtype not in READ
    bad = _with(lambda b: _entry(b, rtype).update(id=["not", "an id"]))
    assert _whole(bad) is not None
    parse_bundle(json.dumps(bad).encode())  # read: nothing of it depends on that resource
    no_type = _with(lambda b: _entry(b, rtype).pop("resourceType"))
    with pytest.raises(InvalidFhir):
        validate_read(no_type, "the PAS request", READ)


def test_each_resource_read_is_validated_once_and_remembered() -> None:
    good = _bundle()
    read = [e["resource"] for e in good["entry"] if e["resource"]["resourceType"] in READ]
    fhir_map._valid.clear()
    validate_read(good, "the PAS request", READ)
    assert len(fhir_map._valid) == len(read)  # the resources read, not the Bundle nor what it only carries
    fresh = copy.deepcopy(good)
    fresh["entry"][0]["resource"]["identifier"] = [{"system": "urn:test", "value": "another"}]
    validate_read(fresh, "the PAS request", READ)
    assert len(fhir_map._valid) == len(read) + 1  # only the new Claim


# -- the decision kept ------------------------------------------------------------------------------------------

def _args(key: str, **over: Any) -> dict[str, Any]:
    return {"kind": "pas", "key": key, "policy": "cigna_0284", "version": "2025-02-15", "kb_digest": "d",
            "request": {"bundle": _bundle(), "note": "café", "n": 1e16, "x": 0.1},
            "answer": {"resourceType": "Bundle", "ok": True}, "status": "decided", "detail": {"items": []}, **over}


def test_a_decision_kept_with_one_insert_reads_back_as_save_decision_keeps_it(tmp_path: Path) -> None:
    from covkb.store import DuplicateDecision, Store

    with Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}") as s:
        saved = s.save_decision(**_args("PA-1"))
        assert s.keep_decision(**_args("PA-2")) is None
        kept = s.decision("PA-2")
        assert (kept.request, kept.answer, kept.detail, kept.status) == (saved.request, saved.answer, saved.detail,
                                                                        saved.status)
        assert kept.request == _args("PA-2")["request"]
        assert abs(kept.created - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
        with pytest.raises(DuplicateDecision):
            s.keep_decision(**_args("PA-2"))
        for bad in ({"v": math.nan}, {"at": dt.date.today()}):
            with pytest.raises(InvalidRequest, match="not JSON"):
                s.keep_decision(**_args("PA-3", answer=bad))
        assert s.decision("PA-3") is None


# -- $submit in the server process --------------------------------------------------------------------------------

@pytest.mark.slow
def test_submit_is_decided_in_the_server_process(tmp_path: Path) -> None:
    s = Server(workers=1, env={"COVKB_STATE": str(tmp_path)})
    try:
        r = httpx.post(f"{s.url}/fhir/Claim/$submit?policy=cigna-0284", json=_bundle(), timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
        pool = httpx.get(f"{s.url}/healthz", timeout=10).json()["pool"]
        assert pool["started"] == 0, pool  # no engine worker was needed
    finally:
        s.stop()


# -- a CDS JWT whose key is fetched -------------------------------------------------------------------------------

def test_a_key_that_must_be_fetched_is_verified_in_a_thread_without_burning_the_jti(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from covkb.service.auth import Verifier, WouldFetch

    host = JwksHost()
    try:
        url = host.url + "/jwks.json"
        issuer = Issuer(tmp_path, jku=(url,), inline=False)
        host.jwks = issuer.jwks
        v = Verifier(SimpleNamespace(public_url="http://covkb.test", trusted_issuers=str(issuer.path),
                                     store=f"sqlite:///{tmp_path / 's.sqlite3'}"))
        path = "/cds-services/covkb-order-sign"
        token = issuer.token("http://covkb.test" + path, {"jku": url})
        with pytest.raises(WouldFetch):
            v.cds(token, path, fetch=False)  # what the event loop tries first
        assert host.connections == 0
        assert v.cds(token, path)["iss"] == issuer.iss  # then in a thread: fetched, and the jti unused so far
        assert v.cds(issuer.token("http://covkb.test" + path, {"jku": url}), path, fetch=False)  # now cached
    finally:
        host.stop()


# -- an item's decision remembered by the worker ------------------------------------------------------------------

def test_a_record_submitted_again_under_new_identifiers_is_decided_once(tmp_path: Path, kb: Any) -> None:
    from covkb.service.ops import Worker

    w = Worker({"preload_policies": [], "today": "2025-06-01", "store": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    answers = []
    for n in range(3):
        b = _bundle()
        b["entry"][0]["resource"]["identifier"] = [{"system": "urn:test", "value": f"again-{n}"}]  # a new Claim
        status, _media, out = w.handle({"op": "pas_submit", "args": {"base_url": "http://x", "policy": "cigna-0284"}},
                                       json.dumps(b).encode())
        assert status == 200, out
        cr = json.loads(out)["entry"][0]["resource"]
        answers.append((cr["preAuthRef"], [i["adjudication"][0]["reason"]["text"] for i in cr["item"]]))
        assert sum(1 for k in w._decided if k[0] == "cases") == 1  # decided the first time only
    assert len({ref for ref, _ in answers}) == 3 and len({json.dumps(r) for _, r in answers}) == 1
