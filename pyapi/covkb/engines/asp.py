"""clingo: kb/engine/evaluator.lp over one version.

The evaluator and a version's effective facts are grounded once per process
into one program whose request atoms are ``#external``; a request only switches
externals on (and the previous request's off) and enumerates the answer
sets, one per case.  Request values are looked up in the externals' domains
and never become program text.  This module assembles what the program
derived into the dict evaluator.pl returns: each case's explanation tree from
node/attr/list/item/edge atoms, and the three-valued aggregation over the
cases (an outcome when every case agrees; else the possible outcomes and the
unknowns on which the outcome depends).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import clingo

from ..errors import EngineError, KnowledgeBaseError, from_engine
from ..paths import kb_dir
from ..policy import VersionData
from ..request import MAX_LOSSES

Symbol = clingo.Symbol
_JSON_CONSTANTS: dict[str, Any] = {"null": None, "true": True, "false": False}


class _Context:
    """Functions the evaluator calls while it is grounded (never per request)."""

    def contains(self, text: Symbol, part: Symbol) -> Symbol:
        return clingo.Number(int(part.string in text.string))


@dataclass
class _Case:
    """One answer set: a completion of the unknowns and what it decides."""

    assign: list[tuple[Any, str, Any, Any]] = field(default_factory=list)  # order, var, value, value order
    outcome: str = ""
    statement: str | None = None
    referral: str | None = None
    met: set[str] = field(default_factory=set)
    cites: set[tuple[str, str]] = field(default_factory=set)
    error: tuple[str, str] | None = None
    resolution_error: bool = False  # the error is that the request names no service
    relevant: set[str] = field(default_factory=set)
    proof: dict[str, Any] | None = None

    def key(self) -> tuple[Any, ...]:
        return tuple(vo for _, _, _, vo in self.assign)

    def values(self) -> dict[str, Any]:
        return {var: value for _, var, value, _ in self.assign}


_REQUEST_SIGNATURES = (
    ("req_service", 1), ("req_cpt", 1), ("req_qualifier", 2), ("req_pregnant", 1), ("req_losses", 1),
    ("req_diagnosis", 1), ("req_finding", 1), ("req_unknown_finding", 1), ("req_explain", 0),
)


class _Program:
    """The ground evaluator for one version, solved once per request."""

    def __init__(self, facts: str) -> None:
        messages: list[str] = []
        self.ctl = clingo.Control(
            ["--models=0", "-c", f"max_losses={MAX_LOSSES}"], logger=lambda _c, m: messages.append(m)
        )
        try:
            self.ctl.load(str(kb_dir() / "engine" / "evaluator.lp"))
            # The version's effective facts, as text written back from values
            # clingo's parser validated (facts.py): no file is loaded unread.
            self.ctl.add("base", [], facts)
            self.ctl.ground([("base", [])], context=_Context())
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise KnowledgeBaseError(f"cannot ground the ASP evaluator: {detail}", code="kb_syntax") from exc
        self.domain: dict[tuple[str, tuple[Any, ...]], Symbol] = {}
        self.templates: dict[str, str] = {}
        # Only the request signatures are read: walking every atom of a large
        # ground program costs more than grounding it.
        atoms = self.ctl.symbolic_atoms
        for name, arity in _REQUEST_SIGNATURES:
            for sa in atoms.by_signature(name, arity):
                if sa.is_external:
                    s = sa.symbol
                    self.domain[(s.name, tuple(_value(a) for a in s.arguments))] = s
        for sa in atoms.by_signature("message", 2):
            s = sa.symbol
            self.templates[s.arguments[0].name] = s.arguments[1].string
        self.qualifiers = sorted({k[1][0] for k in self.domain if k[0] == "req_qualifier"})
        self.on: list[Symbol] = []
        self.decoded: dict[Symbol, tuple[str, tuple[Any, ...]]] = {}
        self.lock = threading.Lock()

    def externals(self, request: dict[str, Any]) -> list[Symbol]:
        """The request as the externals that are true (validated values only)."""
        wanted: list[tuple[str, tuple[Any, ...]]] = []
        sentinels: list[tuple[tuple[str, tuple[Any, ...]], tuple[str, tuple[Any, ...]]]] = []
        if request.get("service") is not None:
            wanted.append(("req_service", (request["service"],)))
        if request.get("cpt") is not None:
            sentinels.append((("req_cpt", (request["cpt"],)), ("req_cpt", ("unlisted",))))
        for q in self.qualifiers:
            if request.get(q) is not None:
                sentinels.append((("req_qualifier", (q, request[q])), ("req_qualifier", (q, "other"))))
        if request.get("pregnant") is not None:
            wanted.append(("req_pregnant", ("yes" if request["pregnant"] else "no",)))
        if request.get("prior_pregnancy_losses") is not None:
            wanted.append(("req_losses", (request["prior_pregnancy_losses"],)))
        wanted += [("req_finding", (f,)) for f in request.get("findings") or ()]
        wanted += [("req_unknown_finding", (f,)) for f in request.get("unknown_findings") or ()]
        if request.get("explain", True) is not False:
            wanted.append(("req_explain", ()))
        out = [self.domain[k] for k, other in sentinels if k in self.domain]
        out += [self.domain[other] for k, other in sentinels if k not in self.domain]
        # Only diagnoses that record recurrent pregnancy loss are in the domain.
        out += [self.domain[k] for d in request.get("diagnoses") or () if (k := ("req_diagnosis", (d,))) in self.domain]
        for k in wanted:
            if k not in self.domain:
                raise EngineError(f"{k[0][4:]} {k[1][0]!r} is not in the ASP evaluator's domain")
            out.append(self.domain[k])
        return out

    def cases(self, request: dict[str, Any]) -> list[_Case]:
        on = self.externals(request)
        with self.lock:
            now, new = set(self.on), set(on)  # the previous request's externals go False
            for s in now - new:
                self.ctl.assign_external(s, False)
            for s in new - now:
                self.ctl.assign_external(s, True)
            self.on = on
            with self.ctl.solve(yield_=True) as handle:
                shown = [[self.decode(s) for s in m.symbols(shown=True)] for m in handle]
        return sorted((self.case(atoms, request) for atoms in shown), key=_Case.key)

    def decode(self, sym: Symbol) -> tuple[str, tuple[Any, ...]]:
        """A shown atom as (name, Python arguments), decoded once per process:
        the ground program, hence the set of atoms it can show, is fixed."""
        atom = self.decoded.get(sym)
        if atom is None:
            atom = self.decoded[sym] = (sym.name, tuple(_value(a) for a in sym.arguments))
        return atom

    def case(self, atoms: list[tuple[str, tuple[Any, ...]]], request: dict[str, Any]) -> _Case:
        c = _Case()
        kinds: dict[Any, str] = {}
        attrs: dict[Any, dict[str, Any]] = defaultdict(dict)
        lists: dict[Any, dict[str, list[tuple[Any, Any]]]] = defaultdict(dict)
        edges: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
        error_key, error_code = None, ""
        args: dict[int, list[Any]] = defaultdict(list)
        for name, a in atoms:
            match name:
                case "assign":
                    c.assign.append((a[0], a[1], _sub(a[2], request), a[3]))
                case "outcome" | "statement" | "referral":
                    setattr(c, name, a[0])
                case "met":
                    c.met.add(a[0])
                case "cites":
                    c.cites.add((a[0], a[1]))
                case "node":
                    kinds[a[0]] = a[1]
                case "attr":
                    attrs[a[0]][a[1]] = _sub(a[2], request)
                case "list":
                    lists[a[0]].setdefault(a[1], [])
                case "item":
                    lists[a[0]].setdefault(a[1], []).append((a[2], _sub(a[3], request)))
                case "edge":
                    edges[a[0]].append((a[1], a[2]))
                case "error":
                    error_code, error_key = a
                case "error_arg":
                    args[a[1]].append(_sub(a[2], request))
                case "resolution_error":
                    c.resolution_error = True
                case "relevant_finding":
                    c.relevant.add(a[0])
        c.assign.sort(key=lambda t: t[0])
        if error_key is not None:
            c.error = (error_code, _format(self.templates[error_key], args))
            return c

        def build(n: Any) -> dict[str, Any]:
            d: dict[str, Any] = {"kind": kinds[n], **attrs[n]}
            for key, items in lists[n].items():
                d[key] = [v for _, v in sorted(items, key=lambda t: t[0])]
            d["children"] = [build(ch) for _, ch in sorted(edges[n], key=lambda t: t[0])]
            return d

        c.proof = build("outcome") if "outcome" in kinds else None
        return c


@dataclass(frozen=True, slots=True)
class _Field:
    """request(Field): the request's own value of Field, which clingo never sees."""

    name: str


