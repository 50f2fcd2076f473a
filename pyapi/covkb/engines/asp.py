"""clingo: kb/engine/evaluator.lp over one version.

The evaluator and a version's effective facts are grounded once per process
into one program whose request atoms are ``#external``; a request only
switches externals on (and the previous request's off) and enumerates the
answer sets, one per case.  Request values are looked up in the externals'
domains and never become program text.  This module turns each answer set
into a ``Case``, its derivation built from the answer set's trace atoms by
covkb.explain (as for evaluator.pl); aggregation, citations and error
wording are determination.py's and errors.py's, for both engines.

Besides ``AspEngine.cases`` it offers what only an ASP engine can:

* ``AspEngine.consequences(request)``: what holds in some case (brave) and
  in every case (cautious) of a request that leaves facts unknown, in two
  solver calls however many cases there are (``covkb diff``), and
  ``AspEngine.citations(request)``, the quotes every case cites;
* ``CheckProgram(data).witness(name, *args)``: a fully known request in
  whose answer set an atom of kb/engine/check.lp holds (``covkb check``).
"""

from __future__ import annotations

import operator
import threading
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import clingo

from ..derivation import EngineErrorData, contract, reported_error
from ..determination import Case, cited, walk
from ..errors import EngineError, KnowledgeBaseError
from ..explain import Explainer
from ..paths import kb_dir
from ..policy import VersionData

Symbol = clingo.Symbol
_JSON_CONSTANTS: dict[str, Any] = {"null": None, "true": True, "false": False}

# The request atoms of evaluator.lp: only these signatures are read at load
# (walking every atom of a large ground program costs more than grounding it).
_REQUEST_SIGNATURES = (
    ("req_service", 1), ("req_cpt", 1), ("req_qualifier", 2), ("req_value", 2), ("req_code", 2),
    ("req_finding", 1), ("req_unknown_finding", 1), ("req_absent_finding", 1), ("req_trace", 0),
)


@dataclass(frozen=True, slots=True)
class _Request:
    """request(...) in a derivation: a value of the request clingo never sees
    (an unlisted code, a qualifier value or a number), filled in by Python."""

    path: tuple[Any, ...]

    def lookup(self, request: dict[str, Any]) -> Any:
        match self.path:
            case ("cpt",):
                return request.get("cpt")
            case ("qualifier", q):
                return (request.get("qualifiers") or {}).get(q)
            case ("value", f):
                return (request.get("values") or {}).get(f)
        raise EngineError(f"the ASP evaluator shows an unknown request value {self.path}")


def _value(sym: Symbol) -> Any:
    """A term as Python data: numbers, strings and ids as themselves; null,
    true, false as JSON's; request(...) as a _Request; other compound terms as
    tuples (name first, none for a tuple)."""
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type != clingo.SymbolType.Function:
        return str(sym)
    args = tuple(_value(a) for a in sym.arguments)
    if not args:
        return _JSON_CONSTANTS.get(sym.name, sym.name)
    if sym.name == "request":
        return _Request(args)
    return args if sym.name == "" else (sym.name, *args)


def _fill(v: Any, request: dict[str, Any]) -> Any:
    return v.lookup(request) if isinstance(v, _Request) else v


def _fill_deep(v: Any, request: dict[str, Any]) -> Any:
    """v with every request(...) in it filled in (a trace atom's arguments)."""
    if isinstance(v, _Request):
        return v.lookup(request)
    if isinstance(v, tuple):
        return tuple(_fill_deep(x, request) for x in v)
    return v


def _order(sym: Symbol) -> tuple[Any, ...]:
    """A sort key that orders terms as clingo does: numbers, constants,
    strings, then compound terms by arity, name and arguments."""
    if sym.type == clingo.SymbolType.Number:
        return (0, sym.number)
    if sym.type == clingo.SymbolType.String:
        return (2, sym.string)
    if sym.type != clingo.SymbolType.Function:
        return (4, str(sym))
    args = sym.arguments
    if not args:
        return (1, sym.name)
    return (3, len(args), sym.name, *(_order(a) for a in args))


# The arguments of a shown atom that are positions among list items, kept
# as sort keys in clingo's order.
_POSITIONS = {"error_item": (2,)}

# The trace atoms that may show a request value as request(...).
_FILLED = frozenset(("settled", "service_other", "unlisted_code"))


