"""The prior-authorization exchange under load, for `make bench-service`
(bench/service.py): the requests of DTR's ``$questionnaire-package``, PAS's
``Claim/$submit`` and CRD order-sign with a CDS Hooks JWT, each measured at
the same levels as today's kinds on the same server, and given as ratios to
CRD order-sign's figures of the same run.

A kind the tree under test does not serve yet (its route answers 404, or
its module is not there) is not measured: the results say why, so that a
run before the DTR, PAS and authentication work is merged still measures
everything else.  Every request is built from the CRD examples
(queries/fhir/*.json) or, where the PAS work brings its own exchanges
(queries/fhir/**: a Bundle whose first entry is a preauthorization Claim),
from those.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import Any

REPO = Path(__file__).resolve().parents[1]

QUESTIONNAIRE_PACKAGE = "dtr_questionnaire_package"
PAS_SUBMIT = "pas_submit"
CRD_JWT = "crd_order_sign_jwt"                 # signed with ES384
CRD_JWT_RS384 = "crd_order_sign_jwt_rs384"     # the same, signed with RS384 (the EHR chooses; CDS Hooks allows both)
JWT_KINDS = {"ES384": CRD_JWT, "RS384": CRD_JWT_RS384}
BASELINE = "crd_order_sign"


@functools.cache
def serve_options() -> str:
    """`covkb serve`'s options as its help lists them (the server the benchmark starts)."""
    out = subprocess.run([sys.executable, "-m", "covkb.service.app", "--help"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO / "pyapi"), "PATH": "/usr/bin:/bin"}, timeout=120)
    return out.stdout


def _examples() -> list[dict[str, Any]]:
    from covkb.service.examples import examples

    return [ex for _n, ex in examples() if ex["service"] == "covkb-order-sign"]


