"""Da Vinci PAS (STU 2): prior-authorization decisions from the policy.

``Claim/$submit`` takes a PAS request Bundle; each Claim item is read as a
covkb request (``pas_map``, the same FHIR mapping facts as CRD), decided
with its full derivation, and answered in a PAS response Bundle: a
ClaimResponse whose item adjudication carries the review action
(extension-reviewAction, its X12 306 code), a preauthorization reference
(``preAuthRef``), and for each item notes in words: the decision, the
policy's quotes, the citations and the explanation link (the link CRD's
cards give).  Which review action an outcome takes is declared with the
outcome in kb/vocabulary.pl (``meaning_review/4``, read through
covkb.outcomes); this module names no outcome:

- approved (A1) when the policy finds the service medically necessary;
- denied (A3) with the specific reason in words and the policy's citations;
- pended (A4) with the Questionnaire that asks for what is missing (DTR:
  covkb.questionnaire's plan, its canonical URL; a PAS Task asks for it);
- pended (A4) for a person, with the reason, when the policy does not
  decide (another policy, not addressed, its text not known) or covkb
  cannot read the item: never approved unseen.

Every decision is kept (covkb.store, kind "pas", keyed by the
preauthorization reference) with the request, the answer, the version and
the knowledge base's digest.  ``Claim/$inquire`` returns it; a person's
review (``/v1/reviews``) approves or denies the pended items with a reason,
and ``$inquire`` then returns that.  Notifying the provider of a review
(PAS subscriptions) is out of scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CovkbError
from .fhir_map import InvalidFhir, validate_emitted
from .pas_map import ClaimItem, PasRequest, claim_items, item_request
from .problems import Conflict, NotFound

PAS = "http://hl7.org/fhir/us/davinci-pas"
PROFILE = {"response": f"{PAS}/StructureDefinition/profile-pas-response-bundle",
           "claimresponse": f"{PAS}/StructureDefinition/profile-claimresponse",
           "inquiry": f"{PAS}/StructureDefinition/profile-pas-inquiry-response-bundle",
           "inquiryresponse": f"{PAS}/StructureDefinition/profile-claiminquiryresponse",
           "task": f"{PAS}/StructureDefinition/profile-task"}
REVIEW_ACTION = f"{PAS}/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = f"{PAS}/StructureDefinition/extension-reviewActionCode"
AUTHORIZED_PROVIDER = f"{PAS}/StructureDefinition/extension-itemAuthorizedProvider"
PROVIDER_TYPE = f"{PAS}/StructureDefinition/extension-authorizedProviderType"
ADMIN_REF = f"{PAS}/StructureDefinition/extension-administrationReferenceNumber"
REVIEWER = f"{PAS}/StructureDefinition/extension-claimResponseReviewer"
SERVICE_LINE = f"{PAS}/StructureDefinition/extension-serviceLineNumber"
PAS_TEMP = f"{PAS}/CodeSystem/PASTempCodes"
X12_306 = "https://codesystem.x12.org/005010/306"
X12_98 = "https://codesystem.x12.org/005010/98"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
# X12 306 (the PAS value set of reviewActionCode): the displays the guide's examples use
X12_306_DISPLAY = {"A1": "Certified in total", "A3": "Not Certified", "A4": "Pending"}
# an item covkb could not read or decide: a person looks at it (never approved unseen)
TECHNICAL = ("pended_for_review", "A4", "Pended for a person's review: covkb could not decide this item")
ACTION_WORDS = {"approved": "approved", "denied": "denied", "pended_for_information": "pended for information",
                "pended_for_review": "pended for a person's review"}
UNASKABLE = ("pended_for_review", "A4", "Pended for a person's review: no question a form can ask settles what is missing")
PERSON = {"approve": ("approved", "A1", "Approved by a person's review"),
          "deny": ("denied", "A3", "Denied by a person's review")}


@dataclass(frozen=True)
class ItemDecision:
    """One item's decision: its review action and everything said of it."""

    sequence: int
    code: dict[str, Any]
    request: dict[str, Any]
    outcome: str | None            # None: not decided (the reason says why)
    version: str | None
    action: str                    # approved, denied, pended_for_information, pended_for_review
    x12: str                       # its X12 306 code
    heading: str                   # the words the note opens with
    reason: str                    # the decision in words, the policy's quotes, what the record said
    citations: tuple[dict[str, str], ...]
    link: str | None               # the explanation
    questionnaire: str | None      # the canonical URL of the Questionnaire that asks for what is missing

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "code": self.code, "request": self.request, "outcome": self.outcome,
                "version": self.version, "action": self.action, "x12": self.x12, "heading": self.heading,
                "reason": self.reason, "citations": list(self.citations), "link": self.link,
                "questionnaire": self.questionnaire}