def _decode(sym: Symbol) -> tuple[Any, ...]:
    """A shown atom as (name, *arguments): Python data, positions as sort keys."""
    pos = _POSITIONS.get(sym.name, ())
    return (sym.name, *(_order(a) if i in pos else _value(a) for i, a in enumerate(sym.arguments)))


# clingo interns symbols: equal symbols have the same representation, whose
# int is a cheaper dict key than the Symbol (hashed through cffi).  Where
# clingo's Python API keeps them (5.8), a model's symbols are read as these
# ints, without a Symbol object each; elsewhere Symbols are the keys.
_FAST = isinstance(getattr(clingo.Number(0), "_rep", None), int)
_identity: Callable[[Symbol], Any] = operator.attrgetter("_rep") if _FAST else (lambda s: s)


def _reps(symbols: Sequence[Symbol]) -> Iterable[int] | None:
    return getattr(symbols, "_p_symbols", None) if _FAST else None


class _Model:
    """The shown atoms of one answer set, sorted by kind."""

    __slots__ = ("assign", "outcome", "statement", "referral", "met", "trace", "errors", "args", "relevant",
                 "resolution")

    def __init__(self) -> None:
        self.assign: list[tuple[str, Any, int]] = []
        self.outcome: str | None = None
        self.statement: str | None = None
        self.referral: str | None = None
        self.met: list[str] = []
        self.trace: list[tuple[Any, ...]] = []  # the trace atoms, as _decode made them (name first)
        # each error that applies, by the term that names it: (code, key), its arguments
        self.errors: dict[Any, tuple[str, str]] = {}
        self.args: dict[Any, dict[str, Any]] = defaultdict(dict)
        self.relevant: set[str] = set()
        self.resolution: set[Any] = set()  # the errors of service resolution

    def read(self, atoms: Iterable[tuple[Any, ...]], request: dict[str, Any], traced: Container[str]) -> _Model:
        """Take in a model's shown atoms, as _decode made them (name first);
        traced: the names of the trace atoms (kb/derivation.pl, trace_atom/3)."""
        trace = self.trace
        arg_lists: dict[tuple[Any, str], list[tuple[Any, Any]]] = defaultdict(list)
        for t in atoms:
            name = t[0]
            if name in traced:
                trace.append(_fill_deep(t, request) if name in _FILLED else t)
            elif name == "assign":
                self.assign.append((t[1], t[2], t[3]))
            elif name == "outcome":
                self.outcome = t[1]
            elif name == "statement":
                self.statement = t[1]
            elif name == "referral":
                self.referral = t[1]
            elif name == "met":
                self.met.append(t[1])
            elif name == "relevant_finding":
                self.relevant.add(t[1])
            elif name == "resolution_error":
                self.resolution.add(t[1])
            elif name == "error":
                self.errors[t[3]] = (t[1], t[2])
            elif name == "error_arg":
                self.args[t[1]][t[2]] = _fill(t[3], request)
            elif name == "error_item":
                arg_lists[(t[1], t[2])].append((t[3], _fill_deep(t[4], request)))
        for (e, key), items in arg_lists.items():
            items.sort(key=_first)
            self.args[e][key] = [v for _, v in items]
        return self

    def error_data(self, explainer: Explainer, only: set[Any] | None = None) -> list[EngineErrorData]:
        """The errors of this case (or only those named in `only`), their
        arguments as the rest of covkb reads them (covkb.explain)."""
        return [(code, key, explainer.error_args(key, dict(self.args.get(e, {}))))
                for e, (code, key) in self.errors.items() if only is None or e in only]

    def case(self, build: Callable[..., dict[str, Any]]) -> Case:
        """The case, its proof built by covkb.explain (RequestTrace.proof or .digest)."""
        assign = tuple(sorted(self.assign, key=lambda t: (t[2], t[0])))
        outcome = self.outcome or ""
        return Case(
            assign=assign,
            outcome=outcome,
            statement=self.statement,
            criteria_met=tuple(sorted(self.met)),
            referral=self.referral,
            proof=build(outcome, assign, self.trace),
        )


_TRACE_ON = clingo.Function("req_trace")
_UNLISTED_ABSENT = clingo.Function("req_unlisted_absent")  # the closed reading of silence


def _first(t: tuple[Any, ...]) -> Any:
    return t[0]


