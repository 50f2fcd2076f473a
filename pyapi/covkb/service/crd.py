"""CDS Hooks with Da Vinci CRD coverage information (CRD STU 2, FHIR R4).

Discovery lists one service per hook (order-sign, order-select) for the
default policy, and one per hook and installed policy.  A hook call names
its draft orders (``context.draftOrders``, a Bundle of ServiceRequest) and
brings the patient's record as prefetch (templates from the policy's FHIR
mapping facts); each ServiceRequest is turned into a covkb request
(``fhir_map.record_request``), decided, and answered with a system action
that updates it with the ``ext-coverage-information`` extension, changing
nothing else in the resource.

What each outcome gives as coverage information (``covered``,
``info-needed``) is declared with the outcome's other meanings in
kb/vocabulary.pl (``meaning_crd/3``, read through covkb.outcomes).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import urllib.parse
import zlib
from typing import Any

import orjson

from ..errors import CovkbError, InvalidRequest
from .fhir_map import (COVERAGE_KEY, MAX_FHIR_DEPTH, MAX_ORDERS, FhirMapping, InvalidFhir, OverLimit,
                       PrefetchMissing, check_depth, check_entries, order_date, record_request, resources_of,
                       validate_resource)
from .fhir_read import fetch
from .problems import NotFound

EXT = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
HOOKS = ("order-sign", "order-select")

TECHNICAL = ("conditional", "OTH")  # an engine failure, or a record covkb cannot read as a request


def service_id(hook: str, policy_id: str | None) -> str:
    return f"covkb-{hook}" if policy_id is None else f"covkb-{hook}-{policy_id.replace('_', '-')}"


def discovery(policies: list[tuple[str, str, FhirMapping]], default_id: str) -> dict[str, Any]:
    """The CDS Hooks discovery document: (policy id, title, mapping) each."""
    services = []
    ordered = sorted(policies, key=lambda p: p[0] != default_id)
    for pid, title, mapping in ordered:
        prefetch = {k: q for k, (_r, q) in sorted(mapping.prefetch.items())}
        for hook in HOOKS:
            for sid in ([service_id(hook, None)] if pid == default_id else []) + [service_id(hook, pid)]:
                services.append({
                    "hook": hook, "id": sid,
                    "title": f"covkb coverage requirements ({title})",
                    "description": f"Da Vinci CRD coverage information for {hook} from the encoded policy {title}: "
                                   f"medical necessity with the policy's own words, and what a record leaves unknown.",
                    "prefetch": prefetch,
                    "usageRequirements": "Send the prefetch keys listed; covkb reads a missing one from fhirServer only where the service allows that server.",
                })
    return {"services": services}


def parse_call(body: bytes, hook: str) -> dict[str, Any]:
    """A hook request's JSON, checked for what covkb reads."""
    try:
        call = json.loads(body)
    except RecursionError:
        raise OverLimit(f"the hook request nests more than {MAX_FHIR_DEPTH} levels deep (the limit)") from None
    except ValueError as exc:
        raise InvalidFhir(f"hook request is not JSON: {exc}".splitlines()[0]) from None
    if not isinstance(call, dict):
        raise InvalidFhir("a hook request is a JSON object")
    check_depth(call, "the hook request")
    if call.get("hook") != hook:
        raise InvalidFhir(f"this service answers {hook}, not {call.get('hook')!r}")
    if not isinstance(call.get("hookInstance"), str):
        raise InvalidFhir("hookInstance is required")
    ctx = call.get("context")
    if not isinstance(ctx, dict) or not isinstance(ctx.get("patientId"), str):
        raise InvalidFhir("context.patientId is required")
    if not isinstance(ctx.get("draftOrders"), dict):
        raise InvalidFhir("context.draftOrders (a Bundle) is required")
    check_entries(ctx["draftOrders"], "context.draftOrders", MAX_ORDERS, "draft orders")
    validate_resource(ctx["draftOrders"], "context.draftOrders", "Bundle")
    pre = call.get("prefetch")
    if pre is not None and not isinstance(pre, dict):
        raise InvalidFhir("prefetch is an object of resources")
    return call


