"""FHIR R4 records as covkb requests, by the facts of kb/vocabularies/*_fhir.pl.

A draft order (ServiceRequest) and the patient's record (CDS Hooks
prefetch) become one covkb request.  What each code means is data in kb/
(``fhir_code_means/5``, ``fhir_observation/4``, ...; see kb/schema.pl), read
with the same fact reader as the policies; this module only walks the
resources and applies those facts.  It names no policy's terms.

A record's silence is not evidence: a finding the record states present goes
into ``findings``, one it states absent (refuted) into ``absent_findings``,
and every other is unknown by the request's own rule (``unlisted_findings``:
unknown); a field it does not state is left out (so unknown); a count known only by a bound is set only where the bound settles
every threshold the policy puts on it.

Resources are validated with fhir.resources' R4B models (the closest to R4
it ships; CRD is R4 4.0.1 and the resources read here did not change
between them).  The answer is built from the resource as it was sent, not
from the model, so nothing but the added extension changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from ..errors import InvalidRequest, KnowledgeBaseError
from ..facts import atom, read_facts
from ..policy import NUMBER_RANGE, Policy, VersionData

# the CDS Hooks prefetch keys a CRD request always needs (besides the
# policy's own templates)
COVERAGE_KEY = "coverage"


class InvalidFhir(InvalidRequest):
    """A resource that is not valid FHIR (answered 400 with an OperationOutcome)."""

    code = "invalid_fhir"


class OverLimit(InvalidRequest):
    """A call whose work would be out of proportion: more draft orders,
    resources in one Bundle or levels of nesting than the service takes
    (answered 422, the message naming the bound)."""

    code = "over_limit"


# Work in proportion to a CDS call is bounded before it starts, so that no
# admitted call holds a server process for long (a real order-sign names a
# few orders; a record's searchset a few hundred resources; FHIR resources
# nest about a dozen levels).
MAX_ORDERS = 100          # draft orders in one call
MAX_ENTRIES = 1000        # resources in one Bundle
MAX_FHIR_DEPTH = 40       # levels of JSON objects and arrays in a call or a resource read


def read_json(body: bytes, what: str) -> Any:
    """A FHIR call's body as JSON, or one line saying why not (too deep, or not JSON)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise OverLimit(f"{what} nests more than {MAX_FHIR_DEPTH} levels deep (the limit)") from None
    except ValueError as exc:
        raise InvalidFhir(f"{what} is not JSON: {exc}".splitlines()[0]) from None


def check_depth(data: Any, where: str) -> None:
    """OverLimit when data nests deeper than MAX_FHIR_DEPTH (walked with a
    stack, never by recursion)."""
    stack = [(data, 1)]
    while stack:
        v, depth = stack.pop()
        items = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if items is None:
            continue
        if depth > MAX_FHIR_DEPTH:
            raise OverLimit(f"{where} nests more than {MAX_FHIR_DEPTH} levels deep (the limit)")
        stack.extend((c, depth + 1) for c in items if isinstance(c, (dict, list)))


def check_entries(bundle: dict[str, Any], where: str, limit: int = MAX_ENTRIES, what: str = "resources") -> None:
    entries = bundle.get("entry")
    if isinstance(entries, list) and len(entries) > limit:
        raise OverLimit(f"{where} holds {len(entries):,} {what}; a call takes at most {limit:,}")


class PrefetchMissing(InvalidRequest):
    """Required prefetch absent, and no FHIR server to fetch it from (412)."""

    code = "prefetch_missing"