def decide_item(item: ClaimItem, *, policy: Any, data: Any, determine: Callable[[dict[str, Any]], Any],
                engine: str, base_url: str, plan_of: Callable[[dict[str, Any], str], Any] | None
                ) -> tuple[ItemDecision, Any]:
    """One item decided: (its decision, the Questionnaire plan asking for what is missing or None)."""
    from ..sentences import read
    from .crd import _reason, token

    link = f"{base_url}/v1/explanations/{token(policy.id, engine, item.request)}"
    try:
        det = determine(item.request)
    except CovkbError as err:
        action, x12, heading = TECHNICAL
        return ItemDecision(item.sequence, item.code, item.request, None, None, action, x12, heading,
                            f"covkb could not decide this item: {err.message}", (), None, None), None
    meant = data.outcomes[det.outcome]
    reason = _reason(policy, det, read(det), list(item.evidence), data)
    plan = url = None
    action, x12, heading = meant.review_action, meant.review_code, meant.review_heading
    if action == "pended_for_information" and plan_of is not None:
        plan, url = plan_of(item.request, det.version)
        if not plan.items:  # what is missing no form can ask (the code too coarse to name the service): a person
            action, x12, heading = UNASKABLE
            plan = url = None
    citations = tuple({"section": c.section, "section_path": c.section_path, "quote": c.quote} for c in det.citations)
    return ItemDecision(item.sequence, item.code, item.request, det.outcome, det.version, action, x12, heading,
                        reason, citations, link, url), plan


# -- the response -------------------------------------------------------------------------------------------------

def _ref(resource: Any) -> dict[str, Any] | None:
    return resource if isinstance(resource, dict) and resource.get("reference") else None


def _notes(d: ItemDecision, first: int, reviewed: bool = False) -> list[dict[str, Any]]:
    """The item's notes, in words: the decision with its reason, then (for
    a denial) the policy's citations, then where the explanation is;
    reviewed: covkb's decision, before a person's review decided otherwise."""
    before = "before a person's review, " if reviewed else ""
    notes = [f"Item {d.sequence}: {before}{d.heading}. {d.reason}"]
    if d.action == "denied" and d.citations:
        notes.append(f"Item {d.sequence}: the policy's words: " +
                     "; ".join(f'{c["section_path"]}: "{c["quote"]}"' for c in d.citations))
    if d.questionnaire:
        notes.append(f"Item {d.sequence}: answer the questionnaire {d.questionnaire} (Da Vinci DTR) "
                     "and submit again with the QuestionnaireResponse")
    if d.link:
        notes.append(f"Item {d.sequence}: why, in the policy's words: {d.link}")
    return [{"number": first + i, "type": "display", "text": t} for i, t in enumerate(notes)]


def _review_action(x12: str, number: str | None, heading: str) -> dict[str, Any]:
    ext: list[dict[str, Any]] = [{"url": REVIEW_ACTION_CODE, "valueCodeableConcept": {
        "coding": [{"system": X12_306, "code": x12, "display": X12_306_DISPLAY[x12]}], "text": heading}}]
    if number:
        ext.append({"url": "number", "valueString": number})
    return {"url": REVIEW_ACTION, "extension": ext}