def record_of(call: dict[str, Any], mapping: FhirMapping,
              fhir_servers: tuple[str, ...] = ()) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The patient's record from the prefetch (resources by mapping type) and
    the Coverage resources.  A prefetch key that is absent or null is read
    from the call's fhirServer (with its fhirAuthorization) when the service
    was started allowing that server (``--fhir-server``); otherwise, or when
    the read fails, PrefetchMissing (412)."""
    pre = dict(call.get("prefetch") or {})
    missing = [k for k in sorted(mapping.prefetch) if pre.get(k) is None]
    if missing:
        server = call.get("fhirServer")
        if not isinstance(server, str) or not server:
            raise PrefetchMissing(f"prefetch {', '.join(missing)} missing and no fhirServer was given")
        base = next((a for a in fhir_servers if server.rstrip("/") == a.rstrip("/")), None)
        if base is None:
            raise PrefetchMissing(f"prefetch {', '.join(missing)} missing, and this service does not query "
                                  f"the FHIR server {server} (covkb serve --fhir-server allows one)")
        for key in missing:
            # the allowed base as configured, never the call's spelling of it
            pre[key] = fetch(base, call.get("fhirAuthorization"), fill(mapping.prefetch[key][1], call), key)
    record: dict[str, list[dict[str, Any]]] = {}
    coverages: list[dict[str, Any]] = []
    for key, (rtype, _q) in sorted(mapping.prefetch.items()):
        for r in resources_of(pre[key], f"prefetch.{key}"):
            if r.get("resourceType", "").lower() != rtype:
                continue
            (coverages if key == COVERAGE_KEY else record.setdefault(rtype, [])).append(r)
    return record, coverages


_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")


def fill(template: str, call: dict[str, Any]) -> str:
    """A prefetch template with the call's context filled in (URL-quoted)."""
    ctx = call.get("context") or {}

    def value(m: re.Match[str]) -> str:
        v = ctx.get(m.group(1))
        if not isinstance(v, str):
            raise PrefetchMissing(f"prefetch template needs context.{m.group(1)}")
        return urllib.parse.quote(v, safe="")
    return _TOKEN.sub(value, template)


def orders_of(call: dict[str, Any], hook: str) -> list[dict[str, Any]]:
    """The ServiceRequests to answer: every draft order (order-sign), or the
    selected ones (order-select)."""
    out = resources_of(call["context"]["draftOrders"], "context.draftOrders", validated=True)
    orders = [r for r in out if r.get("resourceType") == "ServiceRequest"]
    selections = call["context"].get("selections")
    if hook == "order-select" and isinstance(selections, list) and selections:
        chosen = {s for s in selections if isinstance(s, str)}
        orders = [r for r in orders if f"ServiceRequest/{r.get('id')}" in chosen]
    return orders


def token(policy_id: str, engine: str, request: dict[str, Any]) -> str:
    """The covkb request behind an assertion, as a URL-safe token (stateless:
    the explanation link decides it again)."""
    raw = json.dumps({"policy": policy_id, "engine": engine, "request": request}, sort_keys=True,
                     separators=(",", ":")).encode()
    # a 4 KiB window: zlib.compress's default 32 KiB one costs ~80 µs a call
    # to set up, most of a CRD answer's own time; the same size for a request
    z = zlib.compressobj(9, zlib.DEFLATED, 12, 4)
    return base64.urlsafe_b64encode(z.compress(raw) + z.flush()).decode().rstrip("=")


def untoken(text: str) -> dict[str, Any]:
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        d = zlib.decompressobj()
        raw = d.decompress(packed, 1 << 16)  # bounded: a token is a small request
        data = json.loads(raw)
    except (ValueError, TypeError, zlib.error):
        raise NotFound("no such explanation") from None
    if not isinstance(data, dict) or not isinstance(data.get("request"), dict):
        raise NotFound("no such explanation")
    return data


def coverage_information(*, covered: str, info_needed: str | None, reason: str, coverage_ref: str,
                         billing: dict[str, str] | None, link: str, assertion_id: str,
                         date: dt.date) -> dict[str, Any]:
    ext: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": coverage_ref}},
        {"url": "covered", "valueCode": covered},
    ]
    if info_needed:
        ext.append({"url": "info-needed", "valueCode": info_needed})
    if billing:
        ext.append({"url": "billingCode", "valueCoding": billing})
    ext.append({"url": "reason", "valueCodeableConcept": {"text": reason}})
    ext.append({"url": "detail", "extension": [
        {"url": "code", "valueCodeableConcept": {"coding": [{"system": CRD_TEMP, "code": "policy-link"}]}},
        {"url": "value", "valueString": link},
    ]})
    ext.append({"url": "date", "valueDate": date.isoformat()})
    ext.append({"url": "coverage-assertion-id", "valueString": assertion_id})
    return {"url": EXT, "extension": ext}


def invariant_violations(ci: dict[str, Any]) -> list[str]:
    """The CRD STU 2 coverage-information invariants (crd-ci-q1 … q7, as
    the 2.1 definitions state them) and the required sub-extensions, checked
    on one extension; the names of those it breaks."""
    subs = ci.get("extension") or []

    def vals(url: str) -> list[Any]:
        out = []
        for e in subs:
            if e.get("url") == url:
                out.append(next((v for k, v in e.items() if k.startswith("value")), e.get("extension")))
        return out

    bad = []
    for url in ("coverage", "covered", "date", "coverage-assertion-id"):
        if len(vals(url)) != 1:
            bad.append(f"{url} 1..1")
    if vals("covered") and vals("covered")[0] not in ("covered", "not-covered", "conditional"):
        bad.append("covered value set")
    if (vals("questionnaire") or vals("response")) and not vals("doc-needed"):
        bad.append("crd-ci-q1")
    if "not-covered" in vals("covered") and vals("pa-needed"):
        bad.append("crd-ci-q2")
    conditional = any(v == "conditional" for u in ("covered", "pa-needed", "doc-needed") for v in vals(u))
    if conditional != bool(vals("info-needed")):
        bad.append("crd-ci-q3")
    if "satisfied" in vals("pa-needed") and "withpa" in vals("doc-purpose"):
        bad.append("crd-ci-q4")
    if ("satisfied" in vals("pa-needed")) != bool(vals("satisfied-pa-id")):
        bad.append("crd-ci-q5")
    if "OTH" in vals("info-needed") and not vals("reason"):
        bad.append("crd-ci-q6")
    for r in vals("reason"):
        if isinstance(r, dict) and r.get("coding") and not r.get("text"):
            bad.append("crd-ci-q7")
    for v in vals("info-needed"):
        if v not in ("performer", "location", "timeframe", "contract-window", "detail-code", "OTH"):
            bad.append("info-needed value set")
    return bad