@dataclass
class FhirMapping:
    """The facts of a policy's *_fhir.pl files, indexed."""

    systems: dict[str, str] = field(default_factory=dict)                       # name -> uri
    labels: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (uri, code) -> (display, source)
    order_codes: dict[str, str] = field(default_factory=dict)                   # uri -> request field
    code_lists: dict[tuple[str, str], str] = field(default_factory=dict)        # (resource, uri) -> field
    code_means: dict[tuple[str, str, str], list[tuple[str, str]]] = field(default_factory=dict)
    observations: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    answers: dict[tuple[str, str, str], str] = field(default_factory=dict)
    prefetch: dict[str, tuple[str, str]] = field(default_factory=dict)          # key -> (resource, query)
    files: tuple[Path, ...] = ()

    def label(self, uri: str, code: str) -> str:
        return self.labels.get((uri, _norm(code)), (code, ""))[0]


def _norm(code: str) -> str:
    return code.strip().upper()


_RESOURCES = {"servicerequest": "ServiceRequest", "condition": "Condition", "procedure": "Procedure", "observation": "Observation",
              "coverage": "Coverage", "patient": "Patient"}
_READINGS = ("coded", "exactly", "at_least", "at_most")


def mapping_files(policy: Policy) -> list[Path]:
    """kb/vocabularies/NAME_fhir.pl for each shared vocabulary, then the
    policy folder's own fhir.pl (each where it exists)."""
    files = [policy.root / "vocabularies" / f"{n}_fhir.pl" for n in policy.shared_vocabularies]
    files.append(policy.folder / "fhir.pl")
    return [f for f in files if f.is_file()]


def load_mapping(policy: Policy) -> FhirMapping:
    """Read and check a policy's FHIR mapping against its vocabulary."""
    files = mapping_files(policy)
    m = FhirMapping(files=tuple(files))
    if not files:
        return m
    facts = read_facts(files)
    rows = lambda n: [f.args for f in facts if f.name == n]  # noqa: E731
    m.systems = {atom(n): uri for n, uri in rows("fhir_system")}

    def uri(name: Any) -> str:
        n = atom(name)
        if n not in m.systems:
            raise KnowledgeBaseError(f"FHIR mapping: code system {n!r} has no fhir_system/2 fact")
        return m.systems[n]

    vocab = policy.data(policy.latest()).vocabulary
    fields = vocab.fields

    def check_value(fname: str, value: str) -> None:
        if fname == "service":
            if value not in vocab.services:
                raise KnowledgeBaseError(f"FHIR mapping: {value!r} is not a service of {policy.number}")
            return
        if fname == "findings":
            if value not in vocab.findings:
                raise KnowledgeBaseError(f"FHIR mapping: {value!r} is not a finding of {policy.number}")
            return
        f = fields.get(fname)
        if f is None:
            raise KnowledgeBaseError(f"FHIR mapping: {fname!r} is not a request field of {policy.number}")
        if f.states_fact and value not in (*f.values, "unknown"):
            raise KnowledgeBaseError(f"FHIR mapping: {value!r} is not a value of {fname}")

    for s, code, display, source in rows("fhir_code"):
        m.labels[(uri(s), _norm(code))] = (display, source)
    for s, fname in rows("fhir_order_code"):
        m.order_codes[uri(s)] = atom(fname)
    for res, s, fname in rows("fhir_code_list"):
        if fields.get(atom(fname)) is None or fields[atom(fname)].kind != "code_list":
            raise KnowledgeBaseError(f"FHIR mapping: {atom(fname)!r} is not a code-list field of {policy.number}")
        m.code_lists[(atom(res), uri(s))] = atom(fname)
    for res, s, code, fname, value in rows("fhir_code_means"):
        check_value(atom(fname), atom(value))
        m.code_means.setdefault((atom(res), uri(s), _norm(code)), []).append((atom(fname), atom(value)))
    for s, code, fname, reading in rows("fhir_observation"):
        if atom(reading) not in _READINGS:
            raise KnowledgeBaseError(f"FHIR mapping: reading {atom(reading)!r} is not one of {', '.join(_READINGS)}")
        if atom(fname) not in fields:
            raise KnowledgeBaseError(f"FHIR mapping: {atom(fname)!r} is not a request field of {policy.number}")
        m.observations.setdefault((uri(s), _norm(code)), []).append((atom(fname), atom(reading)))
    for s, obs, answer, value in rows("fhir_answer"):
        for fname, _r in m.observations.get((uri(s), _norm(obs)), []):
            check_value(fname, atom(value))
        m.answers[(uri(s), _norm(obs), _norm(answer))] = atom(value)
    for key, res, query in rows("fhir_prefetch"):
        if atom(res) not in _RESOURCES:
            raise KnowledgeBaseError(f"FHIR mapping: prefetch {atom(key)} reads an unknown resource {atom(res)!r}")
        m.prefetch[atom(key)] = (atom(res), query)
    return m


