"""A request as a page's query string, and back: the URL is the request.

The parameter names are the request's own field names (``service``, ``cpt``,
``date_of_service``, ``finding``, ``unknown_finding`` and ``absent_finding``
repeated, ``unlisted_findings``, then every
field and qualifier the policy declares), so a shared link reads like the
request JSON.  Values stay strings and numbers: the engine worker validates
the request against the vocabulary as it validates every other request.

The form states each finding as one of three choices, present, absent or
not stated (``finding.ID`` = ``present`` | ``absent`` | blank): present is
listed in ``findings``, absent in ``absent_findings``, and a finding not
stated is left out, read as unknown (``unlisted_findings`` "unknown"): a
record's silence is not evidence.  The page answers a form at the address
of the request it states (``finding=ID``, ``absent_finding=ID``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from ..errors import InvalidRequest
from ..limits import COMMON_FIELDS
from ..policy import Vocabulary

# What a page's query string holds besides the request.
PAGE_PARAMS = ("policy", "version", "engine")
_LISTS = {"finding": "findings", "unknown_finding": "unknown_findings", "absent_finding": "absent_findings"}
_SHARED = ("date_of_service", "service", "cpt", "unlisted_findings")
_CODES_SPLIT = re.compile(r"[\s,;]+")

# The form's choice of one finding: finding.ID = present | absent (blank: not stated)
FINDING_CHOICE = "finding."
_CHOICES = {"present": "findings", "absent": "absent_findings"}
FINDING_LISTS = ("findings", "absent_findings", "unknown_findings")
# Whether requests say how unlisted findings read (the request fields of issue 21 item 2); until they do, a
# request lists the findings it does not know (unknown_findings) and every other unlisted finding is absent.
SILENCE = "absent_findings" in COMMON_FIELDS


def request_from_query(params: Iterable[tuple[str, str]], vocab: Vocabulary, *, lenient: bool = False) -> dict[str, Any]:
    """The request a page's query string states; blank values state nothing.

    Raises InvalidRequest for a parameter no field of the policy has, or a
    value its field cannot take.  ``lenient`` reads what it can instead
    (to fill the form in again after an error): unknown parameters and
    unreadable values are dropped, numbers stay text."""
    out: dict[str, Any] = {}
    for key, raw in params:
        value = raw.strip()[:200] if lenient else raw.strip()
        if key in PAGE_PARAMS or not value:
            continue
        if key.startswith(FINDING_CHOICE):
            _choose(out, key[len(FINDING_CHOICE):], value, vocab, lenient)
        elif key in _LISTS:
            out.setdefault(_LISTS[key], []).append(value)
        elif key in _SHARED or key in vocab.qualifiers:
            out[key] = value
        elif key in vocab.fields:
            f = vocab.fields[key]
            if f.kind == "boolean":
                if value in ("yes", "no"):
                    out[key] = value == "yes"
                elif not lenient:
                    raise InvalidRequest(f"{f.label}: {value!r} is not yes or no")
            elif f.numeric and not lenient:
                out[key] = f.parse_text(value, f.label)
            elif f.kind == "code_list":
                out.setdefault(key, []).extend(c for c in _CODES_SPLIT.split(value) if c)
            else:
                out[key] = value
        elif not lenient:
            raise InvalidRequest(f"unknown field {key[:60]!r} in the page address")
    return out


def _choose(out: dict[str, Any], finding: str, choice: str, vocab: Vocabulary, lenient: bool) -> None:
    """The form's choice for one finding, as the request states it."""
    if finding not in vocab.findings or choice not in _CHOICES:
        if lenient:
            return
        raise InvalidRequest(f"finding {finding[:60]!r}: {choice[:20]!r} is not present or absent"
                             if finding in vocab.findings else f"unknown finding {finding[:60]!r} in the page address")
    if SILENCE:
        out.setdefault(_CHOICES[choice], []).append(finding)
    elif choice == "present":  # before item 2: absent is what an unlisted finding already means
        out.setdefault("findings", []).append(finding)


def form_request(params: Iterable[tuple[str, str]], vocab: Vocabulary, findings: Iterable[str], *,
                 lenient: bool = False) -> dict[str, Any]:
    """The request a sent form states.  Every finding the form asked
    (``findings``) and left not stated is unknown: said by
    ``unlisted_findings`` "unknown", or, before requests could say it,
    listed in ``unknown_findings``.  ``lenient`` as for request_from_query."""
    params = list(params)
    out = request_from_query(params, vocab, lenient=lenient)
    if SILENCE:
        out.setdefault("unlisted_findings", "unknown")
    else:
        stated = {k[len(FINDING_CHOICE):] for k, v in params if k.startswith(FINDING_CHOICE) and v.strip() in _CHOICES}
        stated |= set(out.get("findings", ())) | set(out.get("unknown_findings", ()))
        unknown = [f for f in findings if f not in stated]
        if unknown:
            out["unknown_findings"] = list(dict.fromkeys([*out.get("unknown_findings", ()), *unknown]))
    return out


def is_form(params: Iterable[tuple[str, str]]) -> bool:
    """The query string is a sent form's (a finding's choice), not a request's address."""
    return any(k.startswith(FINDING_CHOICE) for k, _ in params)


def finding_choice(request: dict[str, Any], finding: str) -> str:
    """present | absent | "" (not stated): a finding as the request states it,
    for the form's choice.  A request with nothing in it states nothing."""
    if finding in request.get("findings", ()):
        return "present"
    if finding in request.get("absent_findings", ()):
        return "absent"
    if finding in request.get("unknown_findings", ()) or not request:
        return ""
    unlisted = request.get("unlisted_findings", "unknown" if SILENCE else "absent")
    return "absent" if unlisted == "absent" else ""


def query_from_request(request: dict[str, Any]) -> list[tuple[str, str]]:
    """The query string of a request (the inverse of ``request_from_query``)."""
    out: list[tuple[str, str]] = []
    for key, value in request.items():
        if key in ("findings", "unknown_findings", "absent_findings"):
            out += [(key[:-1], str(v)) for v in value]
        elif isinstance(value, bool):
            out.append((key, "yes" if value else "no"))
        elif isinstance(value, (list, tuple)):
            out += [(key, str(v)) for v in value]
        elif value is not None:
            out.append((key, str(value)))
    return out


def answered(request: dict[str, Any], clears: Iterable[str], settles: dict[str, Any]) -> dict[str, Any]:
    """The request with one unknown answered: the findings it settles no
    longer marked unknown (``clears``), and the fields that state the
    answer (``settles``, from ``VersionData.realize``) set."""
    out = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in request.items()}
    gone = set(clears)
    if gone & set(out.get("unknown_findings", ())):
        out["unknown_findings"] = [f for f in out["unknown_findings"] if f not in gone]
    for key, value in settles.items():
        if isinstance(value, list):
            if key in FINDING_LISTS:  # a finding stated one way is no longer stated another
                for other in FINDING_LISTS:
                    if other != key and other in out:
                        out[other] = [f for f in out[other] if f not in value]
            out[key] = list(dict.fromkeys([*out.get(key, []), *value]))
        else:
            out[key] = value
    return {k: v for k, v in out.items() if v not in ([], None)}


def determine_href(policy: str, request: dict[str, Any], version: str | None = None, engine: str | None = None,
                   path: str = "/determine") -> str:
    """The Determine page's address of a request (policy by its number)."""
    params = [("policy", policy)] + query_from_request(request)
    if version:
        params.append(("version", version))
    if engine and engine != "prolog":
        params.append(("engine", engine))
    return f"{path}?{urlencode(params)}"
