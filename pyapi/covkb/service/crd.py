"""CDS Hooks with Da Vinci CRD coverage information (CRD STU 2, FHIR R4).

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
``info-needed``) and how its card shows it (indicator, heading) are
declared with the outcome's other meanings in kb/vocabulary.pl
(``meaning_crd/3``, ``meaning_card/3``, read through covkb.outcomes); this
module names no outcome.
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
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import CovkbError, InvalidRequest
from .fhir_map import (COVERAGE_KEY, MAX_FHIR_DEPTH, MAX_ORDERS, FhirMapping, InvalidFhir, OverLimit,
                       PrefetchMissing, check_depth, check_entries, order_date, record_request, resources_of,
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
    actions, cards = [], []
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
            words = _card_words(det, data, _ordered(req, data))
            reason = _reason(policy, det, words, evidence, data)
            version = det.version
            shown = (meant.card_indicator, meant.card_heading)
        except CovkbError as err:
            covered, info = TECHNICAL
            reason = f"covkb could not decide this order: {err.message}"
            version, words = "none", None
            shown = FAILED_CARD
            billing = None if isinstance(err, InvalidRequest) and not req.get("cpt") else billing
        digest = hashlib.sha256(f"{policy.id}|{version}|{engine}|{link}".encode()).hexdigest()[:24]
        ci = coverage_information(covered=covered, info_needed=info, reason=reason, coverage_ref=coverage_ref,
                                  billing=billing, link=link,
                                  assertion_id=f"covkb-{digest}", date=date)
        cards.append(card(shown, words, reason, policy=policy, version=version, link=link, base_url=base_url,
                          evidence=evidence, data=data, card_id=f"covkb-{digest}|{order.get('id')}"))
        resource = _copy(order)
        resource["extension"] = [e for e in resource.get("extension") or []
                                 if not (isinstance(e, dict) and e.get("url") == EXT and _same_coverage(e, coverage_ref))]
        resource["extension"].append(ci)
        actions.append({"type": "update", "description": f"coverage information: {covered}", "resource": resource})
    return {"cards": cards, "systemActions": actions}


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
