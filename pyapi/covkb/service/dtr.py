"""DTR: the questionnaires covkb generates from the policy, as FHIR R4.

``questionnaire(plan, base_url)`` writes a covkb.questionnaire Plan as a DTR
standard Questionnaire (dtr-std-questionnaire): each item the request field
or finding it asks (its linkId), its text the question in words, a help item
(SDC itemControl ``help``) with the policy's quotes, its answers from the
vocabulary, and when it is shown: plain ``enableWhen`` where the condition is
one conjunction or one disjunction, else SDC's ``enableWhenExpression``
(FHIRPath).  What was already known travels with the Questionnaire (an
identifier holding covkb's request token), so an answered form decides
without any state kept between calls.

The operations (run by the engine workers, covkb.service.ops):

* ``package(...)``: ``Questionnaire/$questionnaire-package`` (DTR STU 2):
  Parameters with ``coverage``, ``order`` and an optional ``context`` (a CRD
  coverage-assertion-id: the request CRD kept under it in covkb.store) in;
  Parameters with one ``packagebundle`` per order that needs one (the
  Questionnaire, then an initial QuestionnaireResponse) and an ``outcome``
  saying why an order needs none;
* ``next_question(...)``: ``Questionnaire/$next-question`` (SDC adaptive): a
  QuestionnaireResponse with its contained Questionnaire in; the next item
  that can change the outcome added, or status ``completed`` once the outcome
  is decided;
* ``questionnaire_response_request(...)``: a completed QuestionnaireResponse
  as the covkb request it answers (decided by the caller, with the full
  explanation).

Every resource written here is validated with fhir.resources' R4B models
where the contract is checked (``fhir_map.validate_emitted``: the tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import InvalidRequest
from ..questionnaire import Condition, Item, Plan, canonical_url, plan as make_plan, questionnaire_id
from .crd import CRD_TEMP, token, untoken
from .fhir_map import (InvalidFhir, check_depth, order_date, read_json, record_request, validate_emitted,
                       validate_resource)

DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/"
STD_PROFILE = DTR + "dtr-std-questionnaire"
ADAPT_PROFILE = DTR + "dtr-questionnaire-adapt"
QR_PROFILE = DTR + "dtr-questionnaireresponse"
QR_ADAPT_PROFILE = DTR + "dtr-questionnaireresponse-adapt"
BUNDLE_PROFILE = DTR + "DTR-QPackageBundle"
OUTPUT_PROFILE = DTR + "dtr-qpackage-output-parameters"
QR_COVERAGE, QR_CONTEXT, INTENDED_USE, ORIGIN = (DTR + n for n in ("qr-coverage", "qr-context", "intendedUse",
                                                                    "information-origin"))
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_CODES = "http://hl7.org/fhir/questionnaire-item-control"
ENABLE_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
ADAPTIVE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive"
MIN_VALUE, MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue", "http://hl7.org/fhir/StructureDefinition/maxValue"
KIND = {"boolean": "boolean", "choice": "choice", "integer": "integer"}
ANSWER_KEY = {"boolean": "valueBoolean", "choice": "valueCoding", "integer": "valueInteger"}


def known_system(base_url: str) -> str:
    """The identifier system under which a Questionnaire carries what was known (covkb's request token)."""
    return f"{base_url.rstrip('/')}/fhir/known-request"


def code_system(base_url: str, plan: Plan) -> str:
    """The code system of a policy's ids (services, qualifier values) as answers."""
    return f"{base_url.rstrip('/')}/fhir/CodeSystem/covkb-{plan.policy.replace('_', '-')}"


# -- the Questionnaire --------------------------------------------------------------------------


def questionnaire(plan: Plan, base_url: str, *, engine: str = "prolog", adaptive: bool = False,
                  items: tuple[Item, ...] | None = None) -> dict[str, Any]:
    """The plan as a DTR Questionnaire (standard; adaptive: the items asked so far)."""
    url = canonical_url(base_url, plan)
    shown = plan.items if items is None else items
    q: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(plan) + ("-adaptive" if adaptive else ""),
        "meta": {"profile": [ADAPT_PROFILE if adaptive else STD_PROFILE]},
        "url": url + ("-adaptive" if adaptive else ""),
        "identifier": [{"system": known_system(base_url), "value": token(plan.policy, engine, plan.request)}],
        "version": plan.version,
        "name": "".join(ch for ch in questionnaire_id(plan).title() if ch.isalnum())[:255],
        "title": plan.title,
        "status": "active",
        "subjectType": ["Patient"],
        "date": dt.date.today().isoformat(),
        "publisher": "covkb",
        "description": "The questions whose answers can still change the coverage decision, generated from the "
                       "policy: each is shown only while the answers before it leave it relevant.",
    }
    if adaptive:
        q["extension"] = [{"url": ADAPTIVE, "valueUrl": f"{base_url.rstrip('/')}/fhir/Questionnaire/$next-question"}]
        q["derivedFrom"] = [f"{url}|{plan.version}"]
    by_id = {i.link_id: i for i in plan.items}
    q["item"] = [_item(i, plan, base_url, by_id, adaptive) for i in shown]
    if not q["item"]:
        del q["item"]
    validate_emitted(q, "the generated Questionnaire", "Questionnaire")
    return q