def claim_response(pas: PasRequest, decisions: list[ItemDecision], *, preauth_ref: str, created: str,
                   base_url: str, review: dict[str, Any] | None = None, inquiry: bool = False) -> dict[str, Any]:
    """The PAS ClaimResponse: per item its adjudication with the review
    action, its notes in words; review: a person's review of the pended items."""
    claim = pas.claim
    items, notes = [], []
    for d in decisions:
        action, x12, heading = d.action, d.x12, d.heading
        reason = f"{heading}: {d.reason}"
        if review is not None and action.startswith("pended"):
            action, x12, heading = PERSON[review["action"]]
            reason = f"{heading} ({review['reviewer']}): {review['reason']}"
        first = len(notes) + 1
        if action != d.action:  # a person's review: the decision in force first, then what covkb said before it
            notes.append({"number": first, "type": "display", "text": f"Item {d.sequence}: {reason}"})
        notes += _notes(d, len(notes) + 1, reviewed=action != d.action)
        number = f"{preauth_ref}-{d.sequence}"
        ext: list[dict[str, Any]] = []
        if action == "pended_for_information" or action == "pended_for_review":
            ext.append({"url": ADMIN_REF, "valueString": number})
        provider = _ref(claim.get("provider"))
        ext.append({"url": AUTHORIZED_PROVIDER, "extension": [
            *([{"url": "provider", "valueReference": provider}] if provider else []),
            {"url": PROVIDER_TYPE, "valueCodeableConcept": {"coding": [{"system": X12_98, "code": "SJ",
                                                                        "display": "Service Provider"}]}}]})
        items.append({
            "extension": ext, "itemSequence": d.sequence,
            "noteNumber": list(range(first, len(notes) + 1)),
            "adjudication": [{
                "extension": [_review_action(x12, number if action == "approved" else None, heading)],
                "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                "reason": {"text": reason[:1000]},
            }],
        })
    counts: dict[str, int] = {}
    for d in decisions:
        said = PERSON[review["action"]][0] if review is not None and d.action.startswith("pended") else d.action
        counts[said] = counts.get(said, 0) + 1
    out: dict[str, Any] = {
        "resourceType": "ClaimResponse", "id": preauth_ref,
        "meta": {"profile": [PROFILE["inquiryresponse" if inquiry else "claimresponse"]]},
        "identifier": [{"system": f"{base_url}/fhir/preauthorization", "value": preauth_ref}],
        "status": "active", "type": claim["type"], "use": "preauthorization",
        "patient": claim["patient"], "created": created, "insurer": claim["insurer"],
        **({"requestor": claim["provider"]} if _ref(claim.get("provider")) else {}),
        "request": {"reference": f"Claim/{claim['id']}"} if claim.get("id") else
        {"identifier": (claim.get("identifier") or [{}])[0]} if claim.get("identifier") else
        {"display": "the submitted Claim"},
        "outcome": "complete",
        "disposition": "; ".join(f"{n} {'item' if n == 1 else 'items'} {ACTION_WORDS[a]}" for a, n in sorted(counts.items())),
        "preAuthRef": preauth_ref,
        "item": items, "processNote": notes,
    }
    if review is not None:
        out["extension"] = [{"url": REVIEWER, "extension": [{"url": "wasHumanReviewedFlag", "valueBoolean": True}]}]
    return out


def task(pas: PasRequest, d: ItemDecision, *, preauth_ref: str, base_url: str) -> dict[str, Any]:
    """The PAS Task asking for what a pended item lacks through the
    generated Questionnaire (code attachment-request-questionnaire; the
    questionnaire-context input names it, as invariant QuestionnaireContext asks)."""
    claim_ref = {"reference": f"Claim/{pas.claim['id']}"} if pas.claim.get("id") else {"display": "the submitted Claim"}
    return {
        "resourceType": "Task", "id": f"{preauth_ref}-{d.sequence}-questionnaire",
        "meta": {"profile": [PROFILE["task"]]},
        "identifier": [{"system": f"{base_url}/fhir/preauthorization", "value": f"{preauth_ref}-{d.sequence}"}],
        "status": "requested", "intent": "order",
        "code": {"coding": [{"system": PAS_TEMP, "code": "attachment-request-questionnaire"}]},
        "for": pas.claim["patient"],
        "reasonCode": {"coding": [{"system": PAS_TEMP, "code": "priorAuthorization"}]},
        "reasonReference": claim_ref,
        "input": [
            {"type": {"coding": [{"system": PAS_TEMP, "code": "payer-url"}]},
             "valueUrl": f"{base_url}/fhir/Claim/$submit"},
            {"extension": [{"url": SERVICE_LINE, "valuePositiveInt": d.sequence}],
             "type": {"coding": [{"system": PAS_TEMP, "code": "questionnaire-context"}]},
             "valueString": d.questionnaire},
        ],
    }


