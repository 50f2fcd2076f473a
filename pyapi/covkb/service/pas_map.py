"""A Da Vinci PAS request Bundle (PAS STU 2) read as covkb requests, one per Claim item.

The Bundle holds a Claim (``use = preauthorization``) first, then the
resources it references.  Each item becomes the request a CRD order would
(``fhir_map.record_request``, the same FHIR mapping facts of kb/): the
item's ``productOrService`` and date stand for the order; the patient's
record is the Conditions the Claim.diagnosis entries state and the Conditions,
Procedures and Observations its ``supportingInfo`` references (those the
item's ``informationSequence`` names, else all).  A QuestionnaireResponse
among them (DTR: the answers to covkb's generated Questionnaire) adds its
answers through ``covkb.service.dtr`` (the one reading of an answer), where
that module is installed.  Nothing the caller sends becomes Prolog or ASP
source: every value goes through the mapping's tables or the request reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fhir_map import (Evidence, FhirMapping, InvalidFhir, OverLimit, check_depth, check_entries, read_json,
                       record_request, validate_read)

MAX_ITEMS = 50  # items in one Claim (an X12 278 carries at most 50 service lines per patient event)
RECORD_TYPES = {"Condition": "condition", "Procedure": "procedure", "Observation": "observation"}
# the resources covkb reads from a request Bundle (validated in full); the others (Patient, Coverage,
# Practitioner, ...) are carried, never read
READ = frozenset({"Claim", *RECORD_TYPES, "QuestionnaireResponse", "Questionnaire"})


@dataclass(frozen=True)
class ClaimItem:
    """One item of the Claim: its sequence, the code it asks for and the
    covkb request its record gives (or why it gives none)."""

    sequence: int
    code: dict[str, Any]        # productOrService as sent
    date: str | None            # date of service
    request: dict[str, Any]
    evidence: tuple[Any, ...]


@dataclass(frozen=True)
class PasRequest:
    """A parsed PAS request Bundle."""

    bundle: dict[str, Any]
    claim: dict[str, Any]
    resources: dict[str, dict[str, Any]]   # by fullUrl and by Type/id

    def resolve(self, ref: Any) -> dict[str, Any] | None:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        return self.resources.get(ref["reference"])


def parse_bundle(body: bytes, what: str = "PAS request") -> PasRequest:
    """The request Bundle (PASRequestBundle or PASInquiryRequestBundle),
    checked for what covkb reads: its envelope and every resource covkb
    reads (``READ``) valid R4 (fhir.resources R4B), each validated once; a
    Claim first (invariant ClaimFirst), every entry with a fullUrl and a resource."""
    bundle = read_json(body, f"the {what}")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidFhir(f"the {what} is a Bundle (resourceType Bundle)")
    check_depth(bundle, f"the {what}")
    check_entries(bundle, f"the {what}")
    validate_read(bundle, f"the {what}", READ)
    if bundle.get("type") != "collection":
        raise InvalidFhir(f"the {what} Bundle's type is collection (PAS), not {bundle.get('type')!r}")
    entries = bundle.get("entry") or []
    if not entries or (entries[0].get("resource") or {}).get("resourceType") != "Claim":
        raise InvalidFhir(f"the {what} Bundle's first entry is the Claim (PAS invariant ClaimFirst)")
    resources: dict[str, dict[str, Any]] = {}
    for i, e in enumerate(entries):
        r = e.get("resource")
        if not isinstance(r, dict):
            raise InvalidFhir(f"the {what} Bundle's entry {i} has no resource")
        if isinstance(e.get("fullUrl"), str):
            resources[e["fullUrl"]] = r
        if isinstance(r.get("id"), str):
            resources[f"{r['resourceType']}/{r['id']}"] = r
    claim = entries[0]["resource"]
    if claim.get("use") != "preauthorization":
        raise InvalidFhir(f"the Claim's use is preauthorization (PAS), not {claim.get('use')!r}")
    return PasRequest(bundle, claim, resources)


def claim_items(pas: PasRequest) -> list[dict[str, Any]]:
    items = pas.claim.get("item") or []
    if not items:
        raise InvalidFhir("the Claim names no item: a preauthorization asks for at least one service")
    if len(items) > MAX_ITEMS:
        raise OverLimit(f"the Claim holds {len(items):,} items; a request takes at most {MAX_ITEMS}")
    seen = set()
    for i, item in enumerate(items):
        if not (item.get("productOrService") or {}).get("coding"):
            raise InvalidFhir(f"Claim.item[{i}].productOrService has no coding (a CPT or HCPCS code)")
        if item["sequence"] in seen:
            raise InvalidFhir(f"Claim.item[{i}].sequence {item['sequence']} is used twice")
        seen.add(item["sequence"])
    return items


def item_date(claim: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The date of service: the item's, else the Claim's billable period, else its creation."""
    for v in (item.get("servicedDate"), (item.get("servicedPeriod") or {}).get("start"),
              (claim.get("billablePeriod") or {}).get("start"), claim.get("created")):
        if isinstance(v, str) and len(v) >= 10:
            return v[:10]
    return None


