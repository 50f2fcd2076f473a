"""Errors as HTTP answers: RFC 9457 problem details with covkb's error code.

Every covkb error keeps the code and one-line message it has on the command
line; this module only chooses the HTTP status and writes the body.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from ..errors import CovkbError, EngineError, InvalidRequest, KnowledgeBaseError, UnknownId, VersionNotAvailable

PROBLEM = "application/problem+json"
FHIR_JSON = "application/fhir+json"


class NotFound(InvalidRequest):
    """A policy, version or CDS service named in the path that does not exist."""

    code = "not_found"


class Conflict(InvalidRequest):
    """A request at odds with what is already kept (a second review of a decided preauthorization)."""

    code = "conflict"


class MalformedBody(InvalidRequest):
    """A body that is not JSON (or JSON Lines) at all."""

    code = "malformed_body"


class EngineUnavailable(EngineError):
    """No engine worker could answer (it died twice, or timed out)."""

    code = "engine_unavailable"


def status_for(err: CovkbError) -> int:
    from ..store import AlreadyReviewed, DraftTooLarge, StaleDraft, StoreError, UnknownDecision, UnknownDraft
    from .fhir_map import InvalidFhir, OverLimit, PrefetchMissing

    if isinstance(err, (NotFound, UnknownDecision, UnknownDraft)):
        return 404
    if isinstance(err, (AlreadyReviewed, StaleDraft)):
        return 409
    if isinstance(err, DraftTooLarge):
        return 413
    if isinstance(err, StoreError):
        return 503
    if isinstance(err, OverLimit):
        return 422
    if isinstance(err, Conflict):
        return 409
    if isinstance(err, (MalformedBody, InvalidFhir)):
        return 400
    if isinstance(err, PrefetchMissing):
        return 412
    if isinstance(err, EngineUnavailable):
        return 503
    if isinstance(err, (UnknownId, VersionNotAvailable, InvalidRequest)):
        return 422
    if isinstance(err, (KnowledgeBaseError, EngineError)):
        return 500
    return 500


def problem(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": f"urn:covkb:error:{code}", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, "code": code}


def from_error(err: CovkbError) -> tuple[int, dict[str, Any]]:
    status = status_for(err)
    return status, problem(status, err.code, err.message)


def operation_outcome(detail: str, code: str = "invalid") -> dict[str, Any]:
    """A FHIR OperationOutcome for invalid FHIR input."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": detail}]}


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
