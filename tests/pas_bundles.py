"""PAS request Bundles for the tests, built from a CDS Hooks call that states
a request's record (tests/test_silent_record.py builds those from the
policy's FHIR mapping): the order becomes the Claim's item, the record's
ICD-10 diagnoses its diagnoses, every other resource its supporting information."""

from __future__ import annotations

import copy
from typing import Any

PAS_TEMP = "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _resources(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, dict):
        return []
    return [e["resource"] for e in v.get("entry") or []] if v.get("resourceType") == "Bundle" else [v]


def claim_bundle(call: dict[str, Any], ident: str, *, items: list[dict[str, Any]] | None = None,
                 extra: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """A PASRequestBundle for the call's draft orders (one item each), identified by ident."""
    pre = call["prefetch"]
    orders = [e["resource"] for e in call["context"]["draftOrders"]["entry"]]
    patient = _resources(pre["patient"])[0]
    coverage = _resources(pre["coverage"])[0]
    record = [r for k, v in sorted(pre.items()) if k not in ("patient", "coverage") for r in _resources(v)]
    diagnoses = [r for r in record if r["resourceType"] == "Condition" and "verificationStatus" not in r
                 and any(c["system"] == ICD10 for c in r["code"]["coding"])]
    support = [r for r in record if r not in diagnoses] + list(extra)
    claim = {
        "resourceType": "Claim", "id": f"claim-{ident}",
        "meta": {"profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim"]},
        "identifier": [{"system": "http://example.org/PATIENT_EVENT_TRACE_NUMBER", "value": ident}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization", "patient": {"reference": f"Patient/{patient['id']}"},
        "created": "2025-06-01T10:00:00Z", "insurer": {"reference": "Organization/payer"},
        "provider": {"reference": "Practitioner/dr-1"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{coverage['id']}"}}],
        "item": items if items is not None else [
            {"sequence": i + 1, "productOrService": o["code"], "servicedDate": o.get("occurrenceDateTime", "2025-06-01")}
            for i, o in enumerate(orders)],
    }
    if diagnoses:
        claim["diagnosis"] = [{"sequence": i + 1, "diagnosisCodeableConcept": d["code"]} for i, d in enumerate(diagnoses)]
    if support:
        claim["supportingInfo"] = [
            {"sequence": i + 1, "category": {"coding": [{"system": PAS_TEMP, "code": "additionalInformation"}]},
             "valueReference": {"reference": f"{r['resourceType']}/{r['id']}"}} for i, r in enumerate(support)]
    entries = [claim, patient, coverage, *support]
    return {"resourceType": "Bundle", "identifier": {"system": "http://example.org/SUBMITTER_TRANSACTION_IDENTIFIER",
                                                     "value": f"tx-{ident}"},
            "type": "collection", "timestamp": "2025-06-01T10:00:00Z",
            "entry": [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": copy.deepcopy(r)}
                      for r in entries]}


def inquiry_bundle(submitted: dict[str, Any], *, pre_auth_ref: str | None = None) -> dict[str, Any]:
    """A PASInquiryRequestBundle asking after a submitted request: by its
    preauthorization reference when given, else by its Claim's identifier."""
    out = copy.deepcopy(submitted)
    claim = out["entry"][0]["resource"]
    claim.pop("item", None)
    claim.pop("supportingInfo", None)
    claim["meta"] = {"profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim-inquiry"]}
    if pre_auth_ref:
        claim["insurance"][0]["preAuthRef"] = [pre_auth_ref]
    out["identifier"]["value"] += "-inquiry"
    out["entry"] = out["entry"][:3]
    return out


def answered_bundle(bundle: dict[str, Any], questionnaire: dict[str, Any], answers: dict[str, Any], ident: str, *,
                    carry_questionnaire: bool = True) -> dict[str, Any]:
    """The request again, with a QuestionnaireResponse answering the
    Questionnaire (linkId → value) as supporting information, under a new identifier."""
    out = copy.deepcopy(bundle)
    claim = out["entry"][0]["resource"]
    asked = {i["linkId"]: i for i in questionnaire.get("item") or []}

    def answer(k: str, v: Any) -> dict[str, Any]:
        if asked[k]["type"] == "choice":  # the option whose code is the value
            return {"valueCoding": next(o["valueCoding"] for o in asked[k]["answerOption"]
                                        if o["valueCoding"]["code"] == str(v))}
        return {"valueBoolean": v} if asked[k]["type"] == "boolean" else {"valueInteger": v}

    qr = {"resourceType": "QuestionnaireResponse", "id": f"qr-{ident}"[:64],
          "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}", "status": "completed",
          "subject": claim["patient"], "authored": "2025-06-01T10:30:00Z",
          "item": [{"linkId": k, "answer": [answer(k, v)]} for k, v in answers.items()]}
    claim["id"] = f"claim-{ident}"
    claim["identifier"][0]["value"] = ident
    out["identifier"]["value"] = f"tx-{ident}"
    infos = claim.setdefault("supportingInfo", [])
    infos.append({"sequence": len(infos) + 1, "category": {"coding": [{"system": PAS_TEMP, "code": "additionalInformation"}]},
                  "valueReference": {"reference": f"QuestionnaireResponse/{qr['id']}"}})
    out["entry"][0]["fullUrl"] = f"http://example.org/fhir/Claim/{claim['id']}"
    extra = [qr] + ([questionnaire] if carry_questionnaire else [])
    out["entry"] += [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": copy.deepcopy(r)}
                     for r in extra]
    return out