def answer(call: dict[str, Any], hook: str, policy: Any, mapping: FhirMapping, decide, *, base_url: str,
           engine: str, today: dt.date | None = None, fhir_servers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The CDS Hooks response for one call.  decide(request) returns a
    Determination or raises CovkbError."""
    record, coverages = record_of(call, mapping, fhir_servers)
    orders = orders_of(call, hook)
    if not coverages:
        # no active coverage: no coverage assertion can name one
        return {"cards": [], "systemActions": []}
    cov = coverages[0]
    coverage_ref = f"Coverage/{cov['id']}" if cov.get("id") else "Coverage"
    date = today or dt.date.today()
    actions = []
    for order in orders:
        data = _version_data(policy, order_date(order), date)
        req, evidence = record_request(mapping, data, order, record)
        billing = next(({"system": c.get("system"), "code": c.get("code"), **({"display": c["display"]} if c.get("display") else {})}
                        for c in (order.get("code") or {}).get("coding") or []
                        if isinstance(c, dict) and c.get("system") in mapping.order_codes), None)
        link = f"{base_url}/v1/explanations/{token(policy.id, engine, req)}"
        try:
            det = decide(req)
            meant = data.outcomes[det.outcome]
            covered, info = meant.crd_covered, meant.crd_info_needed
            if meant.meaning == "undecided" and any(
                    m == "service" or m in data.vocabulary.qualifiers for m in det.missing):
                info = "detail-code"  # the ordered code is too coarse: which service, which qualifier value
            reason = _reason(det, evidence)
            version = det.version
        except CovkbError as err:
            covered, info = TECHNICAL
            reason = f"covkb could not decide this order: {err.message}"
            version = "none"
            billing = None if isinstance(err, InvalidRequest) and not req.get("cpt") else billing
        digest = hashlib.sha256(f"{policy.id}|{version}|{engine}|{link}".encode()).hexdigest()[:24]
        ci = coverage_information(covered=covered, info_needed=info, reason=reason, coverage_ref=coverage_ref,
                                  billing=billing, link=link,
                                  assertion_id=f"covkb-{digest}", date=date)
        resource = _copy(order)
        resource["extension"] = [e for e in resource.get("extension") or []
                                 if not (isinstance(e, dict) and e.get("url") == EXT and _same_coverage(e, coverage_ref))]
        resource["extension"].append(ci)
        actions.append({"type": "update", "description": f"coverage information: {covered}", "resource": resource})
    return {"cards": [], "systemActions": actions}


def _version_data(policy: Any, on: str | None, today: dt.date) -> Any:
    """The version in force on the order's date (its thresholds and findings
    read the record); the latest where none is (the engine then says why)."""
    try:
        return policy.data(policy.version_in_force(dt.date.fromisoformat(on) if on else today)[0])
    except (CovkbError, ValueError):
        return policy.data(policy.latest())


def _copy(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a resource read from JSON, through orjson (a tenth of
    copy.deepcopy's time); deepcopy for what orjson cannot write."""
    try:
        return orjson.loads(orjson.dumps(resource))
    except TypeError:
        return copy.deepcopy(resource)


def _same_coverage(ext: dict[str, Any], ref: str) -> bool:
    return any(e.get("url") == "coverage" and (e.get("valueReference") or {}).get("reference") == ref
               for e in ext.get("extension") or [])


def _reason(det: Any, evidence: list[Any]) -> str:
    parts = [f"{det.policy} version {det.version}: {det.outcome}"]
    if det.statement:
        parts.append(f"by statement {det.statement}")
    if det.criteria_met:
        parts.append(f"criteria met: {', '.join(det.criteria_met)}")
    if det.missing:
        parts.append(f"needs: {', '.join(det.missing)} (could be {', '.join(det.possible_outcomes)})")
    if det.referral:
        parts.append(f"decided under: {det.referral}")
    if det.citations:
        c = det.citations[1] if det.statement and len(det.citations) > 1 else det.citations[0]
        parts.append(f"[{c.section_path}] \"{c.quote}\"")
    if evidence:
        parts.append("from the record: " + "; ".join(e.text() for e in evidence))
    return "; ".join(parts)
