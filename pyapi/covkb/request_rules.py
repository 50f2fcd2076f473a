"""What a request may hold, declared once, without pydantic.

For every field a request may have (the fields every policy shares, the
fields a policy declares, by their kind, and its qualifiers) one rule: the
value it holds once read (codes normalised, lists without repeats), or a
``Refusal`` that words why not; and the checks on a request as a whole
(``check_whole``).  Both readers of a request are made from these rules:

- the plain reader (``covkb.untrusted``) applies them as they are, so that a
  new process deciding one request does not load pydantic;
- the pydantic model (``covkb.request``) runs each rule as its field's
  validator and ``check_whole`` as its model validator, and words every
  error; its field types (for the JSON schema) are the rules' own.

So the two readers accept the same requests, to the same values, by
construction.  The limits every value obeys first (sizes, text, nesting)
are ``covkb.limits.check_untrusted``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidRequest
from .limits import (CODE_SYSTEMS, COMMON_FIELDS, DEFAULT_UNLISTED, ID_RE, MAX_LIST, UNLISTED_READINGS, _closest,
                     _plain_code, normal_cpt, parse_date)

if TYPE_CHECKING:
    from .policy import RequestField, Vocabulary

# A field's rule: its value as given and the policy's vocabulary -> the value read, or Refusal.
Rule = Callable[[Any, "Vocabulary"], Any]


class Refusal(Exception):
    """Why a value is not one a request may hold: a code (the kind of error,
    ``unknown_id`` for an id the vocabulary does not know) and one line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def check_id(value: str, kind: str, known: Iterable[str] | None, near_to: Iterable[str] = ()) -> str:
    """An id as a request writes it, known to the vocabulary when known is
    given; a malformed one is told the id (of known, else of near_to) it likely means."""
    if not ID_RE.match(value):
        # an id written with dashes, spaces or capitals: the one it likely means
        near = _closest(re.sub(r"[\s-]+", "_", value.strip().lower()), sorted(known if known is not None else near_to))
        article = "an" if kind[:1] in "aeiou" else "a"
        raise Refusal("malformed_id", f"{value!r} is not {article} {kind} id{near or ' (ids are lower_snake_case)'}")
    if known is not None and value not in known:
        raise Refusal("unknown_id", f"unknown {kind} {value!r}{_closest(value, sorted(known))}")
    return value


def _text(value: Any) -> str:
    if type(value) is not str:
        raise Refusal("wrong_type", "must be a string")
    return value


def _listed(value: Any, what: str) -> list[Any] | tuple[Any, ...]:
    if type(value) not in (list, tuple):
        raise Refusal("wrong_type", f"must be a list of {what}")
    if len(value) > MAX_LIST:
        raise Refusal("too_long", f"a list of {len(value):,} items is longer than the limit of {MAX_LIST}")
    return value


# -- the fields every policy shares ------------------------------------------------------------------------

def _date(v: Any, vocabulary: Vocabulary) -> dt.date | None:
    if v is None or type(v) is dt.date:
        return v
    if type(v) is str:
        try:
            return parse_date(v)
        except InvalidRequest:
            raise Refusal("malformed_date", f"{v!r} is not a date YYYY-MM-DD") from None
    raise Refusal("malformed_date", "must be a date YYYY-MM-DD")


def _service(v: Any, vocabulary: Vocabulary) -> str | None:
    return None if v is None else check_id(_text(v), "service", vocabulary.services)


def _cpt(v: Any, vocabulary: Vocabulary) -> str | None:
    if v is None:
        return None
    w = normal_cpt(_text(v))
    if w is None:
        raise Refusal("malformed_code", f"{v!r} is not a CPT or HCPCS code (five characters, e.g. 99213)")
    return w


def _findings(v: Any, vocabulary: Vocabulary) -> tuple[str, ...]:
    known = vocabulary.findings
    return tuple(dict.fromkeys(check_id(_text(x), "finding", known) for x in _listed(v, "finding ids")))


def _unlisted(v: Any, vocabulary: Vocabulary) -> str:
    if v is None:
        return DEFAULT_UNLISTED
    if type(v) is not str or v not in UNLISTED_READINGS:
        raise Refusal("wrong_value", f"{v!r} is not one of {' or '.join(UNLISTED_READINGS)} (how a finding the "
                                     "request does not list is read)")
    return v


COMMON_RULES: dict[str, Rule] = {"date_of_service": _date, "service": _service, "cpt": _cpt,
                                 "findings": _findings, "unknown_findings": _findings,
                                 "absent_findings": _findings, "unlisted_findings": _unlisted}