@dataclass(frozen=True, slots=True)
class Consequences:
    """What a request's cases have in common (``AspEngine.consequences``).

    ``outcomes`` and ``variables`` hold in some case (brave); ``statement``
    and ``criteria_met`` in every case (cautious, computed only when every
    case has the same outcome).  ``error`` is the error the
    request gets instead of cases, as (code, key, args); ``error_certain``
    says every case fails (otherwise some do, and ``variables`` are the
    unknowns of all cases, to split on)."""

    outcomes: frozenset[str]
    statement: str | None
    criteria_met: frozenset[str]
    variables: tuple[tuple[int, str, tuple[Any, ...]], ...]  # (rank, var, values) still open
    error: tuple[str, str, dict[str, Any]] | None = None
    error_certain: bool = False

    @property
    def decided(self) -> bool:
        return len(self.outcomes) == 1 and self.error is None


def _open(values: dict[tuple[int, str], set[Any]]) -> tuple[tuple[int, str, tuple[Any, ...]], ...]:
    """The case variables and the values they take: (rank, var, values)."""
    return tuple((r, v, tuple(sorted(xs, key=str))) for (r, v), xs in sorted(values.items()))


class _Program:
    """A ground evaluator (evaluator.lp and a version's facts, plus any extra
    program), solved once per request by switching its externals."""

    def __init__(self, facts: str, *, extra: tuple[str, ...] = (), options: tuple[str, ...] = ("--models=0",),
                 what: str = "the ASP evaluator") -> None:
        messages: list[str] = []
        self.ctl = clingo.Control(list(options), logger=lambda _c, m: messages.append(m))
        try:
            for name in ("evaluator.lp", *extra):
                self.ctl.load(str(kb_dir() / "engine" / name))
            # The version's effective facts, as text written back from values
            # clingo's parser validated (facts.py): no file is loaded unread.
            self.ctl.add("base", [], facts)
            self.ctl.ground([("base", [])])
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise KnowledgeBaseError(f"cannot ground {what}: {detail}", code="kb_syntax") from exc
        self.domain: dict[tuple[str, tuple[Any, ...]], Symbol] = {}
        points: dict[str, list[int]] = defaultdict(list)
        atoms = self.ctl.symbolic_atoms
        for name, arity in _REQUEST_SIGNATURES:
            for sa in atoms.by_signature(name, arity):
                if sa.is_external:
                    s = sa.symbol
                    key = tuple(_value(a) for a in s.arguments)
                    self.domain[(name, key)] = s
                    if name == "req_value" and isinstance(key[1], int):
                        points[key[0]].append(key[1])
        # the numbers each count or measurement field is passed as
        self.points = {f: sorted(ps) for f, ps in points.items()}
        self.on: set[Symbol] = set()
        self.lock = threading.Lock()
        # shown atoms, decoded once per process: the ground program, hence
        # the set of atoms it can show, is fixed
        self.decoded: dict[Any, tuple[Any, ...]] = {}

    def decode(self, symbols: Sequence[Symbol]) -> list[tuple[Any, ...]]:
        cache = self.decoded
        reps = _reps(symbols)
        if reps is not None:
            # the model's symbols as their representations: no Symbol object
            # is made for an atom decoded before
            out = []
            for r in reps:
                d = cache.get(r)
                if d is None:
                    d = cache[r] = _decode(clingo.Symbol(r))  # type: ignore[no-untyped-call]
                out.append(d)
            return out
        key = _identity
        out = []
        for s in symbols:
            k = key(s)
            d = cache.get(k)
            if d is None:
                d = cache[k] = _decode(s)
            out.append(d)
        return out

    def externals(self, request: dict[str, Any], *, trace: bool) -> set[Symbol]:
        """The request (engine form, validated values) as the externals that are true."""
        dom = self.domain
        out: set[Symbol] = set()

        def need(name: str, *key: Any) -> None:
            sym = dom.get((name, key))
            if sym is None:
                raise EngineError(f"{name[4:]} {key[-1]!r} is not in the ASP evaluator's domain")
            out.add(sym)

        if request.get("service") is not None:
            need("req_service", request["service"])
        if request.get("cpt") is not None:
            sym = dom.get(("req_cpt", (request["cpt"],)))
            out.add(sym if sym is not None else dom[("req_cpt", (_Request(("cpt",)),))])
        for q, v in (request.get("qualifiers") or {}).items():
            sym = dom.get(("req_qualifier", (q, v)))
            if sym is None:
                sym = dom.get(("req_qualifier", (q, _Request(("qualifier", q)))))
            if sym is not None:  # a qualifier no code takes settles nothing
                out.add(sym)
        for f, v in (request.get("values") or {}).items():
            if isinstance(v, int) and not isinstance(v, bool):
                # a number is passed as the greatest point not above it (the
                # least when none is): the same side of every threshold
                ps = self.points.get(f)
                if ps:
                    i = bisect_right(ps, v)
                    out.add(dom[("req_value", (f, ps[i - 1] if i else ps[0]))])
            elif ("req_value", (f, v)) in dom:
                out.add(dom[("req_value", (f, v))])
            elif any(k[0] == "req_value" and k[1][0] == f for k in dom):
                raise EngineError(f"value {v!r} of {f} is not in the ASP evaluator's domain")
        for f, codes in (request.get("codes") or {}).items():
            # codes no listed_code_implies/4 fact names settle nothing
            out.update(s for c in codes if (s := dom.get(("req_code", (f, c)))) is not None)
        for f in request.get("findings") or ():
            need("req_finding", f)
        for f in request.get("unknown_findings") or ():
            need("req_unknown_finding", f)
        for f in request.get("absent_findings") or ():
            need("req_absent_finding", f)
        if request.get("unlisted_findings") == "absent":
            out.add(_UNLISTED_ABSENT)
        if trace:
            out.add(_TRACE_ON)
        return out

    def switch(self, on: set[Symbol]) -> None:
        """Make exactly `on` true (call with the lock held)."""
        for s in self.on - on:
            self.ctl.assign_external(s, False)
        for s in on - self.on:
            self.ctl.assign_external(s, True)
        self.on = on

    def models(self, request: dict[str, Any], *, trace: bool, limit: int = 0) -> list[_Model]:
        """The answer sets of a request (at most limit, 0: all), with their
        trace atoms if asked."""
        on = self.externals(request, trace=trace)
        traced = contract().trace
        with self.lock:
            self.switch(on)
            out: list[_Model] = []
            with self.ctl.solve(yield_=True) as handle:
                for m in handle:
                    out.append(_Model().read(self.decode(m.symbols(shown=True)), request, traced))
                    if limit and len(out) >= limit:
                        handle.cancel()
                        break
        return out

    def consequence(self, request: dict[str, Any], mode: str) -> Sequence[Symbol] | None:
        """The brave or cautious consequences of a request (None: no answer set)."""
        on = self.externals(request, trace=False)
        with self.lock:
            self.switch(on)
            self.ctl.configuration.solve.enum_mode = mode  # type: ignore[union-attr]
            try:
                last: Sequence[Symbol] | None = None
                with self.ctl.solve(yield_=True) as handle:
                    for m in handle:
                        last = m.symbols(shown=True)
            finally:
                self.ctl.configuration.solve.enum_mode = "auto"  # type: ignore[union-attr]
        return last


