"""Requests: what a user asks, validated against the policy's vocabulary.

A request has the fields every policy shares (date of service, service, CPT
code, findings present and unknown) and the fields its policy declares in
kb/ (``request_field/3``: booleans, choices, counts, measurements, code lists;
``qualifier/2``).  The model for a policy is built from those declarations
(``request_model``).  A request never becomes Prolog or ASP source text:
every id is checked against the vocabulary, codes and dates against their
formats, numbers against their declared ranges, and the engines receive the
values as data (``engine_dict``).

Untrusted input is checked once, whatever it came as (a JSON file, a
batch line, a CSV cell, a command-line flag): the limits and checks that
need no model live in ``covkb.limits`` (and are named here too), and
every value of a request passes ``check_untrusted`` before the model checks
ids and codes.  The model is the definition of a valid request;
``covkb.untrusted.read_request`` reads a plainly valid one to the same
values without it (a new process then does not load pydantic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      ValidationInfo, create_model, field_validator, model_validator)
from pydantic_core import PydanticCustomError

from .errors import InvalidRequest, UnknownId
# the limits and plain checks, defined once in covkb.limits (pydantic-free), also named here
from .limits import (CODE_SYSTEMS, COMMON_FIELDS, CPT_RE, ICD10_RE, ID_RE, MAX_DEPTH, MAX_DIGITS,  # noqa: F401
                     MAX_LIST, MAX_REQUEST_BYTES, MAX_TEXT, _closest, _shown, check_untrusted, decode_text,
                     engine_dict, field_names, normal_cpt, parse_date, parse_whole_number, parse_yes_no,
                     read_bounded, request_json)
from .policy import RequestField, Vocabulary


def _code_check(system: str) -> Callable[[str], str] | None:
    """The check of a code system's codes, or None when covkb has no rule for it."""
    if system not in CODE_SYSTEMS:
        return None
    norm, what = CODE_SYSTEMS[system]

    def check(code: str) -> str:
        out = norm(code)
        if out is None:
            raise PydanticCustomError("malformed_code", f"{code!r} is not {what}")
        return out

    return check


def _check_id(value: str, kind: str, known: dict[str, str] | tuple[str, ...] | None) -> str:
    if not ID_RE.match(value):
        raise PydanticCustomError("malformed_id", f"{value!r} is not a {kind} id (ids are lower_snake_case)")
    if known is not None and value not in known:
        raise PydanticCustomError("unknown_id", f"unknown {kind} {value!r}{_closest(value, sorted(known))}")
    return value


class Request(BaseModel):
    """One question: is this service, for this patient, medically necessary?

    The fields every policy shares; ``request_model`` adds a policy's own."""

    # defer_build: the schema is built at first validation, not at import (a command that validates
    # nothing does not pay for it)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)

    date_of_service: dt.date | None = None
    service: str | None = None
    cpt: str | None = None
    findings: tuple[str, ...] = Field(default=(), max_length=MAX_LIST)
    unknown_findings: tuple[str, ...] = Field(default=(), max_length=MAX_LIST)

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

    @field_validator("cpt")
    @classmethod
    def _cpt(cls, v: str | None) -> str | None:
        if v is None:
            return v
        w = normal_cpt(v)
        if w is None:
            raise PydanticCustomError("malformed_code", f"{v!r} is not a CPT or HCPCS code (five characters, e.g. 99213)")
        return w

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
    def _whole(self, info: ValidationInfo) -> Request:
        if self.service is None and self.cpt is None:
            raise PydanticCustomError("missing_service", "a request needs a service or a cpt code")
        vocab = _vocab(info)
        clash = vocab.out_of_bounds({f: self.get(f) for f in vocab.fields})
        if clash:
            raise PydanticCustomError("contradiction", clash)
        both = set(self.findings) & set(self.unknown_findings)
        if both:
            raise PydanticCustomError(
                "contradiction", f"finding {sorted(both)[0]!r} is listed both as present and as unknown"
            )
        return self

    # the policy's own fields, as declared (set on each generated model)
    __policy_fields__: tuple[RequestField, ...] = ()
    __qualifiers__: tuple[str, ...] = ()

    def get(self, name: str) -> Any:
        """A field's value by name (a policy's own fields included)."""
        return getattr(self, name, None)

    def engine_dict(self) -> dict[str, Any]:
        """The request as the evaluators receive it (JSON-able, dates dropped)."""
        return engine_dict(self, self.__policy_fields__, self.__qualifiers__)

    def to_json_dict(self) -> dict[str, Any]:
        """The request as a user writes it (absent fields left out)."""
        d = self.model_dump()
        d["date_of_service"] = self.date_of_service.isoformat() if self.date_of_service else None
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if v not in (None, [], ())}