assert tuple(COMMON_RULES) == COMMON_FIELDS
assert UNLISTED_READINGS == ("unknown", "absent")  # the Literal below
# each field's type once read, and its value when absent (the model's field types, for its schema)
COMMON_TYPES: dict[str, tuple[Any, Any]] = {
    "date_of_service": (dt.date | None, None), "service": (str | None, None), "cpt": (str | None, None),
    "findings": (tuple[str, ...], ()), "unknown_findings": (tuple[str, ...], ()),
    "absent_findings": (tuple[str, ...], ()), "unlisted_findings": (Literal["unknown", "absent"], DEFAULT_UNLISTED),
}


# -- the fields a policy declares, by kind, and its qualifiers ---------------------------------------------

def field_rule(f: RequestField) -> Rule:
    """The rule of a policy's request field, by its declared kind."""
    if f.kind == "boolean":
        def boolean(v: Any, vocabulary: Vocabulary) -> bool | None:
            if v is None or type(v) is bool:
                return v
            raise Refusal("wrong_type", "must be true or false")
        return boolean
    if f.kind == "choice":
        def choice(v: Any, vocabulary: Vocabulary) -> str | None:
            return None if v is None else check_id(_text(v), f.name, f.values)
        return choice
    if f.numeric:
        lo, hi = f.range

        def number(v: Any, vocabulary: Vocabulary) -> int | None:
            if v is None:
                return None
            if type(v) is not int:
                raise Refusal("wrong_type", "must be a whole number")
            if not lo <= v <= hi:
                raise Refusal("out_of_range", f"{v} is not from {lo} to {hi}")
            return v
        return number
    if f.kind == "code_list":
        norm, what = CODE_SYSTEMS.get(f.code_system or "", (_plain_code, "a code"))

        def codes(v: Any, vocabulary: Vocabulary) -> tuple[str, ...]:
            out = []
            for code in _listed(v, "codes"):
                if type(code) is not str:
                    raise Refusal("malformed_code", "codes are strings")
                c = norm(code)
                if c is None:
                    raise Refusal("malformed_code", f"{code!r} is not {what}")
                out.append(c)
            return tuple(dict.fromkeys(out))
        return codes
    raise InvalidRequest(f"request field {f.name} has an unknown kind {f.kind}")


def field_type(f: RequestField) -> tuple[Any, Any]:
    """The type of a policy's field once read, and its value when absent."""
    if f.kind == "code_list":
        return tuple[str, ...], ()
    return (bool if f.kind == "boolean" else int if f.numeric else str) | None, None


def qualifier_rule(q: str) -> Rule:
    # any id: a value no code names is allowed (the code then reports another service)
    def qualifier(v: Any, vocabulary: Vocabulary) -> str | None:
        return None if v is None else check_id(_text(v), q, None, vocabulary.qualifier_values.get(q, ()))
    return qualifier


# -- a request as a whole ------------------------------------------------------------------------------------

def declaration_error(fields: Iterable[RequestField], qualifiers: Iterable[str]) -> str | None:
    """Why a policy's declared fields cannot make a request language, or None."""
    names, quals = {f.name for f in fields}, set(qualifiers)
    clash = (names & quals) | ((names | quals) & set(COMMON_FIELDS))
    return f"request field {sorted(clash)[0]} is declared twice" if clash else None


def check_whole(get: Callable[[str], Any], vocabulary: Vocabulary) -> None:
    """What a request must be as a whole, its fields read (get gives one by name)."""
    if get("service") is None and get("cpt") is None:
        raise Refusal("missing_service", "a request needs a service or a cpt code")
    # the bounded fields only: out_of_bounds reads no other (a request is read once per batch line)
    clash = vocabulary.out_of_bounds({f: get(f) for bound in vocabulary.bounds for f in bound[:2]})
    if clash:
        raise Refusal("contradiction", clash)
    for a, b in (("findings", "unknown_findings"), ("findings", "absent_findings"),
                 ("unknown_findings", "absent_findings")):
        x, y = get(a), get(b)
        both = set(x) & set(y) if x and y else None
        if both:
            raise Refusal("contradiction", f"finding {sorted(both)[0]!r} is listed both as {_AS[a]} and as {_AS[b]}")
    absent = get("absent_findings")
    if absent:  # a finding stated absent rules out its more specific forms
        forms = vocabulary.finding_forms
        for key in ("findings", "unknown_findings"):
            for f in get(key):
                general = min((g for g in forms.above({f}) if g != f and g in absent), default=None)
                if general is not None:
                    raise Refusal("contradiction", f"finding {f!r} is listed as {_AS[key]} but its more general "
                                                   f"form {general!r} as absent")


_AS = {"findings": "present", "unknown_findings": "unknown", "absent_findings": "absent"}