_programs: dict[str, _Program] = {}
_programs_lock = threading.Lock()


def _program(data: VersionData) -> _Program:
    """The ground evaluator of a fact set, made once per process."""
    with _programs_lock:
        if data.engine_text not in _programs:
            _programs[data.engine_text] = _Program(data.engine_text)
        return _programs[data.engine_text]


class AspEngine:
    name = "asp"

    def __init__(self, data: VersionData) -> None:
        self._program = _program(data)
        self._data = data

    @property
    def _explainer(self) -> Explainer:
        return Explainer.of(self._data)

    def cases(self, request: dict[str, Any]) -> list[Case]:
        """Every completion of the request's unknowns, with its derivation
        (built from its trace by covkb.explain); with "explain": false, a
        digest of it (what citations and notices are read from)."""
        models = self._traced(request)
        trace = self._explainer.request(models[0].trace)  # settled/3: the same in every answer set
        build = trace.proof if request.get("explain", True) is not False else trace.digest
        return [m.case(build) for m in models]

    def _traced(self, request: dict[str, Any]) -> list[_Model]:
        """The request's answer sets with their traces, or the error it gets."""
        models = self._program.models(request, trace=True)
        if not models:
            raise EngineError("the ASP evaluator found no case")
        errors = [e for m in models for e in m.error_data(self._explainer)]
        if errors:
            raise reported_error(errors)
        return models

    def citations(self, request: dict[str, Any]) -> frozenset[tuple[str, str]]:
        """The quotes every case of a request cites, with their sections
        (what the cautious consequences of a citation atom would be): each
        case's derivation built and read (determination.cited)."""
        cases = self.cases({**request, "explain": True})
        return frozenset.intersection(*(frozenset(cited(walk(c.proof))) for c in cases))

    def traces(self, request: dict[str, Any]) -> list[tuple[tuple[tuple[str, Any, int], ...], frozenset[Any]]]:
        """Each case's assignment and trace atoms: what its derivation is built from."""
        return [(tuple(sorted(m.assign, key=lambda t: (t[2], t[0]))), frozenset(m.trace)) for m in self._traced(request)]

    def relevant_findings(self, request: dict[str, Any]) -> frozenset[str]:
        """Findings that can change the answer for the request's service, code
        and qualifiers (the same in every case)."""
        models = self._program.models(request, trace=False, limit=1)
        if not models:
            raise EngineError("the ASP evaluator found no case")
        m = models[0]
        errors = m.error_data(self._explainer, m.resolution)
        if errors:
            raise reported_error(errors)
        return frozenset(m.relevant)

    def consequences(self, request: dict[str, Any]) -> Consequences:
        """Brave and cautious consequences of a request (engine form): the
        possible outcomes and the unknowns still open, and, when every case
        has the same outcome, the statement and criteria met of every case.
        An invalid request gives its error, not an exception."""
        brave = self._program.consequence(request, "brave")
        if brave is None:
            raise EngineError("the ASP evaluator found no case")
        open_: dict[tuple[int, str], set[Any]] = defaultdict(set)
        named = [(s.name, s) for s in brave]  # each symbol's name read once (a call into clingo)
        if any(n == "error" for n, _ in named):
            models = self._program.models(request, trace=False)
            errors = [e for m in models for e in m.error_data(self._explainer)]
            failed = sum(1 for m in models if m.errors)
            for m in models:
                for var, value, rank in m.assign:
                    open_[(rank, var)].add(value)
            return Consequences(frozenset(), None, frozenset(), _open(open_),
                                contract().reported(errors), failed == len(models))
        outcomes = frozenset(s.arguments[0].name for n, s in named if n == "outcome")
        for n, s in named:
            if n == "assign":
                a = s.arguments
                open_[(a[2].number, a[0].name)].add(_value(a[1]))
        variables = _open(open_)
        statement, met = None, frozenset[str]()
        if len(outcomes) == 1:
            cautious = [(s.name, s) for s in self._program.consequence(request, "cautious") or []]
            stmts = [s.arguments[0].name for n, s in cautious if n == "statement"]
            statement = stmts[0] if len(stmts) == 1 else None
            met = frozenset(s.arguments[0].name for n, s in cautious if n == "met")
        return Consequences(outcomes, statement, met, variables)

    def close(self) -> None:
        # The ground program lives as long as the process, like Prolog's modules.
        pass


