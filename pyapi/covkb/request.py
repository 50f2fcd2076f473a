"""Requests: what a user asks, validated against the policy's vocabulary.

A request has the fields every policy shares (date of service, service, CPT
code, findings present and unknown) and the fields its policy declares in
kb/ (``request_field/3``: booleans, choices, counts, measurements, code lists;
``qualifier/2``).  The model for a policy is built from those declarations
(``request_model``).  A request never becomes Prolog or ASP source text:
every id is checked against the vocabulary, codes and dates against their
formats, numbers against their declared ranges, and the engines receive the
values as data (``engine_dict``).

Untrusted input is checked here, once, whatever it came as (a JSON file,
a batch line, a CSV cell, a command-line flag): the limits below, bytes
that must be UTF-8 (``decode_text``), JSON without duplicate keys, deep
nesting or huge numbers (``request_json``), text read as a whole number or a
yes/no (``parse_whole_number``, ``parse_yes_no``), and every value of a
request (``check_untrusted``: string sizes, no control characters, NFC, list
lengths, nesting, number ranges) before the model checks ids and codes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      ValidationInfo, create_model, field_validator, model_validator)
from pydantic_core import PydanticCustomError

from .errors import InvalidRequest, UnknownId
from .policy import ID_RE, RequestField, Vocabulary

# CPT (five digits, or four and a letter) and HCPCS Level II (a letter and four digits)
CPT_RE = re.compile(r"^(?:[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$", re.ASCII)
ICD10_RE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$", re.ASCII)

# -- limits on untrusted input: the one place they are set --------------------
MAX_REQUEST_BYTES = 1 << 20  # a request's bytes: a request file, stdin, one batch line
MAX_TEXT = 256               # characters in any string of a request: ids, codes, dates, values
MAX_LIST = 200               # codes or findings in one request
MAX_DEPTH = 8                # nesting of JSON objects and arrays in a request
MAX_DIGITS = 15              # digits in any number of a request (declared ranges are far smaller)

COMMON_FIELDS = ("date_of_service", "service", "cpt", "findings", "unknown_findings")


def _icd10(code: str) -> str:
    m = ICD10_RE.match(code.strip().upper()) if code.isascii() else None
    if not m:
        raise PydanticCustomError("malformed_code", f"{code!r} is not an ICD-10-CM code (e.g. E11.9)")
    return m.group(1) + (f".{m.group(2)}" if m.group(2) else "")


# How each code system's codes are checked and written (generic: no policy's codes).
CODE_SYSTEMS: dict[str, Callable[[str], str]] = {"ICD-10-CM": _icd10}


def _closest(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


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
        w = v.strip().upper() if v.isascii() else v
        if not CPT_RE.match(w):
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
        values: dict[str, Any] = {}
        codes: dict[str, list[str]] = {}
        for f in self.__policy_fields__:
            v = getattr(self, f.name)
            if f.kind == "code_list":
                if v:
                    codes[f.name] = list(v)
            elif v is not None:
                values[f.name] = ("yes" if v else "no") if f.kind == "boolean" else v
        return {
            "service": self.service, "cpt": self.cpt,
            "qualifiers": {q: getattr(self, q) for q in self.__qualifiers__ if getattr(self, q) is not None},
            "values": values, "codes": codes,
            "findings": list(self.findings), "unknown_findings": list(self.unknown_findings),
        }

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
        lo = f.minimum if f.minimum is not None else 0
        hi = f.maximum if f.maximum is not None else 10**6
        return (int | None, Field(default=None, ge=lo, le=hi))
    if f.kind == "code_list":
        norm = CODE_SYSTEMS.get(f.code_system or "")

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


def request_model(vocabulary: Vocabulary) -> type[Request]:
    """The Request model of a policy: the shared fields and the policy's own."""
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


def field_names(vocabulary: Vocabulary) -> list[str]:
    return [*COMMON_FIELDS, *sorted(vocabulary.qualifiers), *sorted(vocabulary.fields)]