def _resources(bundle: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [e["resource"] for e in (bundle or {}).get("entry") or [] if isinstance(e.get("resource"), dict)]


def _coverage(ex: dict[str, Any]) -> dict[str, Any]:
    from covkb.service.fhir_map import COVERAGE_KEY

    return _resources(ex["hook_request"]["prefetch"][COVERAGE_KEY])[0]


def _order(ex: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in _resources(ex["hook_request"]["context"]["draftOrders"]) if r["resourceType"] == "ServiceRequest")


def questionnaire_package_bodies(context_of: dict[str, str]) -> list[bytes]:
    """DTR STU 2 ``$questionnaire-package`` inputs: a Parameters with the
    example's coverage and order, and the ``context`` CRD gave it (its
    coverage-assertion-id, context_of by example patient) where it gave one;
    one per example whose order CRD says needs documentation (all, when none does)."""
    chosen = [ex for ex in _examples() if ex["expect"].get("doc-needed")] or _examples()
    out = []
    for ex in chosen:
        params = [{"name": "coverage", "resource": _coverage(ex)}, {"name": "order", "resource": _order(ex)}]
        ctx = context_of.get(ex["hook_request"]["context"]["patientId"])
        if ctx:
            params.append({"name": "context", "valueString": ctx})
        out.append(json.dumps({"resourceType": "Parameters", "parameter": params}).encode())
    return out


def _pas_examples() -> list[tuple[str, bytes]]:
    """The PAS request Bundles the repository's exchanges hold (queries/fhir/**),
    each with the path that submits it (to the example's policy, where it names one)."""
    out = []
    for path in sorted((REPO / "queries" / "fhir").rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        for cand in (data, *(v for v in data.values() if isinstance(v, dict))) if isinstance(data, dict) else ():
            first = (_resources(cand) or [{}])[0] if cand.get("resourceType") == "Bundle" else {}
            if first.get("resourceType") == "Claim" and first.get("use") == "preauthorization":
                policy = data.get("policy") if isinstance(data.get("policy"), str) else None
                out.append((SUBMIT + (f"?policy={policy}" if policy else ""), json.dumps(cand).encode()))
    return out


def _pas_bundle(ex: dict[str, Any]) -> dict[str, Any]:
    """A PAS request Bundle for a CRD example: the Claim (use
    preauthorization, the order's code as its item, the record's conditions
    as diagnoses), the patient's Coverage, and the record as supporting
    information."""
    order, cov = _order(ex), _coverage(ex)
    record = [r for key, b in ex["hook_request"]["prefetch"].items() if isinstance(b, dict)
              for r in _resources(b) if r is not cov]
    patient = {"reference": f"Patient/{ex['hook_request']['context']['patientId']}"}
    conditions = [r for r in record if r.get("resourceType") == "Condition" and r.get("id")]
    claim = {
        "resourceType": "Claim", "id": f"claim-{order.get('id', 'order')}", "status": "active", "use": "preauthorization",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "patient": patient, "created": "2025-06-01", "insurer": cov.get("payor", [{"display": "payer"}])[0],
        "provider": order.get("requester") or {"display": "ordering provider"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{cov.get('id')}"}}],
        "item": [{"sequence": 1, "productOrService": order["code"],
                  **({"servicedDate": order["occurrenceDateTime"][:10]} if order.get("occurrenceDateTime") else {})}],
        "diagnosis": [{"sequence": i + 1, "diagnosisReference": {"reference": f"Condition/{c['id']}"}}
                      for i, c in enumerate(conditions)],
        "supportingInfo": [{"sequence": i + 1, "category": {"coding": [{
            "system": "http://hl7.org/us/davinci-pas/CodeSystem/PASSupportingInfoType", "code": "patientEvent"}]},
            "valueReference": {"reference": f"{r['resourceType']}/{r['id']}"}} for i, r in enumerate(record) if r.get("id")],
    }
    entries = [claim, cov, *record]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": "2025-06-01T00:00:00Z",
            "identifier": {"system": "urn:covkb:bench", "value": str(uuid.uuid5(uuid.NAMESPACE_URL, claim["id"]))},
            "entry": [{"fullUrl": f"urn:covkb:{r['resourceType']}/{r.get('id')}", "resource": r} for r in entries]}


SUBMIT = "/fhir/Claim/$submit"


def pas_submit_bodies() -> list[tuple[str, bytes]]:
    """(path, body) of each PAS request sent."""
    return _pas_examples() or [(SUBMIT, json.dumps(_pas_bundle(ex)).encode()) for ex in _examples()]


def exchange_kinds(url: str, port: int, http: Callable[[str, str, bytes, int], bytes],
                   not_measured: dict[str, str]) -> dict[str, list[bytes]]:
    """The DTR and PAS kinds this server answers, as raw HTTP requests; each
    is probed with one request first, and one it does not answer with 200
    goes into not_measured with the reason."""
    import httpx

    out = {}
    with httpx.Client(base_url=url, timeout=60, headers={"content-type": "application/json"}) as c:
        context_of = {}
        for ex in _examples():  # CRD first: the coverage-assertion-id DTR's context names
            r = c.post("/cds-services/covkb-order-sign", content=json.dumps(ex["hook_request"]))
            ci = [e for a in r.json().get("systemActions") or [] for e in a["resource"].get("extension") or []
                  if e.get("url", "").endswith("ext-coverage-information")] if r.status_code == 200 else []
            said = {e["url"]: next((v for k, v in e.items() if k.startswith("value")), None)
                    for e in (ci[0]["extension"] if ci else [])}
            if said.get("doc-needed") and said.get("coverage-assertion-id"):
                context_of[ex["hook_request"]["context"]["patientId"]] = said["coverage-assertion-id"]
        package = "/fhir/Questionnaire/$questionnaire-package"
        for kind, sent in ((QUESTIONNAIRE_PACKAGE, [(package, b) for b in questionnaire_package_bodies(context_of)]),
                           (PAS_SUBMIT, pas_submit_bodies())):
            answered = [(path, b, c.post(path, content=b)) for path, b in sent]
            good = [http("POST", path, b, port) for path, b, r in answered if r.status_code == 200]
            refused = [(path, r) for path, _b, r in answered if r.status_code != 200]
            if good:  # those answered 200 (the others said below)
                out[kind] = good
            if refused:
                path, r = refused[0]
                not_measured[kind if not good else f"{kind} ({len(refused)} of {len(sent)} requests)"] = (
                    f"POST {path} answers HTTP {r.status_code}"
                    + (" (not on this tree yet)" if r.status_code == 404 else f": {r.text[:200]}"))
    return out


def fresh_submits(reqs: list[bytes], count: int, tag: str) -> list[bytes]:
    """count ``$submit`` requests, each one of reqs under identifiers of its
    own (the Bundle's and the Claim's; tag keeps one run's apart): a
    preauthorization request never submitted before, so each is decided
    (PAS answers a Bundle sent again with the decision kept for it)."""
    out = []
    for i in range(count):
        head, body = reqs[i % len(reqs)].split(b"\r\n\r\n", 1)
        bundle, suffix = json.loads(body), f"-{tag}{i}"
        ident = bundle.get("identifier") if isinstance(bundle.get("identifier"), dict) else {"system": "urn:covkb:bench"}
        bundle["identifier"] = {**ident, "value": f"{ident.get('value', '')}{suffix}"}
        for claim in (r for r in _resources(bundle) if r.get("resourceType") == "Claim"):
            claim["identifier"] = [{**x, "value": f"{x.get('value', '')}{suffix}"} for x in claim.get("identifier") or []]
        new = json.dumps(bundle).encode()
        out.append(re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % len(new), head) + b"\r\n\r\n" + new)
    return out


def jwt_ready() -> str | None:
    """Why CRD order-sign with a JWT cannot be measured on this tree (None: it can)."""
    if importlib.util.find_spec("covkb.service.auth") is None or "--trusted-issuers" not in serve_options():
        return "covkb.service.auth (authenticated CDS Hooks callers) is not on this tree yet"
    import service_server

    if not hasattr(service_server, "Issuer"):
        return "tests/service_server.py has no Issuer (a CDS client's key and JWTs) on this tree yet"
    return None


PUBLIC = "http://covkb.bench"  # --public-url of the authenticated server: every token's aud names it


def jwt_levels(res: dict[str, Any], crd_reqs: list[tuple[str, bytes]], args: tuple[str, ...], workers: int, today: str,
               counts: dict[int, int], run_level: Callable[[int, list[bytes], int], dict[str, Any]],
               algorithms: tuple[str, ...] = tuple(JWT_KINDS)) -> None:
    """CRD order-sign with a CDS Hooks JWT (a fresh jti each call, as a
    replay is refused), signed with each of ``algorithms`` (ES384 and RS384:
    CDS Hooks allows both and the EHR chooses) at each level, one after the
    other, on a server of its own that authenticates callers and trusts an
    issuer per algorithm; into res[JWT_KINDS[alg]], or the reason it cannot
    be measured into res["not_measured"].  Each level's tokens are signed
    before it starts (their signing is not measured; their verification,
    the key looked up and the jti's write to the store are)."""
    import tempfile

    if reason := jwt_ready():
        for alg in algorithms:
            res.setdefault("not_measured", {})[JWT_KINDS[alg]] = reason
        return
    from service_server import Issuer, Server

    with tempfile.TemporaryDirectory(prefix="covkb-bench-jwt-") as tmp:
        issuers = {alg: Issuer(Path(tmp), iss=f"https://ehr-{alg.lower()}.example.org", alg=alg) for alg in algorithms}
        trusted = Path(tmp) / "trusted.json"
        trusted.write_text(json.dumps({"issuers": {k: v for i in issuers.values()
                                                   for k, v in json.loads(i.path.read_text())["issuers"].items()}}))
        s = Server(*args, "--trusted-issuers", str(trusted), "--public-url", PUBLIC, workers=workers, today=today,
                   auth=True, env={"COVKB_STATE": tmp})
        try:
            for n, count in counts.items():
                for alg, issuer in issuers.items():
                    kind = JWT_KINDS[alg]
                    reqs = []
                    for i in range(count + 4):  # 4 to warm up
                        sid, body = crd_reqs[i % len(crd_reqs)]
                        token = issuer.token(f"{PUBLIC}/cds-services/{sid}")
                        reqs.append((f"POST /cds-services/{sid} HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n"
                                     f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                                     f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
                    run_level(s.port, reqs[:4], 1)  # warm up: the issuer's key looked up and cached
                    r = run_level(s.port, reqs[4:], n)
                    res.setdefault(kind, []).append(r)
                    print(f"{kind:30} {n:>2} clients: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                          f"{r['throughput_rps']} req/s, {r['requests']} requests, errors {r['errors']}", flush=True)
        finally:
            s.stop()


def ratios(levels: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Each exchange kind's p50, p99 and throughput over CRD order-sign's
    at the same level of the same run."""
    base = {r["clients"]: r for r in levels.get(BASELINE) or []}
    out = {}
    for kind in (CRD_JWT, CRD_JWT_RS384, QUESTIONNAIRE_PACKAGE, PAS_SUBMIT):
        rows = [r for r in levels.get(kind) or [] if isinstance(r, dict) and "clients" in r]
        out[kind] = [{"clients": r["clients"], **{k: round(r[k] / base[r["clients"]][k], 2)
                                                  for k in ("p50_ms", "p99_ms", "throughput_rps")
                                                  if r.get(k) and (base.get(r["clients"]) or {}).get(k)}}
                     for r in rows]
    return out


def report(levels: dict[str, Any]) -> dict[str, Any]:
    """levels with the exchange kinds' ratios to CRD order-sign, printed
    with what was not measured and why."""
    levels["ratios_to_crd_order_sign"] = ratios(levels)
    for kind, rows in levels["ratios_to_crd_order_sign"].items():
        for r in rows:
            print(f"{kind:30} {r['clients']:>2} clients: p50 {r.get('p50_ms')}×, p99 {r.get('p99_ms')}×, "
                  f"req/s {r.get('throughput_rps')}× CRD order-sign's", flush=True)
    for kind, why in (levels.get("not_measured") or {}).items():
        print(f"{kind:30} not measured: {why}", flush=True)
    return levels


def _signed(issuer: Any, crd_reqs: list[tuple[str, bytes]], port: int, count: int) -> list[bytes]:
    """count order-sign calls, each with a JWT of its own from issuer (None: no token)."""
    out = []
    for i in range(count):
        sid, body = crd_reqs[i % len(crd_reqs)]
        auth = f"Authorization: Bearer {issuer.token(f'{PUBLIC}/cds-services/{sid}')}\r\n" if issuer else ""
        out.append((f"POST /cds-services/{sid} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    return out


def jwt_against(base: Path, rounds: int, counts: dict[int, int]) -> dict[str, Any]:
    """CRD order-sign with a JWT (ES384 and RS384) on this tree's
    authenticating server beside base's (its pyapi folder), and order-sign
    without a token on a server of this tree (the ratios' baseline), each
    level on one then the other, the order swapped every round; medians over
    the rounds, and each side's p99 over the baseline's."""
    import asyncio
    import statistics
    import tempfile

    import service  # bench/service.py: the load generator
    from service_server import Issuer, Server

    with tempfile.TemporaryDirectory(prefix="covkb-bench-jwt-ab-") as tmp:
        issuers = {alg: Issuer(Path(tmp), iss=f"https://ehr-{alg.lower()}.example.org", alg=alg) for alg in JWT_KINDS}
        trusted = Path(tmp) / "trusted.json"
        trusted.write_text(json.dumps({"issuers": {k: v for i in issuers.values()
                                                   for k, v in json.loads(i.path.read_text())["issuers"].items()}}))
        auth = ("--cache-size", "0", "--trusted-issuers", str(trusted), "--public-url", PUBLIC)
        servers = {"base": Server(*auth, auth=True, today=service.TODAY, pyapi=base, env={"COVKB_STATE": f"{tmp}/b"}),
                   "this": Server(*auth, auth=True, today=service.TODAY, env={"COVKB_STATE": f"{tmp}/t"}),
                   "plain": Server("--cache-size", "0", today=service.TODAY, env={"COVKB_STATE": f"{tmp}/p"})}
        crd = service.crd_requests()
        runs: dict[str, dict[int, list[dict[str, Any]]]] = {}

        def level(name: str, alg: str | None, n: int, count: int) -> None:
            s = servers[name]
            reqs = _signed(issuers[alg] if alg else None, crd, s.port, count + 4)
            asyncio.run(service.load(s.port, reqs[:4], 1, 4, 10, distinct=True))
            r = asyncio.run(service.load(s.port, reqs[4:], n, count, service.SECONDS, distinct=True))
            kind = f"{name} {alg or 'no token'}"
            runs.setdefault(kind, {}).setdefault(n, []).append(r)
            print(f"round {rnd + 1} {kind:18} {n:>2} clients: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"{r['throughput_rps']} req/s, errors {r['errors']}", flush=True)
        try:
            for rnd in range(rounds):
                for n, count in counts.items():
                    sides = ("base", "this") if (rnd + n) % 2 else ("this", "base")
                    level("plain", None, n, count)
                    for name in sides:
                        for alg in JWT_KINDS:
                            level(name, alg, n, count)
        finally:
            for s in servers.values():
                s.stop()
    out: dict[str, Any] = {"base": str(base), "rounds": rounds, "kinds": {}}
    for kind, by in runs.items():
        out["kinds"][kind] = {n: {k: statistics.median(x[k] for x in rs) for k in ("p50_ms", "p99_ms", "throughput_rps")}
                              for n, rs in by.items()}
    print(f"\n{'median over rounds':18} clients   p50 / p99 ms   p99 over order-sign's (no token)")
    for kind, by in out["kinds"].items():
        for n, m in by.items():
            base99 = out["kinds"]["plain no token"][n]["p99_ms"]
            m["p99_over_order_sign"] = round(m["p99_ms"] / base99, 2)
            print(f"{kind:18} {n:>7}   {m['p50_ms']:6.1f} / {m['p99_ms']:6.1f}   {m['p99_over_order_sign']}", flush=True)
    return out


if __name__ == "__main__":
    import argparse
    import os

    sys.path[:0] = [str(REPO / "pyapi"), str(REPO / "tests"), str(REPO / "bench")]
    ap = argparse.ArgumentParser(description="CRD order-sign with a JWT, this tree beside another (A/B, same run)")
    ap.add_argument("--jwt-against", type=Path, metavar="PYAPI", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scale", type=float, default=0.5, help="of bench/service.py's requests per level")
    a = ap.parse_args()
    import service

    load_before = os.getloadavg()
    res = jwt_against(a.jwt_against.resolve(), a.rounds,
                      {n: int(c * a.scale) for n, c in service.PER_LEVEL.items()})
    res["load_average"] = {"start": load_before, "end": os.getloadavg()}
    dest = REPO / "bench" / "results" / "jwt_ab.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=2) + "\n")
    print(f"load average {load_before} -> {os.getloadavg()}; wrote {dest}")