class CheckProgram:
    """evaluator.lp with kb/engine/check.lp over one version, ground once: every
    answer set is one fully known request (a specific service, a value for
    every field, some findings and codes) with what the evaluator derives for
    it.  ``witness`` asks for a request in which an atom of check.lp holds."""

    def __init__(self, data: VersionData) -> None:
        self._program = _Program(data.engine_text, extra=("check.lp",), options=("--opt-mode=opt",),
                                 what="the checks")
        self._fields = data.vocabulary.fields

    def witness(self, name: str, *args: str) -> dict[str, Any] | None:
        """A request (in the user's field format) in whose answer set
        name(args) holds, listing as few findings and codes as it can; None
        when there is none."""
        ctl = self._program.ctl
        if not any(True for _ in ctl.symbolic_atoms.by_signature(name, len(args))):
            return None
        sym = clingo.Function(name, [clingo.Function(a) for a in args])
        found: list[Sequence[Symbol]] = []
        with self._program.lock:
            ctl.solve(assumptions=[(sym, True)], on_model=lambda m: found.append(m.symbols(shown=True)))
        return self._request(found[-1]) if found else None  # the last model is the optimal one

    def _request(self, symbols: Sequence[Symbol]) -> dict[str, Any]:
        req: dict[str, Any] = {}
        findings: list[str] = []
        codes: dict[str, list[str]] = defaultdict(list)
        for s in symbols:
            a = [_value(x) for x in s.arguments]
            if s.name == "req_service":
                req["service"] = a[0]
            elif s.name == "req_value":
                f = self._fields.get(a[0])
                req[a[0]] = f.request_value(a[1]) if f is not None else a[1]
            elif s.name == "req_code":
                codes[a[0]].append(a[1])
            elif s.name == "req_finding":
                findings.append(a[0])
        req.update({f: sorted(cs) for f, cs in sorted(codes.items())})
        req["findings"] = sorted(findings)
        req["unlisted_findings"] = "absent"  # check.lp's requests are fully known
        return req