@dataclass(frozen=True, slots=True)
class _List:
    """list(X): X is one item of a list argument of an error message."""

    item: Any


def _value(sym: Symbol) -> Any:
    """A term as Python data: numbers, strings and ids as themselves; null, true,
    false as JSON's; tuples and other compound terms as tuples (name first)."""
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.String:
        return sym.string
    args = tuple(_value(a) for a in sym.arguments)
    if not args:
        return _JSON_CONSTANTS.get(sym.name, sym.name)
    if sym.name == "request" and len(args) == 1:
        return _Field(args[0])
    if sym.name == "list" and len(args) == 1:
        return _List(args[0])
    return args if sym.name == "" else (sym.name, *args)


def _sub(v: Any, request: dict[str, Any]) -> Any:
    if isinstance(v, _Field):
        return request[v.name]
    if isinstance(v, _List):
        return _List(_sub(v.item, request))
    return v


def _format(template: str, args: dict[int, list[Any]]) -> str:
    """Fill the ~w of an evaluator message in order, as Prolog's format/2 would;
    an argument given as list(X) items prints as a Prolog list."""
    shown = []
    for i in sorted(args):
        vals = args[i]
        if all(isinstance(v, _List) for v in vals):
            shown.append("[" + ",".join(sorted(str(v.item) for v in vals)) + "]")
        else:
            shown.append(str(vals[0]))
    parts = template.split("~w")
    return parts[0] + "".join(a + p for a, p in zip(shown, parts[1:]))