def _supporting(pas: PasRequest, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources the item's supporting information references."""
    infos = pas.claim.get("supportingInfo") or []
    wanted = set(item.get("informationSequence") or [])
    out = []
    for info in infos:
        if wanted and info.get("sequence") not in wanted:
            continue
        r = pas.resolve(info.get("valueReference"))
        if r is None and isinstance(info.get("valueReference"), dict):
            raise InvalidFhir(f"Claim.supportingInfo {info.get('sequence')}: its reference "
                              f"{info['valueReference'].get('reference')!r} is not in the Bundle")
        if r is not None:
            out.append(r)
    return out


def _element(resource: dict[str, Any], path: str) -> Any:
    """A resource's element, named by its FHIR path ("Claim.supportingInfo")."""
    return resource.get(path.split(".", 1)[1])


def _stated_conditions(pas: PasRequest, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The Conditions the Claim.diagnosis entries state (those the item's
    Claim.item.diagnosisSequence names, else all): the provider's, on the claim."""
    wanted = set(_element(item, "Claim.diagnosisSequence") or [])
    out = []
    for d in _element(pas.claim, "Claim.diagnosis") or []:
        if wanted and d.get("sequence") not in wanted:
            continue
        concept = d.get("diagnosisCodeableConcept") or (pas.resolve(d.get("diagnosisReference")) or {}).get("code")
        if concept:
            out.append({"resourceType": "Condition", "code": concept})
    return out


def item_request(pas: PasRequest, item: dict[str, Any], mapping: FhirMapping, data_of: Any,
                 answers_of: Any = None) -> ClaimItem:
    """The covkb request of one Claim item.  data_of(date) is the version
    data in force on the date; answers_of(qr, request, data) the request a
    QuestionnaireResponse's answers state (None: none read)."""
    date = item_date(pas.claim, item)
    order = {"resourceType": "ServiceRequest", "code": item["productOrService"]}
    if date:
        order["occurrenceDateTime"] = date
    record: dict[str, list[dict[str, Any]]] = {"condition": _stated_conditions(pas, item)}
    answers = []
    for r in _supporting(pas, item):
        if r.get("resourceType") in RECORD_TYPES:
            record.setdefault(RECORD_TYPES[r["resourceType"]], []).append(r)
        elif r.get("resourceType") == "QuestionnaireResponse":
            answers.append(r)
    data = data_of(date)
    req, evidence = record_request(mapping, data, order, record)
    for qr in answers:
        if answers_of is not None:
            answered = answers_of(qr, req, data)
            evidence += answered_evidence(req, answered)
            req = merge(req, answered)
    return ClaimItem(item["sequence"], item["productOrService"], date, req, tuple(evidence))


def merge(record: dict[str, Any], answered: dict[str, Any]) -> dict[str, Any]:
    """A record's request with a questionnaire's answers: what the person
    answered adds to the record; findings stated either way are kept."""
    out = {**record, **{k: v for k, v in answered.items() if k not in ("findings", "absent_findings")}}
    for k in ("findings", "absent_findings"):
        both = list(dict.fromkeys([*record.get(k, ()), *answered.get(k, ())]))
        if both:
            out[k] = both
    return out


def answered_evidence(record: dict[str, Any], answered: dict[str, Any]) -> list[Evidence]:
    """What the questionnaire's answers add to the record, as evidence read
    in words beside the record's (the means fhir_map.Evidence reads)."""
    out = []
    for k, said in (("findings", "present"), ("absent_findings", "absent (refuted)")):
        for f in answered.get(k, ()):
            if f not in record.get(k, ()):
                out.append(Evidence("QuestionnaireResponse", f, "The questionnaire's answer", f"{f} {said}"))
    for k, v in answered.items():
        if k not in ("findings", "absent_findings", "unknown_findings", "unlisted_findings") and record.get(k) != v:
            value = {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v
            out.append(Evidence("QuestionnaireResponse", k, "The questionnaire's answer", f"{k} = {value}"))
    return out