def decode_text(raw: bytes, what: str = "request") -> str:
    """Untrusted bytes as text: UTF-8 only (a leading BOM is dropped), else
    InvalidRequest naming the first bad byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidRequest(f"{what} is UTF-16 text; covkb reads UTF-8 only")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"{what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start})") from None


def read_bounded(stream: Any, what: str, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """At most ``limit`` bytes of a binary stream; more is refused unread."""
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise InvalidRequest(f"{what} is larger than {limit:,} bytes")
    return raw


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for k, v in pairs:
        if k in d:
            raise InvalidRequest(f"field {k[:MAX_TEXT]!r} is given twice")
        d[k] = v
    return d


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise InvalidRequest(f"a number of {len(text.lstrip('-')):,} digits is out of range")
    return int(text)


def _json_constant(name: str) -> Any:
    raise InvalidRequest(f"{name} is not a JSON number")


def request_json(text: str | bytes, what: str = "request") -> dict[str, Any]:
    """Untrusted JSON text (or UTF-8 bytes) as a request object (not yet
    validated): at most MAX_REQUEST_BYTES, no duplicate keys, no number over
    MAX_DIGITS digits, no NaN or Infinity."""
    if isinstance(text, bytes):
        if len(text) > MAX_REQUEST_BYTES:
            raise InvalidRequest(f"{what} is larger than {MAX_REQUEST_BYTES:,} bytes")
        text = decode_text(text, what)
    elif len(text) > MAX_REQUEST_BYTES:
        raise InvalidRequest(f"{what} is larger than {MAX_REQUEST_BYTES:,} characters")
    if not text.strip():
        raise InvalidRequest(f"empty {what}")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_int=_json_int,
                          parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"request is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise InvalidRequest("request is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer with too many digits
        raise InvalidRequest(f"request is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("a request is a JSON object")
    return data


def parse_whole_number(text: str, what: str) -> int:
    """A whole number written as text (a flag, a CSV cell): ASCII digits only."""
    t = text.strip()
    digits = t[1:] if t.startswith("-") else t
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        raise InvalidRequest(f"{what}: {_shown(text)} is not a whole number")
    return int(t)


def parse_yes_no(text: str, what: str) -> bool:
    """A boolean written as text: true/false/yes/no, any case."""
    t = text.strip().lower()
    if t not in ("true", "false", "yes", "no"):
        raise InvalidRequest(f"{what}: {_shown(text)} is not yes or no")
    return t in ("true", "yes")


def _shown(value: str) -> str:
    """A value as an error message shows it: quoted, and cut if long."""
    return repr(value) if len(value) <= 60 else repr(value[:60]) + f"… ({len(value):,} characters)"


def check_untrusted(data: Any, where: str = "", depth: int = 0) -> None:
    """The limits every request value obeys, wherever it came from: strings
    of at most MAX_TEXT characters, in NFC, without control characters;
    lists of at most MAX_LIST items; at most MAX_DEPTH levels; numbers of at
    most MAX_DIGITS digits.  Raises InvalidRequest naming the field."""
    at = f"{where}: " if where else ""
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"{at}request is nested too deeply")
    if isinstance(data, str):
        if len(data) > MAX_TEXT:
            raise InvalidRequest(f"{at}a text of {len(data):,} characters is longer than the limit of {MAX_TEXT}")
        if data.isascii() and data.isprintable():
            return  # the common case, at C speed: no control character, and ASCII is NFC
        bad = next((c for c in data if unicodedata.category(c)[0] == "C"), None)
        if bad is not None:
            raise InvalidRequest(f"{at}{_shown(data)} contains the control character U+{ord(bad):04X}")
        if not unicodedata.is_normalized("NFC", data):
            raise InvalidRequest(f"{at}{_shown(data)} is not in Unicode NFC form")
    elif isinstance(data, bool) or data is None:
        pass
    elif isinstance(data, int):
        if abs(data) >= 10**MAX_DIGITS:
            raise InvalidRequest(f"{at}the number is out of range")
    elif isinstance(data, float):
        if data != data or data in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{at}the number is out of range")
    elif isinstance(data, dict):
        for k, v in data.items():
            if not isinstance(k, str):
                raise InvalidRequest(f"{at}field names are strings")
            check_untrusted(k, where, depth + 1)
            check_untrusted(v, f"{where}.{k}" if where else k, depth + 1)
    elif isinstance(data, (list, tuple)):
        if len(data) > MAX_LIST:
            raise InvalidRequest(f"{at}a list of {len(data):,} items is longer than the limit of {MAX_LIST}")
        for i, v in enumerate(data):
            check_untrusted(v, f"{where}.{i}" if where else str(i), depth + 1)


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date from untrusted text, or InvalidRequest."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidRequest(f"date: {_shown(text)} is not a date YYYY-MM-DD")


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
