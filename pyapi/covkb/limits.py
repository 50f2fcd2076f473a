"""Untrusted input: the limits every request obeys and the checks that
need no model, in one place, without pydantic.

Whatever a request came as (a JSON file, a batch line, a CSV cell, a
command-line flag) it is checked here: the limits below, bytes that must be
UTF-8 (``decode_text``), JSON without duplicate keys, deep nesting or huge
numbers (``request_json``), text read as a whole number or a yes/no
(``parse_whole_number``, ``parse_yes_no``), and every value of a request
(``check_untrusted``: string sizes, no control characters, NFC, list
lengths, nesting, number ranges).  Both readers of a request (the model in
``covkb.request``, the plain reader in ``covkb.untrusted``) build on it, and
give the engines a read request in one form (``engine_dict``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .errors import InvalidRequest


# What these checks read of a policy's request language (covkb.policy's
# RequestField and Vocabulary have it): named here, so that limits, which
# policy imports, imports nothing of policy's.
class DeclaredField(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    def engine_value(self, value: Any) -> Any: ...


class RequestLanguage(Protocol):
    @property
    def qualifiers(self) -> dict[str, str]: ...
    @property
    def fields(self) -> dict[str, Any]: ...

# CPT (five digits, or four and a letter) and HCPCS Level II (a letter and four digits)
CPT_RE = re.compile(r"^(?:[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$", re.ASCII)
ICD10_RE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$", re.ASCII)

# -- limits on untrusted input: the one place they are set --------------------
MAX_REQUEST_BYTES = 1 << 20  # a request's bytes: a request file, stdin, one batch line
MAX_TEXT = 256               # characters in any string of a request: ids, codes, dates, values
MAX_LIST = 200               # codes or findings in one request
MAX_DRAFT = 256 * 1024      # bytes of a draft (uploaded or kept in the workspace), and of its proposed wording
MAX_DEPTH = 8                # nesting of JSON objects and arrays in a request
MAX_DIGITS = 15              # digits in any number of a request (declared ranges are far smaller)

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")  # an id as a request or a draft writes it
COMMON_FIELDS = ("date_of_service", "service", "cpt", "findings", "unknown_findings", "absent_findings",
                 "unlisted_findings")
# The routing fields: which policy (an installed id, number or folder name) and which of its versions
# decide a request.  They choose the knowledge base, they are no fact of any policy (covkb.routing reads
# them; covkb determine, batch, Spark and the REST API all accept them in a request)
ROUTING_FIELDS = ("policy", "version")
# How a request reads a finding it does not list (unlisted_findings): unknown, the default, since a
# record's silence is not evidence; or absent (the closed reading, asked for explicitly)
UNLISTED_READINGS = ("unknown", "absent")
DEFAULT_UNLISTED = "unknown"
# the closed reading, as a request states it: what requests that enumerate every state of a finding
# (scenarios, diff, compare, check witnesses) say, so that a finding they do not list is absent
CLOSED_READING = {"unlisted_findings": "absent"}


def normal_icd10(code: str) -> str | None:
    """An ICD-10-CM code as covkb writes it (upper case, with its dot), or
    None when it is not one by shape."""
    m = ICD10_RE.match(code.strip().upper()) if code.isascii() else None
    return m.group(1) + (f".{m.group(2)}" if m.group(2) else "") if m else None


def normal_cpt(code: str) -> str | None:
    """A CPT or HCPCS code as covkb writes it, or None when it is not one."""
    w = code.strip().upper() if code.isascii() else code
    return w if CPT_RE.match(w) else None


def _plain_code(code: str) -> str | None:
    """A code of a system covkb has no rule for: ASCII and not blank, kept as given."""
    return code if code.isascii() and code.strip() else None


# How each code system's codes are read and written (generic: no policy's codes): its
# normaliser (None for a code that is not one) and what a code of it is, for errors.
CODE_SYSTEMS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "ICD-10-CM": (normal_icd10, "an ICD-10-CM code (e.g. E11.9)"),
}


def _closest(word: str, choices: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def field_names(vocabulary: RequestLanguage) -> list[str]:
    return [*COMMON_FIELDS, *sorted(vocabulary.qualifiers), *sorted(vocabulary.fields)]


def decode_text(raw: bytes, what: str = "request") -> str:
    """Untrusted bytes as text: UTF-8 only (a leading BOM is dropped), else
    InvalidRequest naming the first bad byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidRequest(f"{what} is UTF-16 text; covkb reads UTF-8 only")
    try:  # as raw.decode("utf-8-sig"), without its Python-level codec (one call per batch line)
        return (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw).decode("utf-8")
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


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_int=_json_int,
                            parse_constant=_json_constant)


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
    try:  # json.loads with these hooks, without making a decoder a call (a str BOM goes to json.loads' error)
        data = (_DECODER.decode(text) if not text.startswith("\ufeff") else
                json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_int=_json_int,
                           parse_constant=_json_constant))
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


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # the control characters (category C) of ASCII