def _item(item: Item, plan: Plan, base_url: str, by_id: dict[str, Item], adaptive: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": item.link_id, "text": item.text, "type": KIND[item.kind], "required": False}
    ext: list[dict[str, Any]] = []
    if item.kind == "integer":
        ext += [{"url": MIN_VALUE, "valueInteger": item.minimum}] if item.minimum is not None else []
        ext += [{"url": MAX_VALUE, "valueInteger": item.maximum}] if item.maximum is not None else []
    if item.kind == "choice":
        out["answerOption"] = [{"valueCoding": _coding(base_url, plan, o.value, o.label)} for o in item.options]
    if item.enable and not adaptive:  # an adaptive form asks an item only once it is relevant
        when = _enable_when(item.enable, by_id, base_url, plan)
        if isinstance(when, str):
            ext.append({"url": ENABLE_EXPRESSION, "valueExpression": {"language": "text/fhirpath", "expression": when}})
        else:
            out["enableWhen"], behavior = when
            if len(out["enableWhen"]) > 1:
                out["enableBehavior"] = behavior
    if ext:
        out["extension"] = ext
    if item.help:
        out["item"] = [{
            "linkId": f"{item.link_id}.help", "type": "display",
            "text": "\n".join(f"{section}: \u201c{quote}\u201d" if section else f"\u201c{quote}\u201d"
                              for section, quote in item.help),
            "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {
                "coding": [{"system": ITEM_CONTROL_CODES, "code": "help", "display": "Help-Button"}]}}],
        }]
    return out


def _coding(base_url: str, plan: Plan, value: Any, label: str) -> dict[str, Any]:
    return {"system": code_system(base_url, plan), "code": str(value), "display": label}


def _enable_when(enable: tuple[tuple[Condition, ...], ...], by_id: dict[str, Item], base_url: str,
                 plan: Plan) -> tuple[list[dict[str, Any]], str] | str:
    """Plain enableWhen (the conditions, and all or any) where the
    condition is one conjunction or one disjunction; else a FHIRPath expression."""
    if len(enable) == 1:
        return [_when(c, by_id, base_url, plan) for c in enable[0]], "all"
    if all(len(conj) == 1 for conj in enable):
        return [_when(conj[0], by_id, base_url, plan) for conj in enable], "any"
    return " or ".join("(" + " and ".join(_fhirpath(c, by_id) for c in conj) + ")" for conj in enable)