def response_bundle(pas: PasRequest, decisions: list[ItemDecision], *, preauth_ref: str, created: str,
                    base_url: str, questionnaires: list[dict[str, Any]] = (), review: dict[str, Any] | None = None,
                    inquiry: bool = False) -> dict[str, Any]:
    """The PAS response Bundle (ClaimResponse first, as invariant
    ClaimResponseFirst asks), with a Task and the Questionnaire for each
    item pended for information; every resource checked against R4 where
    the contract is checked (fhir_map.validate_emitted)."""
    cr = claim_response(pas, decisions, preauth_ref=preauth_ref, created=created, base_url=base_url,
                        review=review, inquiry=inquiry)
    entries = [cr]
    if review is None:
        entries += [task(pas, d, preauth_ref=preauth_ref, base_url=base_url) for d in decisions if d.questionnaire]
        entries += list(questionnaires)
    bundle = {
        "resourceType": "Bundle", "meta": {"profile": [PROFILE["inquiry" if inquiry else "response"]]},
        "identifier": {"system": f"{base_url}/fhir/preauthorization", "value": preauth_ref},
        "type": "collection", "timestamp": created,
        "entry": [{"fullUrl": _full_url(base_url, r), "resource": r} for r in entries],
    }
    validate_emitted(bundle, "the PAS response", "Bundle")
    return bundle


def _full_url(base_url: str, r: dict[str, Any]) -> str:
    if r["resourceType"] == "Questionnaire" and r.get("url"):
        return r["url"]
    return f"{base_url}/fhir/{r['resourceType']}/{r.get('id') or uuid.uuid4()}"


# -- submit, inquire, review --------------------------------------------------------------------------------------

def preauth_reference(pas: PasRequest) -> str:
    """The preauthorization reference: from what identifies the request
    (the Claim's identifiers, its patient, provider and insurer; the
    Bundle's identifier where the Claim has none), so that a retried
    submission finds its decision and an inquiry naming the same Claim finds
    it directly; random where the submitter gives no identifier."""
    claim = pas.claim
    named = claim.get("identifier") or pas.bundle.get("identifier")
    if not named:
        return f"covkb-pa-{uuid.uuid4().hex[:20]}"
    ident = [named, claim.get("patient"), claim.get("provider"), claim.get("insurer")]
    return "covkb-pa-" + hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20]


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def review_of(decision: Any) -> dict[str, Any] | None:
    """A stored decision's review (action approve/deny, reason, reviewer), or None."""
    if not decision.reviews:
        return None
    r = decision.reviews[-1]
    return {"action": {"approved": "approve", "denied": "deny"}[r.action], "reason": r.reason, "reviewer": r.reviewer}


def stored_bundle(decision: Any, base_url: str, *, inquiry: bool = True) -> dict[str, Any]:
    """A stored decision's response Bundle as it now stands: the decision
    as made, and a person's review of its pended items where there is one."""
    from .pas_map import parse_bundle

    review = review_of(decision)
    if review is None and not inquiry:
        return _rebased(decision.answer, base_url)
    pas = parse_bundle(json.dumps(decision.request["bundle"]).encode())
    items = [ItemDecision(**{**i, "citations": tuple(i["citations"])}) for i in decision.detail["items"]]
    return response_bundle(pas, items, preauth_ref=decision.key, created=decision.detail["created"],
                           base_url=base_url, review=review, inquiry=inquiry)