def _field_type(f: RequestField) -> tuple[Any, Any]:
    """The pydantic type and default of a policy's request field."""
    if f.kind == "boolean":
        return (bool | None, None)
    if f.kind == "choice":
        return (Annotated[str | None, AfterValidator(lambda v, f=f: v if v is None else _check_id(v, f.name, f.values))],
                None)
    if f.numeric:
        lo, hi = f.range
        return (int | None, Field(default=None, ge=lo, le=hi))
    if f.kind == "code_list":
        norm = _code_check(f.code_system or "")

        def codes(v: Any, norm: Callable[[str], str] | None = norm, f: RequestField = f) -> Any:
            if isinstance(v, list):
                v = tuple(v)
            if not isinstance(v, tuple):
                return v
            out = []
            for code in v:
                if not isinstance(code, str):
                    raise PydanticCustomError("malformed_code", f"{f.name}: codes are strings")
                if norm is not None:
                    code = norm(code)
                elif not code.isascii() or not code.strip():
                    raise PydanticCustomError("malformed_code", f"{code!r} is not a code")
                out.append(code)
            return tuple(dict.fromkeys(out))

        return (Annotated[tuple[str, ...], BeforeValidator(codes), Field(max_length=MAX_LIST)], ())
    raise InvalidRequest(f"request field {f.name} has an unknown kind {f.kind}")


def _qualifier_type(q: str) -> tuple[Any, Any]:
    # a value no code names is allowed: the code then reports another service
    return (Annotated[str | None, AfterValidator(lambda v, q=q: v if v is None else _check_id(v, q, None))], None)


_models: dict[tuple[Any, ...], type[Request]] = {}
_by_vocabulary: dict[int, tuple[Vocabulary, type[Request]]] = {}


def request_model(vocabulary: Vocabulary) -> type[Request]:
    """The Request model of a policy: the shared fields and the policy's own.
    Remembered by vocabulary as well (working out the declarations' key
    took about 10 µs a request)."""
    hit = _by_vocabulary.get(id(vocabulary))
    if hit is not None and hit[0] is vocabulary:
        return hit[1]
    model = _model_of(vocabulary)
    if len(_by_vocabulary) >= 16:  # a few vocabularies live at once; the entry keeps its own alive
        _by_vocabulary.clear()
    _by_vocabulary[id(vocabulary)] = (vocabulary, model)
    return model


def _model_of(vocabulary: Vocabulary) -> type[Request]:
    fields = tuple(sorted(vocabulary.fields.values(), key=lambda f: f.name))
    quals = tuple(sorted(vocabulary.qualifiers))
    key = (fields, quals)
    model = _models.get(key)
    if model is None:
        clash = {f.name for f in fields} & (set(quals) | set(COMMON_FIELDS))
        if clash:
            raise InvalidRequest(f"request field {sorted(clash)[0]} is declared twice")
        spec: dict[str, Any] = {f.name: _field_type(f) for f in fields}
        spec.update({q: _qualifier_type(q) for q in quals})
        model = create_model("PolicyRequest", __base__=Request, **spec)
        model.__policy_fields__ = fields
        model.__qualifiers__ = quals
        _models[key] = model
    return model


def _vocab(info: ValidationInfo) -> Vocabulary:
    ctx = info.context
    if not ctx or "vocabulary" not in ctx:
        raise RuntimeError("Request must be validated with context={'vocabulary': ...}")
    return ctx["vocabulary"]


def parse_request(data: Any, vocabulary: Vocabulary) -> Request:
    """Validate untrusted data into a Request; raise InvalidRequest with one line."""
    model = request_model(vocabulary)
    if isinstance(data, model):
        return data
    if isinstance(data, Request):
        data = data.to_json_dict()
    if not isinstance(data, dict):
        raise InvalidRequest("a request is a JSON object")
    check_untrusted(data)
    try:
        return model.model_validate(data, context={"vocabulary": vocabulary})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc!r}{_closest(str(err['loc'][0]), field_names(vocabulary))}"
        else:
            msg = f"{loc}: {err['msg']}" if loc else err["msg"]
        cls = UnknownId if err["type"] == "unknown_id" else InvalidRequest
        raise cls(msg) from exc