def _when(c: Condition, by_id: dict[str, Item], base_url: str, plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {"question": c.link_id, "operator": c.op}
    if c.op == "exists":
        out["answerBoolean"] = bool(c.value)
    elif by_id[c.link_id].kind == "choice":
        out["answerCoding"] = {k: v for k, v in _coding(base_url, plan, c.value, "").items() if k != "display"}
    elif by_id[c.link_id].kind == "integer":
        out["answerInteger"] = c.value
    else:
        out["answerBoolean"] = c.value
    return out


def _fhirpath(c: Condition, by_id: dict[str, Item]) -> str:
    answers = f"%resource.repeat(item).where(linkId='{c.link_id}').answer"
    if c.op == "exists":
        return f"{answers}.exists()" if c.value else f"{answers}.empty()"
    kind = by_id[c.link_id].kind
    value = "true" if c.value is True else "false" if c.value is False else \
        f"'{c.value}'" if kind == "choice" else str(c.value)
    test = f"value.code = {value}" if kind == "choice" else f"value {'=' if c.op == '!=' else c.op} {value}"
    return f"{answers}.where({test}).empty()" if c.op == "!=" else f"{answers}.where({test}).exists()"


# -- QuestionnaireResponses ---------------------------------------------------------------------


def response(plan: Plan, q: dict[str, Any], *, subject: str, coverage: str, orders: list[str],
             adaptive: bool = False) -> dict[str, Any]:
    """The initial (empty) QuestionnaireResponse for a Questionnaire."""
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"{q['id'][:55]}-response",
        "meta": {"profile": [QR_ADAPT_PROFILE if adaptive else QR_PROFILE]},
        "extension": [{"url": QR_COVERAGE, "valueReference": {"reference": coverage}},
                      *({"url": QR_CONTEXT, "valueReference": {"reference": o}} for o in orders),
                      {"url": INTENDED_USE, "valueCodeableConcept": {"coding": [{"system": CRD_TEMP, "code": "withpa"}]}}],
        "questionnaire": "#" + q["id"] if adaptive else f"{q['url']}|{q['version']}",
        "status": "in-progress",
        "subject": {"reference": subject},
        "authored": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if adaptive:
        qr["contained"] = [q]
    validate_emitted(qr, "the generated QuestionnaireResponse", "QuestionnaireResponse")
    return qr


def answers_of(qr: dict[str, Any], items: tuple[Item, ...]) -> dict[str, Any]:
    """The answers a QuestionnaireResponse gives (linkId → value), each checked against its item."""
    by_id = {i.link_id: i for i in items}
    out: dict[str, Any] = {}
    stack = list(qr.get("item") or [])
    while stack:
        it = stack.pop()
        if not isinstance(it, dict):
            raise InvalidFhir("QuestionnaireResponse.item: an item is an object")
        stack += it.get("item") or []
        link, answers = it.get("linkId"), it.get("answer") or []
        if link not in by_id or not answers:
            if link not in by_id and answers and not str(link).endswith(".help"):
                raise InvalidFhir(f"QuestionnaireResponse.item {str(link)[:80]!r}: the Questionnaire asks no such item")
            continue
        item = by_id[link]
        if len(answers) != 1:
            raise InvalidFhir(f"QuestionnaireResponse.item {link!r}: one answer, not {len(answers)}")
        out[link] = _answer_value(item, answers[0])
    return out


def _answer_value(item: Item, answer: Any) -> Any:
    key = ANSWER_KEY[item.kind]
    if not isinstance(answer, dict) or key not in answer:
        raise InvalidFhir(f"QuestionnaireResponse.item {item.link_id!r}: the answer is a {key}")
    value = answer[key]
    if item.kind == "choice":
        code = value.get("code") if isinstance(value, dict) else None
        known = {str(o.value): o.value for o in item.options}
        if code not in known:
            raise InvalidFhir(f"QuestionnaireResponse.item {item.link_id!r}: {str(code)[:80]!r} is not one of its "
                              f"answers ({', '.join(known)})")
        return known[code]
    if item.kind == "integer" and item.minimum is not None and not (item.minimum <= value <= (item.maximum or value)):
        raise InvalidFhir(f"QuestionnaireResponse.item {item.link_id!r}: {value} is outside {item.minimum} to "
                          f"{item.maximum}")
    return value


def questionnaire_response_request(plan_or_questionnaire: Plan | dict[str, Any] | None, qr: dict[str, Any], *,
                                   kb: Any = None) -> dict[str, Any]:
    """A QuestionnaireResponse as the request it answers: what was known when
    the Questionnaire was made and the answers.  plan_or_questionnaire: the
    Plan, or the Questionnaire answered (covkb's; with kb to make its plan
    again), or None: the one the QuestionnaireResponse contains."""
    from ..questionnaire import request_of

    validate_resource(qr, "the QuestionnaireResponse", "QuestionnaireResponse")
    p = plan_or_questionnaire if isinstance(plan_or_questionnaire, Plan) else \
        plan_of(kb, plan_or_questionnaire or contained_questionnaire(qr))
    return request_of(p, answers_of(qr, p.items))


def contained_questionnaire(qr: dict[str, Any]) -> dict[str, Any]:
    q = next((r for r in qr.get("contained") or [] if isinstance(r, dict) and r.get("resourceType") == "Questionnaire"),
             None)
    if q is None:
        raise InvalidFhir("the QuestionnaireResponse contains no Questionnaire, and none was given")
    return q


def plan_of(kb: Any, q: dict[str, Any]) -> Plan:
    """The plan a covkb Questionnaire was generated from, made again (the same known facts, the same version)."""
    p = make_plan(kb, known_request(q))
    if q.get("version") not in (None, p.version):
        raise InvalidFhir(f"the Questionnaire was generated from version {str(q.get('version'))[:40]!r}; what it knew "
                          f"is now decided by version {p.version}: ask for the questionnaire again")
    return p


def known_request(q: dict[str, Any]) -> dict[str, Any]:
    """What was known when a Questionnaire was made (its covkb identifier)."""
    tok = next((i.get("value") for i in q.get("identifier") or []
                if isinstance(i, dict) and str(i.get("system", "")).endswith("/fhir/known-request")), None)
    if not isinstance(tok, str):
        raise InvalidFhir("the Questionnaire is not one covkb generated (no known-request identifier)")
    try:
        return untoken(tok)["request"]
    except InvalidRequest:
        raise InvalidFhir("the Questionnaire's known-request identifier is not covkb's") from None


# -- the operations -----------------------------------------------------------------------------


def parameters(body: bytes, where: str = "the Parameters") -> dict[str, Any]:
    """A Parameters resource from the body, validated."""
    raw = read_json(body, where)
    check_depth(raw, where)
    validate_resource(raw, where)
    return raw


def param(p: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [x for x in p.get("parameter") or [] if isinstance(x, dict) and x.get("name") == name]


def package(body: bytes, kb: Any, policy: Any, mapping: Any, *, base_url: str, engine: str,
            today: dt.date, stored: Any = None, adaptive: bool = False, plan: Any = make_plan) -> dict[str, Any]:
    """$questionnaire-package: one PackageBundle per order that needs a
    questionnaire; an outcome for those that need none.  stored(context)
    returns the request CRD decided under a coverage-assertion-id (None: unknown).
    adaptive: each Questionnaire an adaptive one with no items yet ($next-question asks them).
    plan(kb, request): covkb.questionnaire.plan, or the worker's plans remembered."""
    p = parameters(body)
    if p.get("resourceType") != "Parameters":
        raise InvalidFhir("$questionnaire-package takes a Parameters resource")
    coverages = [x.get("resource") for x in param(p, "coverage")]
    if len(coverages) != 1 or not isinstance(coverages[0], dict) or coverages[0].get("resourceType") != "Coverage":
        raise InvalidFhir("parameter coverage: exactly one Coverage resource is required")
    orders = [x.get("resource") for x in param(p, "order") if isinstance(x.get("resource"), dict)]
    context = next((x.get("valueString") for x in param(p, "context")), None)
    if not orders and context is None:
        raise InvalidFhir("dtr-1: an order or a context is required")
    cov = coverages[0]
    coverage_ref = f"Coverage/{cov['id']}" if cov.get("id") else "Coverage"
    patient = (cov.get("beneficiary") or {}).get("reference") or "Patient"
    requests, notes = _requests(orders, context, policy, mapping, today, stored)
    out: list[dict[str, Any]] = []
    for req, order_refs in requests:
        pl = plan(kb, req)
        if not pl.items:
            notes.append(_no_questions(pl))
            continue
        q = questionnaire(pl, base_url, engine=engine, adaptive=adaptive, items=() if adaptive else None)
        qr = response(pl, q, subject=patient, coverage=coverage_ref, orders=order_refs, adaptive=adaptive)
        out.append({"name": "packagebundle", "resource": {
            "resourceType": "Bundle", "meta": {"profile": [BUNDLE_PROFILE]}, "type": "collection",
            "entry": [{"fullUrl": q["url"], "resource": q}, {"resource": qr}]}})
    if notes:
        out.append({"name": "outcome", "resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "information", "code": "informational", "diagnostics": n} for n in notes]}})
    result = {"resourceType": "Parameters", "meta": {"profile": [OUTPUT_PROFILE]}, "parameter": out}
    validate_emitted(result, "the $questionnaire-package answer", "Parameters")
    return result


def _requests(orders: list[dict[str, Any]], context: str | None, policy: Any, mapping: Any, today: dt.date,
              stored: Any) -> tuple[list[tuple[dict[str, Any], list[str]]], list[str]]:
    """The requests to ask about: the one CRD stored under the context, else each order's."""
    notes: list[str] = []
    refs = [f"{o.get('resourceType')}/{o['id']}" for o in orders if o.get("id")]
    if context is not None:
        req = stored(context) if stored is not None else None
        if req is not None:
            return [(req, refs)], notes
        notes.append(f"context {context[:80]!r} names no decision covkb keeps; the orders alone were read")
    out = []
    for o in orders:
        validate_resource(o, "parameter order")
        if o.get("resourceType") != "ServiceRequest":
            notes.append(f"order {o.get('resourceType')}: covkb reads ServiceRequests only")
            continue
        data = _version_data(policy, order_date(o), today)
        req, _ = record_request(mapping, data, o, {})
        out.append((req, [f"ServiceRequest/{o['id']}"] if o.get("id") else []))
    return out, notes


def _version_data(policy: Any, on: str | None, today: dt.date) -> Any:
    from .crd import _version_data as in_force

    return in_force(policy, on, today)


def _no_questions(pl: Plan) -> str:
    if pl.unaskable:
        return (f"{pl.title} No questionnaire can settle it ({', '.join(pl.unaskable)}: no request field says it): "
                "a person reviews it.")
    return f"{pl.title} No further documentation changes the decision."


def next_question(body: bytes, kb: Any, *, base_url: str, engine: str) -> dict[str, Any]:
    """$next-question: the QuestionnaireResponse with the next relevant item added, or completed."""
    raw = parameters(body, "the $next-question input")
    qr = raw
    if raw.get("resourceType") == "Parameters":
        qr = next((x.get("resource") for x in param(raw, "questionnaire-response")), None)
        if not isinstance(qr, dict):
            raise InvalidFhir("parameter questionnaire-response: a QuestionnaireResponse is required")
    validate_resource(qr, "the QuestionnaireResponse", "QuestionnaireResponse")
    pl = plan_of(kb, contained_questionnaire(qr))
    answers = answers_of(qr, pl.items)
    asked = [i for i in pl.items if i.link_id in answers]
    nxt = next((i for i in pl.items if i.link_id not in answers and i.enabled(answers)), None)
    out = dict(qr)
    contained = [r for r in qr.get("contained") or [] if r.get("resourceType") != "Questionnaire"]
    q = questionnaire(pl, base_url, engine=engine, adaptive=True, items=tuple(asked + ([nxt] if nxt else [])))
    out["contained"] = [q, *contained]
    out["questionnaire"] = "#" + q["id"]
    out["meta"] = {"profile": [QR_ADAPT_PROFILE]}
    items = [it for it in qr.get("item") or [] if isinstance(it, dict) and it.get("linkId") in answers]
    if nxt is not None:
        items.append({"linkId": nxt.link_id, "text": nxt.text})
    out["item"] = items
    if not items:
        del out["item"]
    out["status"] = "completed" if nxt is None else "in-progress"
    validate_emitted(out, "the $next-question answer", "QuestionnaireResponse")
    return {"resourceType": "Parameters", "parameter": [{"name": "return", "resource": out}]}


# -- reading a generated Questionnaire back (GET) ----------------------------------------------------

ADAPTIVE_SUFFIX = "-adaptive"


def stored_questionnaire(qid: str, known: Any, base_url: str) -> dict[str, Any]:
    """``GET /fhir/Questionnaire/{id}``: the Questionnaire covkb generated
    under that id (or its adaptive form), made again from what it knew:
    known(id) gives the knowledge base and plan kept under a Questionnaire
    id (None where none is), the same policy, version and known facts
    giving the same items and canonical URL."""
    from .problems import NotFound

    adaptive = qid.endswith(ADAPTIVE_SUFFIX)
    key = qid[:-len(ADAPTIVE_SUFFIX)] if adaptive else qid
    found = known(key) if len(key) <= 64 else None
    if found is None:
        raise NotFound(f"no Questionnaire {qid[:80]!r}: covkb keeps those it generated "
                       "($questionnaire-package, CRD's doc-needed, PAS)")
    kb, pl = found
    if questionnaire_id(pl) != key:  # the knowledge base changed since: its facts now ask other questions
        raise NotFound(f"Questionnaire {qid[:80]!r} was generated by a knowledge base that has changed since: "
                       "ask $questionnaire-package for the questionnaire again")
    return questionnaire(pl, base_url, engine=kb.engine_name, adaptive=adaptive, items=() if adaptive else None)


def questionnaire_search(url: str, known: Any, base_url: str) -> dict[str, Any]:
    """``GET /fhir/Questionnaire?url=CANONICAL`` (a ``|version`` allowed):
    a searchset Bundle with the Questionnaire of that canonical URL, or none."""
    from urllib.parse import quote

    from .problems import NotFound

    canonical, _, version = url.partition("|")
    prefix = f"{base_url.rstrip('/')}/fhir/Questionnaire/"
    found: list[dict[str, Any]] = []
    if canonical.startswith(prefix) and "/" not in canonical[len(prefix):]:
        try:
            q = stored_questionnaire(canonical[len(prefix):], known, base_url)
        except NotFound:
            q = None
        if q is not None and version in ("", q.get("version")):
            found.append(q)
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
              "link": [{"relation": "self", "url": f"{prefix.rstrip('/')}?url={quote(url, safe=':/')}"}],
              "entry": [{"fullUrl": q["url"], "resource": q, "search": {"mode": "match"}} for q in found]}
    validate_emitted(bundle, "the Questionnaire search's answer", "Bundle")
    return bundle
