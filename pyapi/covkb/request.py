"""Requests: what a user asks, validated against the vocabulary.

A request never becomes Prolog or ASP source text: every id is checked
against the vocabulary read from kb/, codes and dates against their formats,
and the engines receive the values as data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import InvalidRequest, UnknownId
from .policy import ID_RE, Vocabulary

CPT_RE = re.compile(r"^[0-9]{4}[0-9A-Z]$")
ICD10_RE = re.compile(r"^([A-TV-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$")
MAX_LOSSES = 99  # a bound on a count of pregnancies; also the ASP externals' domain

FIELDS = (
    "date_of_service", "service", "cpt", "analyte", "substance", "pregnant",
    "prior_pregnancy_losses", "diagnoses", "findings", "unknown_findings",
)


def _closest(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _check_id(value: str, kind: str, known: dict[str, str] | None) -> str:
    if not ID_RE.match(value):
        raise PydanticCustomError("malformed_id", f"{value!r} is not a {kind} id (ids are lower_snake_case)")
    if known is not None and value not in known:
        raise PydanticCustomError("unknown_id", f"unknown {kind} {value!r}{_closest(value, sorted(known))}")
    return value


class Request(BaseModel):
    """One question: is this service, for this patient, medically necessary?"""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    date_of_service: dt.date | None = None
    service: str | None = None
    cpt: str | None = None
    analyte: str | None = None
    substance: str | None = None
    pregnant: bool | None = None
    prior_pregnancy_losses: int | None = Field(default=None, ge=0, le=MAX_LOSSES)
    diagnoses: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    unknown_findings: tuple[str, ...] = ()

    @field_validator("date_of_service", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        if v is None or isinstance(v, dt.date):
            return v
        if isinstance(v, str):
            try:
                return parse_date(v)
            except InvalidRequest:
                raise PydanticCustomError("malformed_date", f"{v!r} is not a date YYYY-MM-DD") from None
        raise PydanticCustomError("malformed_date", "must be a date YYYY-MM-DD")

    @field_validator("service")
    @classmethod
    def _service(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _check_id(v, "service", _vocab(info).services)

    @field_validator("analyte", "substance")
    @classmethod
    def _qualifier(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else _check_id(v, info.field_name or "value", None)

    @field_validator("cpt")
    @classmethod
    def _cpt(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if not CPT_RE.match(v):
            raise PydanticCustomError("malformed_code", f"{v!r} is not a CPT code (five characters, e.g. 59325)")
        return v

    @field_validator("diagnoses", mode="before")
    @classmethod
    def _diagnoses(cls, v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            return v
        out = []
        for code in v:
            if not isinstance(code, str):
                raise PydanticCustomError("malformed_code", "diagnosis codes are strings")
            m = ICD10_RE.match(code.strip().upper())
            if not m:
                raise PydanticCustomError("malformed_code", f"{code!r} is not an ICD-10-CM code (e.g. N96, O26.21)")
            out.append(m.group(1) + (f".{m.group(2)}" if m.group(2) else ""))
        return tuple(out)

    @field_validator("findings", "unknown_findings", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        return tuple(v) if isinstance(v, list) else v

    @field_validator("findings", "unknown_findings")
    @classmethod
    def _findings(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        known = _vocab(info).findings
        return tuple(dict.fromkeys(_check_id(f, "finding", known) for f in v))

    @model_validator(mode="after")
    def _whole(self) -> Request:
        if self.service is None and self.cpt is None:
            raise PydanticCustomError("missing_service", "a request needs a service or a cpt code")
        both = set(self.findings) & set(self.unknown_findings)
        if both:
            raise PydanticCustomError(
                "contradiction", f"finding {sorted(both)[0]!r} is listed both as present and as unknown"
            )
        return self

    def engine_dict(self) -> dict[str, Any]:
        """The request as the evaluators receive it (JSON-able, dates dropped)."""
        d = self.model_dump(exclude={"date_of_service"})
        for k in ("diagnoses", "findings", "unknown_findings"):
            d[k] = list(d[k])
        return d

    def to_json_dict(self) -> dict[str, Any]:
        d = self.engine_dict()
        d["date_of_service"] = self.date_of_service.isoformat() if self.date_of_service else None
        return {k: v for k, v in d.items() if v not in (None, [], ())}


def request_json(text: str) -> dict[str, Any]:
    """Untrusted JSON text as a request object (not yet validated)."""
    if not text.strip():
        raise InvalidRequest("empty request")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"request is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("a request is a JSON object")
    return data


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date from untrusted text, or InvalidRequest."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidRequest(f"date: {text!r} is not a date YYYY-MM-DD")


def _vocab(info: ValidationInfo) -> Vocabulary:
    ctx = info.context
    if not ctx or "vocabulary" not in ctx:
        raise RuntimeError("Request must be validated with context={'vocabulary': ...}")
    return ctx["vocabulary"]


def parse_request(data: Any, vocabulary: Vocabulary) -> Request:
    """Validate untrusted data into a Request; raise InvalidRequest with one line."""
    if isinstance(data, Request):
        return data
    if not isinstance(data, dict):
        raise InvalidRequest("a request is a JSON object")
    try:
        return Request.model_validate(data, context={"vocabulary": vocabulary})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc!r}{_closest(str(err['loc'][0]), list(FIELDS))}"
        else:
            msg = f"{loc}: {err['msg']}" if loc else err["msg"]
        cls = UnknownId if err["type"] == "unknown_id" else InvalidRequest
        raise cls(msg) from exc