def _aggregate(cases: list[_Case], explain: bool) -> dict[str, Any]:
    """aggregate_cases/3 of evaluator.pl over the answer sets (without the
    explanation when not asked to explain)."""
    outcomes = sorted({c.outcome for c in cases})
    statements = {c.statement for c in cases}
    referrals = {c.referral for c in cases}
    statement = statements.pop() if len(statements) == 1 else None
    if len(outcomes) == 1:
        outcome, missing, possible = outcomes[0], [], []
    else:
        outcome, possible = "insufficient_information", outcomes
        missing = [var for _, var, _, _ in cases[0].assign if _essential(var, cases)]
    answer: dict[str, Any] = {
        "outcome": outcome,
        "statement": statement,
        "criteria_met": sorted(set.intersection(*(c.met for c in cases))),
        "missing": missing,
        "possible_outcomes": possible,
        "referral": referrals.pop() if len(referrals) == 1 else None,
        "citations": [{"section": s, "quote": q} for s, q in sorted(set().union(*(c.cites for c in cases)))],
    }
    if explain:
        if len(cases) == 1 and not cases[0].assign:
            children = [cases[0].proof]
        else:
            children = [
                {"kind": "case", "assume": [{"fact": v, "value": x} for _, v, x, _ in c.assign],
                 "outcome": c.outcome, "statement": c.statement, "children": [c.proof]}
                for c in cases
            ]
        answer["explanation"] = {"kind": "determination", "outcome": outcome, "statement": statement,
                                 "children": children}
    return answer


def _essential(var: str, cases: list[_Case]) -> bool:
    """Two cases that differ only in var have different outcomes."""
    seen: dict[tuple[tuple[str, Any], ...], set[str | None]] = defaultdict(set)
    for c in cases:
        seen[tuple((k, x) for k, x in c.values().items() if k != var)].add(c.outcome)
    return any(len(os) > 1 for os in seen.values())


_programs: dict[str, _Program] = {}


class AspEngine:
    name = "asp"

    def __init__(self, data: VersionData) -> None:
        if data.fact_text not in _programs:
            _programs[data.fact_text] = _Program(data.fact_text)
        self.program = _programs[data.fact_text]

    def evaluate(self, request: dict[str, Any]) -> dict[str, Any]:
        cases = self.program.cases(request)
        if not cases:
            raise EngineError("the ASP evaluator found no determination")
        for c in cases:
            if c.error is not None:
                raise from_engine(*c.error)
        return _aggregate(cases, explain=request.get("explain", True) is not False)

    def relevant_findings(self, request: dict[str, Any]) -> frozenset[str]:
        """Findings that can change the answer for the request's service, code
        and qualifiers (the same in every case)."""
        cases = self.program.cases({**request, "explain": False})
        if not cases:
            raise EngineError("the ASP evaluator found no determination")
        if cases[0].resolution_error and cases[0].error is not None:
            raise from_engine(*cases[0].error)
        return frozenset(cases[0].relevant)

    def close(self) -> None:
        # The ground program lives as long as the process, like Prolog's modules.
        pass
