"""Requests: what a user asks, validated against the policy's vocabulary.

A request has the fields every policy shares (date of service, service, CPT
code, findings present, unknown and absent, and how a finding it does not
list is read: ``unlisted_findings``, unknown unless it says absent) and the fields its policy declares in
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
ids and codes.  What each field may hold is declared once, in
``covkb.request_rules``: the model runs those rules as its validators (and
words every error), and ``covkb.untrusted.read_request`` applies the same
rules without pydantic to a request that passes them all (a new process
then does not load pydantic).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, create_model,
                      model_validator)
from pydantic_core import PydanticCustomError

from .errors import InvalidRequest, UnknownId
# the limits and plain checks, defined once in covkb.limits (pydantic-free), also named here
from .limits import (CODE_SYSTEMS, COMMON_FIELDS, CPT_RE, ICD10_RE, ID_RE, MAX_DEPTH, MAX_DIGITS,  # noqa: F401
                     MAX_LIST, MAX_REQUEST_BYTES, MAX_TEXT, _closest, _shown, check_untrusted, decode_text,
                     engine_dict, field_names, normal_cpt, parse_date, parse_whole_number, parse_yes_no,
                     read_bounded, request_json)
from .policy import RequestField, Vocabulary
from .request_rules import (COMMON_RULES, COMMON_TYPES, Refusal, Rule, check_whole, declaration_error, field_rule,
                            field_type, qualifier_rule)


class Request(BaseModel):
    """One question: is this service, for this patient, medically necessary?

    The fields every policy shares and the policy's own, each validated by
    its rule in ``covkb.request_rules``; ``request_model`` makes the model of
    a policy."""

    # defer_build: the schema is built at first validation, not at import (a command that validates
    # nothing does not pay for it)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)

    if TYPE_CHECKING:  # the fields every model has (request_model declares them, from COMMON_RULES)
        date_of_service: dt.date | None
        service: str | None
        cpt: str | None
        findings: tuple[str, ...]
        unknown_findings: tuple[str, ...]
        absent_findings: tuple[str, ...]
        unlisted_findings: str

    @model_validator(mode="after")
    def _whole(self, info: ValidationInfo) -> Request:
        try:
            check_whole(self.get, _vocab(info))
        except Refusal as r:
            raise PydanticCustomError(r.code, r.message) from None
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


_LIST_SCHEMA = {"json_schema_extra": {"maxItems": MAX_LIST}}  # a list's bound, in the JSON schema


def _validated(rule: Rule, typ: Any, default: Any, schema: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """A field of the model: its type once read, validated by its rule (which
    words a refusal), and its value when absent."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            return rule(value, _vocab(info))
        except Refusal as r:
            raise PydanticCustomError(r.code, r.message) from None

    return Annotated[typ, BeforeValidator(validate), Field(**(schema or {}))], default


def _own_field(f: RequestField) -> tuple[Any, Any]:
    typ, default = field_type(f)
    # for the JSON schema only: the rule checks the length or the range
    schema = _LIST_SCHEMA if f.kind == "code_list" else None
    if f.numeric:
        schema = {"json_schema_extra": dict(zip(("minimum", "maximum"), f.range))}
    return _validated(field_rule(f), typ, default, schema)


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
        clash = declaration_error(fields, quals)
        if clash:
            raise InvalidRequest(clash)
        spec: dict[str, Any] = {
            name: _validated(rule, *COMMON_TYPES[name], _LIST_SCHEMA if COMMON_TYPES[name][1] == () else None)
            for name, rule in COMMON_RULES.items()}
        spec.update({f.name: _own_field(f) for f in fields})
        spec.update({q: _validated(qualifier_rule(q), str | None, None) for q in quals})
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