# -- parsing --------------------------------------------------------------------

def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


# Digests of the resources found valid lately.  Validity is a matter of a
# resource's content alone, and a record comes back: the order-select and
# then the order-sign of an order, the calls for each order of a visit, an
# empty searchset.  Validating costs about a quarter of a CRD call.
_valid: OrderedDict[bytes, None] = OrderedDict()
VALID_REMEMBERED = 4096


def _digest(raw: dict[str, Any]) -> bytes | None:
    try:
        text = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
        if b"null" in text:  # orjson writes NaN and Infinity as null too: json tells them apart
            text = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, TypeError, RecursionError):  # an integer beyond 64 bits: json writes it
        try:
            text = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
        except (ValueError, TypeError, RecursionError):
            return None
    return hashlib.sha256(text).digest()


def validate_resource(raw: Any, where: str, expect: str | None = None) -> None:
    """Validate one resource (a dict with resourceType) with fhir.resources;
    InvalidFhir with the first problem on one line."""
    if not isinstance(raw, dict) or not isinstance(raw.get("resourceType"), str):
        raise InvalidFhir(f"{where}: not a FHIR resource (no resourceType)")
    rtype = raw["resourceType"]
    if expect is not None and rtype != expect:
        raise InvalidFhir(f"{where}: expected a {expect}, found a {rtype}")
    key = _digest(raw)
    if key is not None and key in _valid:
        _valid.move_to_end(key)
        return
    if rtype != "Bundle":
        _validate_model(raw, rtype, where)
    elif not _valid_by_entry(raw):
        _validate_model(raw, rtype, where)
        for e in raw.get("entry") or []:  # valid, each of them: a later Bundle holding one validates the rest
            if isinstance(e, dict) and isinstance(e.get("resource"), dict):
                _remember(_digest(e["resource"]))
    _remember(key)


def validate_emitted(raw: dict[str, Any], where: str, expect: str | None = None) -> None:
    """A resource covkb wrote, validated with fhir.resources where the
    contract is checked (COVKB_CHECK_CONTRACT: the tests set it, and they
    exercise every path that emits one); at run time it is built as the
    tests found it valid, and not validated again (a PAS answer's
    validation cost a quarter of its time).  An invalid one is covkb's bug,
    never the caller's: a RuntimeError (a 500)."""
    from ..derivation import checking

    if not checking():
        return
    try:
        validate_resource(raw, where, expect)
    except InvalidFhir as err:
        raise RuntimeError(f"covkb wrote an invalid resource: {err.message}") from None


def validate_read(bundle: dict[str, Any], where: str, read: frozenset[str]) -> None:
    """A Bundle validated as far as covkb reads it: its envelope (the
    Bundle's and each entry's own elements) and every resource of a type in
    ``read``, each once (those found valid lately not again); a resource of
    another type (a Patient, a Coverage: carried, never read) only has to be
    an object with a resourceType.  Where a part is not valid the first
    problem is said in the words whole validation gives."""
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return _validate_model(bundle, "Bundle", where)
    try:
        _valid_envelope(bundle, entries)
        for e in entries:
            r = e.get("resource")
            if isinstance(r, dict) and r.get("resourceType") in read:
                validate_resource(r, "")
            elif r is not None and not (isinstance(r, dict) and isinstance(r.get("resourceType"), str)):
                raise InvalidFhir("not a FHIR resource (no resourceType)")
    except InvalidFhir as part:
        _validate_model(bundle, "Bundle", where)  # the words whole validation gives
        raise InvalidFhir(f"{where}: {part.message.lstrip(': ')}") from None