def check_untrusted(data: Any, where: str = "", depth: int = 0) -> None:
    """The limits every request value obeys, wherever it came from: strings
    of at most MAX_TEXT characters, in NFC, without control characters;
    lists of at most MAX_LIST items; at most MAX_DEPTH levels; numbers of at
    most MAX_DIGITS digits.  Raises InvalidRequest naming the field."""
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"{_at(where)}request is nested too deeply")
    if isinstance(data, str):
        if len(data) > MAX_TEXT:
            raise InvalidRequest(f"{_at(where)}a text of {len(data):,} characters is longer than the limit of "
                                 f"{MAX_TEXT}")
        if data.isascii():  # most text: one scan, and ASCII is always NFC
            m = _ASCII_CONTROL.search(data)
            if m is not None:
                raise InvalidRequest(f"{_at(where)}{_shown(data)} contains the control character "
                                     f"U+{ord(m.group()):04X}")
            return
        bad = next((c for c in data if unicodedata.category(c)[0] == "C"), None)
        if bad is not None:
            raise InvalidRequest(f"{_at(where)}{_shown(data)} contains the control character U+{ord(bad):04X}")
        if not unicodedata.is_normalized("NFC", data):
            raise InvalidRequest(f"{_at(where)}{_shown(data)} is not in Unicode NFC form")
    elif isinstance(data, bool) or data is None:
        pass
    elif isinstance(data, int):
        if abs(data) >= 10**MAX_DIGITS:
            raise InvalidRequest(f"{_at(where)}the number is out of range")
    elif isinstance(data, float):
        if data != data or data in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{_at(where)}the number is out of range")
    elif isinstance(data, dict):
        for k, v in data.items():
            if not isinstance(k, str):
                raise InvalidRequest(f"{_at(where)}field names are strings")
            check_untrusted(k, where, depth + 1)
            check_untrusted(v, f"{where}.{k}" if where else k, depth + 1)
    elif isinstance(data, (list, tuple)):
        if len(data) > MAX_LIST:
            raise InvalidRequest(f"{_at(where)}a list of {len(data):,} items is longer than the limit of {MAX_LIST}")
        for i, v in enumerate(data):
            check_untrusted(v, f"{where}.{i}" if where else str(i), depth + 1)


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date from untrusted text, or InvalidRequest."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidRequest(f"date: {_shown(text)} is not a date YYYY-MM-DD")


def engine_dict(req: Any, fields: Iterable[DeclaredField], qualifiers: Iterable[str]) -> dict[str, Any]:
    """A request as the evaluators receive it (JSON-able, dates dropped).
    ``req.get(name)`` gives a field's value: a read request, or the fields
    of one as a dict (diff and compare build their requests so)."""
    values: dict[str, Any] = {}
    codes: dict[str, list[str]] = {}
    for f in fields:
        v = req.get(f.name)
        if f.kind == "code_list":
            if v:
                codes[f.name] = list(v)
        elif v is not None:
            values[f.name] = f.engine_value(v)
    return {
        "service": req.get("service"), "cpt": req.get("cpt"),
        "qualifiers": {q: req.get(q) for q in qualifiers if req.get(q) is not None},
        "values": values, "codes": codes,
        "findings": list(req.get("findings") or ()), "unknown_findings": list(req.get("unknown_findings") or ()),
        "absent_findings": list(req.get("absent_findings") or ()),
        "unlisted_findings": req.get("unlisted_findings") or DEFAULT_UNLISTED,
    }