def _rebased(answer: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A stored answer's links under this server's base (--public-url): a
    decision kept by a server on another address or port is the same decision."""
    kept = answer.get("identifier", {}).get("system", "").removesuffix("/fhir/preauthorization")
    if not kept or kept == base_url:
        return answer
    return json.loads(json.dumps(answer).replace(json.dumps(kept + "/")[1:-1], json.dumps(base_url + "/")[1:-1]))


def parameters(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    """$inquire's answer: a Parameters resource, one ``return`` Bundle per decision found."""
    out = {"resourceType": "Parameters", "parameter": [{"name": "return", "resource": b} for b in bundles]}
    validate_emitted(out, "the $inquire answer", "Parameters")
    return out


def inquiry_keys(pas: PasRequest, decisions: Callable[[], list[Any]], found: Callable[[str], bool]) -> list[str]:
    """The preauthorization references an inquiry names: its Claim's
    ``insurance.preAuthRef``; else the reference the same Claim (identifier,
    patient, provider, insurer) was kept under; else the stored decisions
    whose Claim carried the inquiry Claim's identifier (query by example, as
    PAS's $inquire: a scan, only when the others find nothing)."""
    named = [r for ins in pas.claim.get("insurance") or [] for r in ins.get("preAuthRef") or []]
    if named:
        return named
    if pas.claim.get("identifier") and found(preauth_reference(pas)):  # the same Claim: found by its key
        return [preauth_reference(pas)]
    wanted = {(i.get("system"), i.get("value")) for i in pas.claim.get("identifier") or []}
    if not wanted:
        raise InvalidFhir("the inquiry's Claim names no insurance.preAuthRef and no identifier to look for")
    return [d.key for d in decisions()
            if wanted & {(i.get("system"), i.get("value")) for i in d.detail.get("identifier") or []}]


def review_listing(decision: Any) -> dict[str, Any]:
    """One pended preauthorization, for a reviewer: ids for machines, words for people."""
    pended = [i for i in decision.detail["items"] if i["action"].startswith("pended")]
    return {"id": decision.key, "status": decision.status, "policy": decision.policy, "version": decision.version,
            "created": decision.detail["created"], "patient": decision.detail.get("patient"),
            "items": [{"sequence": i["sequence"], "code": i["code"], "outcome": i["outcome"], "action": i["action"],
                       "summary": i["heading"], "reason": i["reason"], "questionnaire": i["questionnaire"],
                       "explanation": i["link"]} for i in pended]}


def checked_review(body: Any) -> tuple[str, str, str]:
    """A reviewer's decision (action approve or deny, reason, reviewer), checked."""
    from ..errors import InvalidRequest

    if not isinstance(body, dict):
        raise InvalidRequest('a review is a JSON object: {"action": "approve" | "deny", "reason": ..., "reviewer": ...}')
    action, reason, reviewer = body.get("action"), body.get("reason"), body.get("reviewer")
    if action not in PERSON:
        raise InvalidRequest(f'a review\'s action is "approve" or "deny", not {action!r}')
    for name, v in (("reason", reason), ("reviewer", reviewer)):
        if not isinstance(v, str) or not v.strip() or len(v) > 4000:
            raise InvalidRequest(f"a review needs its {name} in words (1 to 4,000 characters)")
    return action, reason.strip(), reviewer.strip()


def not_found(key: str) -> NotFound:
    return NotFound(f"no preauthorization {key!r}: GET /v1/reviews lists those pended")


# -- the operations (run in an engine worker: ops.Worker) -------------------------------------------------------

def submit(body: bytes, *, policy: Any, kb: Any, mapping: Any, store: Any, engine: str, base_url: str,
           today: dt.date | None, plan: Any = None, decide: Any = None) -> dict[str, Any]:
    """Claim/$submit: the PAS response Bundle, the decision kept (a
    retried submission of the same Claim finds the decision already made).
    plan(kb, request, version, decided=...): covkb.questionnaire.plan, or
    the worker's plans remembered; decide(kb, request):
    covkb.questionnaire.decide, or the worker's decisions remembered.  Each
    item is decided once: a pended item's questionnaire is planned from the
    same cases."""
    from .. import questionnaire
    from ..store import DuplicateDecision, kb_digest
    from . import dtr
    from .crd import _version_data
    from .pas_map import parse_bundle

    pas = parse_bundle(body)
    if not _ref(pas.claim.get("insurer")):
        raise InvalidFhir("the Claim names its insurer (Claim.insurer: PAS requires it)")
    items = claim_items(pas)
    key = preauth_reference(pas)
    on = today or dt.date.today()
    make_plan = plan or questionnaire.plan

    def data_of(date: str | None) -> Any:
        return _version_data(policy, date, on)

    def answers_of(qr: dict[str, Any], req: dict[str, Any], data: Any) -> dict[str, Any]:
        # the Questionnaire answered: the one the Bundle carries, else the QuestionnaireResponse's own
        # (contained), else the one the record's request gives (what covkb asks of it)
        url = str(qr.get("questionnaire") or "").split("|")[0]
        asked = next((r for r in pas.resources.values() if r.get("resourceType") == "Questionnaire"
                      and url and r.get("url") == url), None)
        if asked is None and not any(r.get("resourceType") == "Questionnaire" for r in qr.get("contained") or []):
            asked = make_plan(kb, req, data.version.id)
        return dtr.questionnaire_response_request(asked, qr, kb=kb)

    decided: dict[str, Any] = {}  # an item's request -> its cases, data and determination

    def determine(req: dict[str, Any]) -> Any:
        decided[json.dumps(req, sort_keys=True, default=str)] = found = (decide or questionnaire.decide)(kb, req)
        return found[2]

    def plan_of(req: dict[str, Any], version: str) -> tuple[Any, str]:
        pl = make_plan(kb, req, version, decided=decided.get(json.dumps(req, sort_keys=True, default=str)))
        return pl, questionnaire.canonical_url(base_url, pl)

    decisions, questionnaires, versions = [], [], {}
    for raw in items:
        item = item_request(pas, raw, mapping, data_of, answers_of)
        data = data_of(item.date)
        d, asked = decide_item(item, policy=policy, data=data, engine=engine, base_url=base_url,
                               determine=determine, plan_of=plan_of)
        decisions.append(d)
        if asked is not None and not any(q.get("url") == d.questionnaire for q in questionnaires):
            questionnaires.append(dtr.questionnaire(asked, base_url, engine=engine))
        if d.version:
            versions[d.version] = kb_digest(policy.data(d.version))
    created = now()
    bundle = response_bundle(pas, decisions, preauth_ref=key, created=created, base_url=base_url,
                             questionnaires=questionnaires)
    try:  # kept unless a decision is kept under its preauthorization reference already (no look-up first:
        # a submission is new far more often than it is sent again)
        _save(store, key, pas, decisions, bundle, policy=policy.id, versions=versions, created=created, engine=engine)
    except DuplicateDecision:  # sent again (or twice at once): the decision kept first is the decision
        kept = store.decision(key)
        if kept.request.get("bundle", {}).get("entry") != pas.bundle.get("entry"):
            raise Conflict(f"a different preauthorization request was submitted with these identifiers "
                           f"(preAuthRef {key}); $inquire gives its decision, or send a new Bundle identifier") from None
        return stored_bundle(kept, base_url, inquiry=False)
    return bundle


def _save(store: Any, key: str, pas: PasRequest, decisions: list[ItemDecision], bundle: dict[str, Any], *,
          policy: str, versions: dict[str, str], created: str, engine: str) -> None:
    """Keep one submission's decision: the request, each item's covkb request and decision, the answer."""
    pended = any(d.action.startswith("pended") for d in decisions)
    store.keep_decision("pas", key, policy=policy, version=",".join(versions) or "none",
                        kb_digest=",".join(versions.values()) or "none",
                        request={"bundle": pas.bundle, "items": [{"sequence": d.sequence, "request": d.request}
                                                                 for d in decisions]},
                        answer=bundle, status="pended" if pended else "decided",
                        detail={"created": created, "identifier": pas.claim.get("identifier") or [],
                                "patient": pas.claim.get("patient"), "engine": engine,
                                "items": [d.to_dict() for d in decisions]})


def inquire(body: bytes, *, store: Any, base_url: str) -> dict[str, Any]:
    """Claim/$inquire: the stored decisions the inquiry names, as they now stand."""
    from .pas_map import parse_bundle

    pas = parse_bundle(body, "PAS inquiry")
    found = [store.decision(k) for k in inquiry_keys(pas, lambda: store.decisions(kind="pas"),
                                                     lambda k: store.decision(k) is not None)]
    return parameters([stored_bundle(d, base_url) for d in found if d is not None and d.kind == "pas"])


def record_review(key: str, body: bytes, *, store: Any, base_url: str, client: str | None = None) -> dict[str, Any]:
    """A person's review of a pended preauthorization: the inquiry's answer it now gives.
    client: the authenticated caller (its token's subject), kept beside the
    reviewer the body names, so a review says which client recorded it."""
    from .problems import MalformedBody

    try:
        raw = json.loads(body)
    except ValueError:
        raise MalformedBody("a review is JSON") from None
    action, reason, reviewer = checked_review(raw)
    d = store.decision(key)
    if d is None or d.kind != "pas":
        raise not_found(key)
    if d.status != "pended" or review_of(d) is not None:
        raise Conflict(f"preauthorization {key} is not pended (it is {d.status}): a decided request is "
                             "reviewed again only by an appeal, not here")
    if client:
        reviewer = f"{reviewer} (through the client {client})"
    d = store.record_review(key, action={"approve": "approved", "deny": "denied"}[action], reason=reason,
                            reviewer=reviewer)
    return stored_bundle(d, base_url)
