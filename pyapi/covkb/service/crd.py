"""CDS Hooks with Da Vinci CRD coverage information (CRD STU 2.2, FHIR R4).

Discovery lists one service per hook (order-sign, order-select) for the
default policy, and one per hook and installed policy.  A hook call names
its draft orders (``context.draftOrders``, a Bundle of ServiceRequest) and
brings the patient's record as prefetch (templates from the policy's FHIR
mapping facts); each ServiceRequest is turned into a covkb request
(``fhir_map.record_request``), decided, and answered with a system action
that updates it with the ``ext-coverage-information`` extension, changing
nothing else in the resource.

Beside each system action the response carries one CDS Hooks card for
the order (Da Vinci CRD's Instructions response type): a summary under 140
characters that states the decision in words, an indicator, the
justification with the policy's quotes in Markdown, and a link to the
explanation (a readable page for a browser, the determination as JSON for
an API client).  The coverage information's ``reason`` is in the same
words.

What each outcome gives as coverage information (``covered``,
``info-needed``, and ``doc-needed`` with ``doc-purpose`` where answers the
clinician can give would decide) and how its card shows it (indicator,
heading) are declared with the outcome's other meanings in
kb/vocabulary.pl (``meaning_crd/3``, ``meaning_crd_doc/3``, ``meaning_crd_code/2``,
``meaning_card/3``, read through covkb.outcomes); this module names no
outcome.  Where documentation is needed, the ``questionnaire``
sub-extension names the Questionnaire generated from the policy for what
the record leaves open (covkb.questionnaire, served by DTR's
``$questionnaire-package``); where the gap is the ordered code itself,
``info-needed`` says so and nothing is asked.  Where covkb cannot decide
for a technical reason (an engine failure, a record it cannot read as a
request) the order is ``indeterminate`` with the reason ``technical``.
Each decided assertion's request is kept under its coverage-assertion-id
(``keep``: covkb.store) so that DTR's ``context`` finds it.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import CovkbError, InvalidRequest
from .fhir_map import (COVERAGE_KEY, MAX_ORDERS, FhirMapping, InvalidFhir,
                       PrefetchMissing, check_depth, check_entries, order_date, read_json, record_request, resources_of,
                       validate_resource)
from .fhir_read import fetch
from .problems import NotFound

if TYPE_CHECKING:
    from ..sentences import Reading

EXT = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
HOOKS = ("order-sign", "order-select")
# Card.source.topic: CRD binds it (extensible) to its card types; this card is coverage information
CARD_TOPIC = {"system": CRD_TEMP, "code": "coverage-info", "display": "Coverage Information"}
SUMMARY_MAX = 139  # CDS Hooks 2.0: Card.summary is "<140-character"
FAILED_CARD = ("warning", "Not decided: covkb could not decide this order")  # no outcome: an engine or record failure

# an engine failure, or a record covkb cannot read as a request: `covered` and the reason's coding
TECHNICAL = ("indeterminate", {"system": CRD_TEMP, "code": "technical", "display": "Technical issues"})
# CRD STU 2.2's value sets (input/fsh/valuesets/CoverageInformationValuesets.fsh)
COVERED = ("covered", "not-covered", "conditional", "indeterminate")
PA_NEEDED = ("no-auth", "auth-needed", "satisfied", "performpa", "conditional", "indeterminate")
DOC_NEEDED = ("clinical", "admin", "patient", "conditional", "indeterminate")
DOC_PURPOSE = ("withpa", "withclaim", "withorder", "retain-doc", "OTH")
INFO_NEEDED = ("performer", "location", "timeframe", "contract-window", "detail-code", "OTH")
DETAIL_CATEGORY = ("cat-limitation", "cat-decisional", "cat-other")
ASSERTION_REASONS = tuple((CRD_TEMP, c) for c in ("gold-card", "no-member-found", "no-active-coverage",
                                                   "coverage-not-found", "auth-out-network", "technical"))


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
    call = read_json(body, "the hook request")
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


@dataclass(frozen=True, slots=True)
class Assertion:
    """What one coverage assertion says, before it is written as the
    extension: the codes, the reason (its words, and a coding from CRD's
    reasons where one applies), documentation and the questionnaire, and
    the dates of the policy version that decided it."""

    covered: str
    reason: str
    info_needed: str | None = None
    reason_coding: dict[str, str] | None = None
    doc_needed: str | None = None
    doc_purpose: str | None = None
    questionnaire: str | None = None
    policy_words: str | None = None  # the policy and version that decided, with its dates, in words
    expiry: dt.date | None = None     # the day before a later version takes effect


def coverage_information(said: Assertion, *, coverage_ref: str, billing: dict[str, str] | None, link: str,
                         assertion_id: str, date: dt.date) -> dict[str, Any]:
    """The ext-coverage-information extension (CRD STU 2.2), its
    sub-extensions in the order the StructureDefinition lists them."""
    ext: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": coverage_ref}},
        {"url": "covered", "valueCode": said.covered},
    ]
    if said.doc_needed:
        ext.append({"url": "doc-needed", "valueCode": said.doc_needed})
    if said.doc_purpose:
        ext.append({"url": "doc-purpose", "valueCode": said.doc_purpose})
    if said.info_needed:
        ext.append({"url": "info-needed", "valueCode": said.info_needed})
    if billing:
        ext.append({"url": "billingCode", "valueCoding": billing})
    reason: dict[str, Any] = {"text": said.reason}
    if said.reason_coding:
        reason = {"coding": [said.reason_coding], **reason}
    ext.append({"url": "reason", "valueCodeableConcept": reason})
    # policy-link: the explanation shows the policy's words that decided (CRD: "cat-other")
    detail = [
        {"url": "category", "valueCode": "cat-other"},
        {"url": "code", "valueCodeableConcept": {"coding": [{"system": CRD_TEMP, "code": "policy-link"}]}},
        {"url": "value", "valueUrl": link},
    ]
    if said.policy_words:
        detail.append({"url": "qualification", "valueString": said.policy_words})
    ext.append({"url": "detail", "extension": detail})
    if said.questionnaire:
        ext.append({"url": "questionnaire", "valueCanonical": said.questionnaire})
    ext.append({"url": "date", "valueDate": date.isoformat()})
    ext.append({"url": "coverage-assertion-id", "valueString": assertion_id})
    if said.expiry:
        ext.append({"url": "expiry-date", "valueDate": said.expiry.isoformat()})
    return {"url": EXT, "extension": ext}


def explanation_link(ci: dict[str, Any]) -> str | None:
    """The explanation link a coverage-information carries (its policy-link detail)."""
    for e in ci.get("extension") or []:
        if e.get("url") == "detail":
            parts = {d.get("url"): d for d in e.get("extension") or []}
            if "policy-link" in str(parts.get("code")):
                return (parts.get("value") or {}).get("valueUrl")
    return None


def invariant_violations(ci: dict[str, Any]) -> list[str]:
    """The CRD STU 2.2 coverage-information invariants (crd-ci-q1 … q9, as
    input/fsh/extensions/CoverageInformation.fsh states them: q3 as its
    description says, both ways), the sub-extensions' cardinalities and
    their required value sets, checked on one extension; the names of
    those it breaks."""
    subs = ci.get("extension") or []

    def vals(url: str) -> list[Any]:
        out = []
        for e in subs:
            if e.get("url") == url:
                out.append(next((v for k, v in e.items() if k.startswith("value")), e.get("extension")))
        return out

    bad = [f"{url} 1..1" for url in ("coverage", "covered", "date", "coverage-assertion-id") if len(vals(url)) != 1]
    bad += [f"{url} 0..1" for url in ("pa-needed", "satisfied-pa-id", "expiry-date") if len(vals(url)) > 1]
    for url, allowed in (("covered", COVERED), ("pa-needed", PA_NEEDED), ("doc-needed", DOC_NEEDED),
                         ("doc-purpose", DOC_PURPOSE), ("info-needed", INFO_NEEDED)):
        bad += [f"{url} value set" for v in vals(url) if v not in allowed]
    if vals("questionnaire") and not vals("doc-needed"):
        bad.append("crd-ci-q1")
    if "not-covered" in vals("covered") and vals("pa-needed"):
        bad.append("crd-ci-q2")
    coded = [v for u in ("covered", "pa-needed", "doc-needed") for v in vals(u)]
    if ("conditional" in coded) != bool(vals("info-needed")):
        bad.append("crd-ci-q3")
    if set(vals("pa-needed")) & {"satisfied", "no-auth", "not-covered"} and "withpa" in vals("doc-purpose"):
        bad.append("crd-ci-q4")
    if ("satisfied" in vals("pa-needed")) != bool(vals("satisfied-pa-id")):
        bad.append("crd-ci-q5")
    if "OTH" in vals("info-needed") and not vals("reason"):
        bad.append("crd-ci-q6")
    for r in vals("reason"):
        codings = (r or {}).get("coding") or [] if isinstance(r, dict) else []
        if codings and not r.get("text") and not any((c.get("system"), c.get("code")) in ASSERTION_REASONS
                                                     for c in codings):
            bad.append("crd-ci-q7")
    if any(v != "conditional" for v in vals("doc-purpose")) and not vals("reason"):
        bad.append("crd-ci-q8")
    if "indeterminate" in coded and not vals("reason"):
        bad.append("crd-ci-q9")
    for parts in vals("detail"):
        got = [d.get("url") for d in parts or []]
        bad += [f"detail.{u} 1..1" for u in ("category", "code", "value") if got.count(u) != 1]
        bad += ["detail.category value set" for d in parts or []
                if d.get("url") == "category" and d.get("valueCode") not in DETAIL_CATEGORY]
    bad += ["questionnaire is a canonical" for e in subs
            if e.get("url") == "questionnaire" and not isinstance(e.get("valueCanonical"), str)]
    return bad


Questionnaires = Callable[[dict[str, Any], str], "str | None"]
Keeper = Callable[[str, dict[str, Any], Any, dict[str, Any]], None]


def answer(call: dict[str, Any], hook: str, policy: Any, mapping: FhirMapping, decide, *, base_url: str,
           engine: str, today: dt.date | None = None, fhir_servers: tuple[str, ...] = (),
           questionnaire: Questionnaires | None = None, keep: Keeper | None = None) -> dict[str, Any]:
    """The CDS Hooks response for one call.  decide(request) returns a
    Determination or raises CovkbError; questionnaire(request, version)
    gives the canonical URL of the Questionnaire generated for what the
    request leaves open; keep(assertion id, request, determination,
    coverage information) stores a decided assertion."""
    record, coverages = record_of(call, mapping, fhir_servers)
    orders = orders_of(call, hook)
    if not coverages:
        # no active coverage: no coverage assertion can name one
        return {"cards": [], "systemActions": []}
    cov = coverages[0]
    coverage_ref = f"Coverage/{cov['id']}" if cov.get("id") else "Coverage"
    date = today or dt.date.today()
    actions, cards = [], []
    for order in orders:
        data = _version_data(policy, order_date(order), date)
        req, evidence = record_request(mapping, data, order, record)
        billing = next(({"system": c.get("system"), "code": c.get("code"), **({"display": c["display"]} if c.get("display") else {})}
                        for c in (order.get("code") or {}).get("coding") or []
                        if isinstance(c, dict) and c.get("system") in mapping.order_codes), None)
        link = f"{base_url}/v1/explanations/{token(policy.id, engine, req)}"
        det = None
        try:
            det = decide(req)
            meant = data.outcomes[det.outcome]
            words = _card_words(det, data, _ordered(req, data))
            said = _assertion(meant, det, _reason(policy, det, words, evidence, data), policy=policy,
                              asks=hook != "order-select", questionnaire=questionnaire, req=req, data=data)
            version = det.version
            shown = (meant.card_indicator, meant.card_heading)
        except CovkbError as err:
            covered, coding = TECHNICAL
            said = Assertion(covered, f"covkb could not decide this order: {err.message}", reason_coding=coding)
            version, words, det = "none", None, None
            shown = FAILED_CARD
            billing = None if isinstance(err, InvalidRequest) and not req.get("cpt") else billing
        digest = hashlib.sha256(f"{policy.id}|{version}|{engine}|{link}".encode()).hexdigest()[:24]
        ci = coverage_information(said, coverage_ref=coverage_ref, billing=billing, link=link,
                                  assertion_id=f"covkb-{digest}", date=date)
        if det is not None and keep is not None:
            keep(f"covkb-{digest}", req, det, ci)
        cards.append(card(shown, words, said.reason, policy=policy, version=version, link=link, base_url=base_url,
                          evidence=evidence, data=data, card_id=f"covkb-{digest}|{order.get('id')}"))
        resource = _copy(order)
        resource["extension"] = [e for e in resource.get("extension") or []
                                 if not (isinstance(e, dict) and e.get("url") == EXT and _same_coverage(e, coverage_ref))]
        resource["extension"].append(ci)
        actions.append({"type": "update", "description": f"coverage information: {said.covered}", "resource": resource})
    return {"cards": cards, "systemActions": actions}


def _assertion(meant: Any, det: Any, reason: str, *, policy: Any, asks: bool, questionnaire: Questionnaires | None,
               req: dict[str, Any], data: Any) -> Assertion:
    """What a decided order's coverage information says: its meaning's
    codes; where the ordered code is too coarse to decide (which service,
    which qualifier value), its meaning's info-needed for that
    (``meaning_crd_code/2``: detail-code) and nothing asked (CRD:
    a finer code is not asked for through DTR at order time); else, where
    the meaning declares documentation and the hook may ask for it, the
    questionnaire for what is still open."""
    info, doc = meant.crd_info_needed, (None, None)
    coarse = [m for m in det.missing if m == "service" or m in data.vocabulary.qualifiers]
    if meant.crd_code_info_needed and coarse:
        info = meant.crd_code_info_needed
    elif meant.crd_doc_needed and asks and det.missing:
        doc = (meant.crd_doc_needed, meant.crd_doc_purpose)
    url = questionnaire(req, det.version) if doc[0] and questionnaire is not None else None
    effective, expiry = _version_dates(policy, det.version)
    return Assertion(meant.crd_covered, reason, info_needed=info, doc_needed=doc[0], doc_purpose=doc[1],
                     questionnaire=url, expiry=expiry,
                     policy_words=f"{policy.number} {policy.title}, version {det.version}, " + effective)


def _version_dates(policy: Any, version: str) -> tuple[str, dt.date | None]:
    """The deciding version's dates: in words, when it took effect, and
    the day before a later encoded version takes effect (the assertion's
    expiry: after it another version decides)."""
    try:
        v = policy.version(version)
    except CovkbError:  # a draft's or an unknown version: no dates to give
        return "whose dates are not known", None
    said = f"in force from {v.effective.isoformat()}" if v.effective else "whose date of effect is not known"
    later = [w.effective for w in policy.versions[policy.versions.index(v) + 1:] if w.effective]
    return said, (min(later) - dt.timedelta(days=1)) if later else None


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


def _card_words(det: Any, data: Any, ordered: tuple[str, str]) -> Any:
    """The one place the card and the reason get their words: the
    determination read in words off its derivation (covkb.sentences)."""
    from ..sentences import read
    return read(det)


def _labeller(data: Any) -> Any:
    """A fact's, finding's, field's, service's or qualifier's label (an id
    with none reads as words, never as an id)."""
    v = data.vocabulary
    said = {**v.qualifiers, **{f.name: f.label for f in v.fields.values()}, **v.patient_facts, **v.findings,
            **v.services, "service": "Which service the code reports"}

    def label(id_: str) -> str:
        return said.get(id_) or id_.replace("_", " ")
    return label


def _ordered(req: dict[str, Any], data: Any) -> tuple[str, str]:
    """What was ordered, in words, short (the service, else the code) and
    in full (with the code's description)."""
    v = data.vocabulary
    cpt = req.get("cpt")
    code = f"CPT {cpt}" + (f" ({v.codes[cpt]})" if cpt in v.codes else "") if cpt else None
    if req.get("service") in v.services:
        return v.services[req["service"]], v.services[req["service"]] + (f", reported as {code}" if code else "")
    return (f"CPT {cpt}", code) if code else ("the order", "the order")


def _reason(policy: Any, det: Any, words: Reading, evidence: list[Any], data: Any) -> str:
    """The coverage information's reason: the answer in words, the policy,
    the deciding quote and what the record said."""
    parts = [f"{words.summary} ({policy.number} {policy.title}, version {det.version})"]
    parts += [f'{s.text} "{s.quote}"' if s.quote else s.text.rstrip(".") for s in words.justification]
    if evidence:
        label = _labeller(data)
        parts.append("from the record: " + "; ".join(e.words(label) for e in evidence))
    return "; ".join(parts)


def card(shown: tuple[str, str], words: Reading | None, reason: str, *, policy: Any, version: str, link: str,
         base_url: str, evidence: list[Any], data: Any, card_id: str) -> dict[str, Any]:
    """The CDS Hooks 2.0 card for one order: ``shown`` is its indicator and
    heading (declared per meaning); the summary states the decision in
    words in under 140 characters, the detail (GitHub-flavoured Markdown)
    gives the justification with the policy's quotes, and the link opens
    the explanation."""
    indicator, heading = shown
    said = heading if words is None else words.summary if words.summary.lower().startswith(heading.lower()) \
        else f"{heading} — {words.summary}"
    summary = _shorten(said)
    lines = [f"**{_md(said)}**", ""]
    if words is None:
        lines.append(_md(reason))
    else:
        lines += [f"{_md(policy.title)} ({_md(policy.number)}), version {_md(version)}.", ""]
        for step in words.justification:
            lines += _step_lines(step, 0)
        said_as_steps = {step.text for step in words.justification}
        asked = [q.sentence for q in words.questions if q.sentence not in said_as_steps]  # each said once
        if asked:
            lines += ["", "What would decide it:", *(f"- {_md(q)}" for q in asked)]
        if evidence:
            label = _labeller(data)
            lines += ["", "From the record:", *(f"- {_md(e.words(label))}" for e in evidence)]
    lines += ["", f"[Why: the explanation, in the policy's words]({link})"]
    out: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, card_id)),
        "summary": summary, "indicator": indicator, "detail": "\n".join(lines),
        "source": {"label": f"{policy.number} {policy.title}", "topic": CARD_TOPIC},
        "links": [{"label": "Why: the explanation, in the policy's words", "url": link, "type": "absolute"}],
    }
    if version != "none":
        out["source"]["url"] = f"{base_url}/policy/{urllib.parse.quote(policy.number)}/{urllib.parse.quote(version)}"
    return out


def _step_lines(step: Any, depth: int) -> list[str]:
    """One justification step as a Markdown list item: its words, the
    policy's quote beneath (and its section where the words do not name
    it), covkb's interpretation marked as such, then its own steps."""
    pad = "  " * depth
    out = [f"{pad}- {_md(step.text)}"]
    if step.quote:
        where = f" — {_md(step.section)}" if step.section and step.section not in step.text else ""
        out.append(f"{pad}  > {_md(step.quote)}{where}")
    if step.interpretation:
        out.append(f"{pad}  *covkb's reading, not the policy's words:* {_md(step.interpretation)}")
    for child in step.children if depth < 2 else ():  # deeper steps are on the explanation's page
        out += _step_lines(child, depth + 1)
    return out


def _shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    """At most ``limit`` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:—") + "…"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _md(text: str) -> str:
    """Text as Markdown that shows it as written (no emphasis, links or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