def _valid_envelope(bundle: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """A Bundle's own elements and each entry's, its resource left out (a
    tenth of validating the Bundle with a stand-in for each resource, which
    looks up a model class per entry); InvalidFhir where one is not valid."""
    from fhir.resources.R4B.bundle import BundleEntry

    _validate_model({k: v for k, v in bundle.items() if k != "entry"}, "Bundle", "")
    for e in entries:
        try:
            BundleEntry.model_validate({k: v for k, v in e.items() if k != "resource"})
        except (ValidationError, ValueError, TypeError):
            raise InvalidFhir("an entry is not valid") from None


def _validate_model(raw: dict[str, Any], rtype: str, where: str) -> None:
    try:
        model = _model(rtype)
    except (ValueError, AttributeError):
        raise InvalidFhir(f"{where}: {rtype!r} is not a FHIR resource type") from None
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InvalidFhir(f"{where}: {rtype}.{loc}: {err['msg']}" if loc else f"{where}: {err['msg']}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidFhir(f"{where}: {exc}".splitlines()[0]) from None


def _remember(key: bytes | None) -> None:
    if key is not None:
        _valid[key] = None
        if len(_valid) > VALID_REMEMBERED:
            _valid.popitem(last=False)


def _valid_by_entry(bundle: dict[str, Any]) -> bool:
    """A Bundle found valid a part at a time: its envelope (its own and each
    entry's elements), then each resource not found valid lately.  A
    PAS request or answer is new every time (its identifiers, its Claim)
    while its Patient, Coverage and record recur.  False where none of its
    resources was found valid lately, or a part is not valid: the whole
    Bundle is then validated (the first problem in the words whole
    validation gives)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return False
    keys = [_digest(e["resource"]) if isinstance(e.get("resource"), dict) else None for e in entries]
    if not any(k is not None and k in _valid for k in keys):
        return False  # nothing of it seen lately (a new patient's record): validated whole, in one pass
    try:
        _valid_envelope(bundle, entries)
        for e, key in zip(entries, keys):
            r = e.get("resource")
            if not isinstance(r, dict):
                continue
            if key is not None and key in _valid:
                _valid.move_to_end(key)
                continue
            if not isinstance(r.get("resourceType"), str):
                return False
            _validate_model(r, r["resourceType"], "")
            _remember(key)
    except InvalidFhir:
        return False
    return True


def resources_of(raw: Any, where: str, *, validated: bool = False) -> list[dict[str, Any]]:
    """The resources a prefetch value holds: a Bundle's entries, or one
    resource.  A Bundle is validated once, with every resource in it."""
    if raw is None:
        return []
    if not validated:
        if isinstance(raw, dict) and raw.get("resourceType") == "Bundle":
            check_entries(raw, where)
        validate_resource(raw, where)
    if raw["resourceType"] == "Bundle":
        return [e["resource"] for e in raw.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    return [raw]


# -- reading a record --------------------------------------------------------------

def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [(c.get("system") or "", _norm(c.get("code") or "")) for c in concept.get("coding") or []
            if isinstance(c, dict) and c.get("code")]


def _status_code(concept: Any) -> set[str]:
    return {code.lower() for _s, code in _codings(concept)}


def _stance(res: str, r: dict[str, Any]) -> str | None:
    """What a Condition or Procedure states: "present", "absent", or None
    (nothing: entered in error, unconfirmed, not done, not yet done).
    Uncertainty, like silence, is not evidence."""
    if res == "procedure":
        return "present" if r.get("status") == "completed" else None
    status = _status_code(r.get("verificationStatus"))
    if not status or "confirmed" in status:
        return "present"
    if "refuted" in status:
        return "absent"
    return None  # unconfirmed, provisional, differential, entered-in-error


def _observed(r: dict[str, Any]) -> bool:
    """An Observation whose value stands: final, amended or corrected."""
    return r.get("status") in ("final", "amended", "corrected")


def _when(r: dict[str, Any]) -> str:
    for k in ("effectiveDateTime", "issued"):
        if isinstance(r.get(k), str):
            return r[k]
    p = r.get("effectivePeriod")
    return p.get("start", "") if isinstance(p, dict) else ""


def _number(r: dict[str, Any]) -> int | None:
    if isinstance(r.get("valueInteger"), int):
        return r["valueInteger"]
    q = r.get("valueQuantity")
    if isinstance(q, dict) and isinstance(q.get("value"), (int, float)) and float(q["value"]).is_integer():
        return int(q["value"])
    return None


@dataclass
class Evidence:
    """What one resource of the record said, for the answer's reasons."""

    resource: str
    code: str
    display: str
    means: str

    def text(self) -> str:
        return f"{self.resource} {self.code} ({self.display}): {self.means}"

    def words(self, label: Callable[[str], str]) -> str:
        """What the resource said, for a person: the ids ``means`` names
        (written by record_request above) read through ``label``."""
        m = _MEANS.match(self.means)
        said = self.means if m is None else \
            f"{label(m['fact'])}: {m['state']}" if m["state"] else f"{label(m['fact'])} {m['op']} {label(m['value'])}{m['rest']}"
        return f"{self.display} ({self.resource}): {said}"


# how record_request writes an Evidence's means: "<finding> present", "<finding>
# absent (refuted)", "<field> = <value>[ (<answer>)]", "<field> ≥ <n>", "<field> ≤ <n>"
_MEANS = re.compile(r"^(?P<fact>\w+) (?:(?P<state>present|absent \(refuted\))|(?P<op>[=≥≤]) (?P<value>\S+)(?P<rest>.*))$")


def order_date(order: dict[str, Any]) -> str | None:
    """The date of service an order asks for: occurrence, else authoredOn."""
    for k in ("occurrenceDateTime", "authoredOn"):
        if isinstance(order.get(k), str) and len(order[k]) >= 10:
            return order[k][:10]
    p = order.get("occurrencePeriod")
    if isinstance(p, dict) and isinstance(p.get("start"), str) and len(p["start"]) >= 10:
        return p["start"][:10]
    return None


_derived: dict[int, tuple[VersionData, dict[str, set[int]]]] = {}


def _thresholds(data: VersionData) -> dict[str, set[int]]:
    """The thresholds on each numeric field, read once per version."""
    hit = _derived.get(id(data))
    if hit is None or hit[0] is not data:
        cuts: dict[str, set[int]] = {}
        for name in ("number_at_least", "number_below"):
            for r in data.rows(name):
                if isinstance(r[2], int):
                    cuts.setdefault(atom(r[1]), set()).add(r[2])
        hit = _derived[id(data)] = (data, cuts)
    return hit[1]


def _cuts(data: VersionData, fname: str) -> set[int]:
    """The thresholds the policy sets on a numeric field: a value v is on one
    side of cut c when v >= c, on the other when v < c."""
    return _thresholds(data).get(fname, set())


def settle_bound(data: VersionData, fname: str, lo: int, hi: int) -> int | None:
    """A value standing for every value in [lo, hi], or None when a
    threshold of the policy splits the interval (the count stays unknown)."""
    bottom, top = data.vocabulary.fields[fname].range
    lo, hi = max(lo, bottom), min(hi, top)
    cuts = _cuts(data, fname)
    if lo > hi or not cuts:  # no threshold: the count cannot matter to this policy
        return None
    if any(lo < c <= hi for c in cuts):
        return None
    return hi if hi < top else lo  # the bound the record states


def record_request(mapping: FhirMapping, data: VersionData, order: dict[str, Any],
                   record: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], list[Evidence]]:
    """The covkb request for one draft order over the patient's record
    (resources by type), and the evidence each part of it rests on."""
    vocab = data.vocabulary
    req: dict[str, Any] = {}
    evidence: list[Evidence] = []
    # the order's code
    for system, code in _codings(order.get("code")):
        fname = mapping.order_codes.get(system)
        if fname and fname not in req:
            req[fname] = code
    for system, code in _codings(order.get("code")):
        for fname, value in mapping.code_means.get(("servicerequest", system, code), []):
            req.setdefault(fname, value)
            evidence.append(Evidence("ServiceRequest", code, mapping.label(system, code), f"{fname} = {value}"))
    when = order_date(order)
    if when:
        req["date_of_service"] = when
    present: set[str] = set()
    absent: set[str] = set()
    lists: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for res in ("condition", "procedure"):
        for r in record.get(res, []):
            stance = _stance(res, r)
            if stance is None:
                continue
            refuted = stance == "absent"
            for system, code in _codings(r.get("code")):
                lf = mapping.code_lists.get((res, system))
                if lf and not refuted:
                    lists.setdefault(lf, []).append(code)
                for fname, value in mapping.code_means.get((res, system, code), []):
                    if fname == "findings":
                        (absent if refuted else present).add(value)
                        means = f"{value} {'absent (refuted)' if refuted else 'present'}"
                    elif not refuted:
                        values[fname] = value
                        means = f"{fname} = {value}"
                    else:
                        continue
                    evidence.append(Evidence(_RESOURCES[res], code, mapping.label(system, code), means))
    # observations: the latest of each code
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in record.get("observation", []):
        if not _observed(r):
            continue
        for system, code in _codings(r.get("code")):
            if (system, code) in mapping.observations and _when(r) >= _when(latest.get((system, code), {})):
                latest[(system, code)] = r
    bounds: dict[str, list[int]] = {}
    for (system, code), r in sorted(latest.items()):
        for fname, reading in mapping.observations[(system, code)]:
            label = mapping.label(system, code)
            if reading == "coded":
                for asys, acode in _codings(r.get("valueCodeableConcept")):
                    value = mapping.answers.get((system, code, acode))
                    if value is None or asys != system:
                        continue
                    evidence.append(Evidence("Observation", code, label, f"{fname} = {value} ({mapping.label(asys, acode)})"))
                    if value != "unknown":
                        values[fname] = value
                continue
            n = _number(r)
            if n is None or n < 0:
                continue
            lo, hi = bounds.setdefault(fname, list(NUMBER_RANGE))
            if reading == "exactly":
                lo, hi = max(lo, n), min(hi, n)
            elif reading == "at_least":
                lo = max(lo, n)
            else:
                hi = min(hi, n)
            bounds[fname] = [lo, hi]
            evidence.append(Evidence("Observation", code, label, f"{fname} {'=' if reading == 'exactly' else '≥' if reading == 'at_least' else '≤'} {n}"))
    for fname, (lo, hi) in sorted(bounds.items()):
        v = settle_bound(data, fname, lo, hi)
        if v is not None:
            req[fname] = v
    for fname, value in values.items():
        f = vocab.fields.get(fname)
        if f is not None:
            req[fname] = f.request_value(value)
    for fname, codes in lists.items():
        req[fname] = list(dict.fromkeys(codes))
    # findings: stated present, stated absent (refuted), or unknown: the record's silence, read by the
    # request's own rule (unlisted_findings: unknown)
    present -= absent
    implied = data.hierarchy.findings.above(present)
    req["findings"] = sorted(present)
    if absent - implied:
        req["absent_findings"] = sorted(absent - implied)
    req["unlisted_findings"] = "unknown"
    return req, evidence


def today() -> str:
    return dt.date.today().isoformat()
