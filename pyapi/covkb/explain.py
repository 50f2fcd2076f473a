"""The derivation tree, built once for both engines from their trace.

Each engine decides a request and returns, per case, a flat trace of what
it decided (the atoms kb/derivation.pl declares: ``trace_atom/3``,
``trace_source/2``): how each fact was settled, the case's service and how
the request names it, why the outcome, which statements it explains and
which of their requirements, criteria and groups hold.  ``Explainer``
turns a trace and the version's facts (quotes, sections, headings, notes,
interpretations, the order of criteria, the finding and service
hierarchies) into the proof tree of kb/derivation.pl's node kinds, the one
shape every consumer reads (citations and notices in determination.py,
the renderers, the pictures, the web pages).  Nothing here decides: every
value, source and truth value is the engine's.

A trace atom is a sequence ``(name, arg, ...)``: a tuple decoded from
clingo, or a JSON array from SWI-Prolog; a compound argument likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .derivation import checking, contract
from .errors import EngineError
from .facts import Term, Value

if TYPE_CHECKING:
    from .policy import VersionData

Atom = Sequence[Any]
Node = dict[str, Any]

# a case's reason where its service is none a statement can be about: no scope shown
_UNADDRESSED = ("other", "unlisted_code")


def _id(v: Value) -> Any:
    """A fact's argument as a trace shows it: an id as its name, a string
    or number as itself, a compound term as (name, *args)."""
    if isinstance(v, Term):
        return (v.name, *(_id(a) for a in v.args)) if v.args else v.name
    return v


class _Facts:
    """A version's facts, indexed for the builder (first fact wins where
    the schema allows several and a node shows one, as evaluator.pl did)."""

    def __init__(self, data: VersionData) -> None:
        rows = lambda name: [tuple(_id(a) for a in r) for r in data.rows(name)]  # noqa: E731
        first = lambda pairs: {k: v for k, v in reversed(list(pairs))}  # noqa: E731
        self.interpretation = first((s, i) for s, i in rows("interpretation"))
        self.scope = first((f, (sec, q)) for f, sec, q in rows("scope"))
        self.scope_ids = sorted(self.scope)
        self.statement = first((s, (sec, d)) for s, sec, d in rows("statement"))
        quotes: dict[str, list[tuple[int, str]]] = {}
        for s, n, q in rows("statement_quote"):
            quotes.setdefault(s, []).append((n, q))
        self.quotes = {s: [q for _, q in sorted(qs, key=lambda t: t[0])] for s, qs in quotes.items()}
        self.requires: dict[str, list[tuple[str, Any, str]]] = {}
        for s, f, w, q in rows("requires"):
            self.requires.setdefault(s, []).append((f, w, q))
        self.criteria = first((s, (m, q)) for s, m, q in rows("criteria"))
        self.criterion = first(((s, c), (f, q)) for s, c, f, q in rows("criterion"))
        self.group = first(((s, g), (m, q)) for s, g, m, q in rows("criterion_group"))
        self.members = self._members(data, rows)
        self.referral = first((s, r) for s, r in rows("referral"))
        self.applies_to: dict[str, list[str]] = {}
        for s, g in rows("applies_to"):
            self.applies_to.setdefault(s, []).append(g)
        self.code = first((c, (sec, d)) for c, sec, d in rows("code"))
        self.heading = first((c, h) for c, h in rows("code_heading"))
        self.note = first((c, n) for c, n in rows("code_note"))
        self.open_ended = first((c, q) for c, q in rows("code_open_ended"))
        self.implies = first(((c, f, v), q) for c, f, v, q in rows("code_implies"))
        self.number = first(((f, fd, "at_least", t), (sec, q)) for f, fd, t, sec, q in rows("number_at_least"))
        self.number.update(first(((f, fd, "below", t), (sec, q)) for f, fd, t, sec, q in rows("number_below")))
        self.at_most = first(((a, b), why) for a, b, why in rows("field_at_most"))
        self.example = first(((s, g), (sec, q)) for s, g, sec, q in rows("finding_example"))
        self.notices = [("codes_not_exhaustive", sec, q) for sec, q in rows("codes_not_exhaustive")] + \
            [("uncovered_code_denial", sec, q) for sec, q in rows("uncovered_code_denial")]
        self.partial = next(iter(rows("partial_version")), None)
        self.findings = data.hierarchy.findings
        self.services = data.hierarchy.services
        self._covering: dict[tuple[str, str], str | None] = {}  # memos: asked again by every request
        self._suffice: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def _members(data: VersionData, rows: Any) -> dict[tuple[str, str], list[tuple[str, bool]]]:
        """(statement, group or `top`) -> its criteria and nested groups, in
        the policy's order: where each one's quote stands in the source text
        (criterion_position/3, derived alike for both engines), then id."""
        parent = {(s, c): p for s, c, p in reversed(rows("member_of"))}
        keyed: dict[tuple[str, str], set[tuple[int, str, bool]]] = {}
        for name, is_group in (("criterion", False), ("criterion_group", True)):
            for s, c, _, q in rows(name):
                pos = data.quote_position(q) if isinstance(q, str) else -1
                keyed.setdefault((s, parent.get((s, c), "top")), set()).add((pos, c, is_group))
        return {k: [(c, g) for _, c, g in sorted(v)] for k, v in keyed.items()}

    def interp(self, subject: Any) -> str | None:
        return self.interpretation.get(subject)

    def would_suffice(self, f: str) -> list[str]:
        """The findings whose presence would make finding f present: f, then
        its more specific forms by id."""
        hit = self._suffice.get(f)
        if hit is None:
            hit = self._suffice[f] = (f, *sorted(self.findings.below({f}) - {f}))
        return list(hit)

    def covering_interpretation(self, s: str, service: str) -> str | None:
        """The interpretation of the least applies_to(s, G) by G that covers
        service (G the service or a more general form), if it has one."""
        key = (s, service)
        if key not in self._covering:
            above = self.services.above({service})
            notes = sorted((g, i) for g in self.applies_to.get(s, ()) if g in above
                           and (i := self.interp(("applies_to", s, g))) is not None)
            self._covering[key] = notes[0][1] if notes else None
        return self._covering[key]


class Explainer:
    """Builds the derivation of each case of a version's requests from the
    engine's trace (``request``, then ``RequestTrace.proof`` per case)."""

    def __init__(self, data: VersionData) -> None:
        self.facts = _Facts(data)

    @staticmethod
    def of(data: VersionData) -> Explainer:
        """The builder of a fact set, made once per process (as its engines)."""
        hit = _explainers.get(data.engine_text)
        if hit is None:
            hit = _explainers[data.engine_text] = Explainer(data)
        return hit

    def request(self, settled: Iterable[Atom]) -> RequestTrace:
        """The request-level part of a trace: its ``settled/3`` atoms (any
        other atom is ignored, so a whole case's trace may be given)."""
        return RequestTrace(self.facts, {a[1]: (a[2], a[3]) for a in settled if a[0] == "settled"}, checking())

    def sources(self, fact: str, sources: Iterable[Sequence[Any]]) -> list[Node]:
        """A contradiction's sources, (value, source) each, as fact nodes."""
        return [_settled_node(self.facts, fact, v, src, None) for v, src in sources]

    def error_args(self, key: str, args: dict[str, Any]) -> dict[str, Any]:
        """An error's arguments as the rest of covkb reads them: a
        contradiction's sources as fact nodes."""
        if key == "contradiction":
            return {**args, "sources": self.sources(args["fact"], args["sources"])}
        return args


_explainers: dict[str, Explainer] = {}


class RequestTrace:
    """One request's settled facts, and each case's derivation over them
    (a fact's node is built once per request, shared by its cases)."""

    def __init__(self, facts: _Facts, settled: dict[str, tuple[Any, Any]], check: bool = False) -> None:
        self.facts = facts
        self.settled = settled
        self.check = check  # each case's trace checked against kb/derivation.pl
        self.nodes: dict[str, Node] = {}
        self.digested: set[tuple[Any, ...]] = set()  # the shapes of the cases digested

    def status(self, f: str) -> Node:
        """Fact f as the request settles it."""
        node = self.nodes.get(f)
        if node is None:
            if f not in self.settled:
                raise EngineError(f"the engine's trace does not say how {f} is settled")
            v, src = self.settled[f]
            node = self.nodes[f] = _settled_node(self.facts, f, v, src, self)
        return node

    def proof(self, outcome: str, assign: Iterable[Sequence[Any]], atoms: Sequence[Atom]) -> Node:
        """The derivation of one case: its outcome, assignment and trace."""
        return self._case(outcome, assign, atoms).outcome_node()

    def digest(self, outcome: str, assign: Iterable[Sequence[Any]], atoms: Sequence[Atom]) -> Node:
        """Instead of the derivation (``"explain": false``), only what
        determination.aggregate reads off it: its nodes that cite the policy
        (a section) and its notices, as leaves, and beside them (``derive``,
        not a child) the derivation itself, built when asked for: the
        answer's summary reads its deciding facts off it, where it needs them
        (covkb.sentences.deciding).  Which nodes a derivation has, hence what
        it cites, depends only on the case's reason, how its service is named
        and the statements it explains, not on the facts' values: a case of a
        shape an earlier case of the request had gives no leaves (aggregate
        takes the union)."""
        case = self._case(outcome, assign, atoms)
        shape = case.shape()
        if shape in self.digested:
            return {"kind": "digest", "children": [], "derive": case.outcome_node}
        self.digested.add(shape)
        node = case.outcome_node()
        leaves = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.get("section") is not None or n["kind"] == "notice":
                leaf = {k: n[k] for k in _CITES if k in n}
                leaf["children"] = []
                leaves.append(leaf)
            stack.extend(n["children"])
        return {"kind": "digest", "children": leaves, "derive": lambda: node}

    def _case(self, outcome: str, assign: Iterable[Sequence[Any]], atoms: Sequence[Atom]) -> _Case:
        if self.check:
            broken = contract().trace_violations(atoms)
            if broken:
                raise EngineError(f"the engine's trace breaks kb/derivation.pl: {'; '.join(broken)}")
        return _Case(self, outcome, assign, atoms)


# what a digest keeps of a node that cites the policy (determination.cited, aggregate's notices)
_CITES = ("kind", "id", "code", "section", "quote", "quotes", "heading", "note")



def _settled_node(facts: _Facts, f: str, v: Any, src: Any, trace: RequestTrace | None) -> Node:
    """A fact node: f = v, settled by src (a trace_source/2 term); trace
    gives the node of an ontology source's witness (a request's, not an
    error's: a contradiction is between the sources of a patient fact)."""
    node: Node = {"kind": "fact", "id": f, "value": v}
    if isinstance(src, str):
        node["source"] = src
        if src == "closed_world":
            node["would_suffice"] = facts.would_suffice(f)
        node["children"] = []
        return node
    name = src[0]
    if name == "field":
        node.update(source="request", field=src[1])
    elif name == "number":
        _, fd, rule, t, n = src
        sec, q = facts.number[(f, fd, rule, t)]
        node.update(source="number", field=fd, number=n, rule=rule, threshold=t, section=sec, quote=q,
                    interpretation=facts.interp(("number_at_least" if rule == "at_least" else "number_below", f, fd)))
    elif name == "number_bound":
        _, fd, rule, t, other, n = src
        sec, q = facts.number[(f, fd, rule, t)]
        node.update(source="number_bound", field=other, number=n, rule=rule, threshold=t, bounds=fd,
                    section=sec, quote=q, interpretation=_bound_interpretation(facts, f, fd, rule, other))
    elif name == "code":
        c = src[1]
        node.update(source="code", code=c, section=facts.code[c][0], quote=facts.implies[(c, f, v)],
                    interpretation=facts.interp(("code_implies", c, f, v)))
    elif name == "code_list":
        node.update(source="code_list", field=src[1], code=src[2],
                    interpretation=facts.interp(("listed_code_implies", src[1], src[2])))
    elif name == "ontology" and trace is not None:
        witness, link = src[1], src[2]
        sec, q = facts.example[(witness, f)] if link == "example" else (None, None)
        node.update(source="ontology", section=sec, quote=q, interpretation=facts.interp(f),
                    children=[trace.status(witness)])
        return node
    else:
        raise EngineError(f"the engine's trace names an unknown source {src!r}")
    node["children"] = []
    return node


def _bound_interpretation(facts: _Facts, f: str, fd: str, rule: str, other: str) -> str | None:
    """A number rule read through a count that bounds the rule's count is
    covkb's reading: why the one count bounds the other (field_at_most/3),
    then the rule's own interpretation, if it has one."""
    why = facts.at_most.get((other, fd)) or facts.at_most.get((fd, other)) or ""
    own = facts.interp(("number_at_least" if rule == "at_least" else "number_below", f, fd))
    return " ".join(t for t in (why, own) if t) or None


class _Case:
    """One case's trace, read: what the builder asks of it."""

    def __init__(self, trace: RequestTrace, outcome: str, assign: Iterable[Sequence[Any]],
                 atoms: Iterable[Atom]) -> None:
        self.trace, self.facts, self.outcome = trace, trace.facts, outcome
        self.assumed = {a[0]: a[1] for a in assign if a[2] > 0}
        self.service: Any = None
        self.reason: Any = None
        self.how: Atom | None = None          # service_named/3, service_reported/3 or service_other/3
        self.unlisted: Any = None             # unlisted_code/1's code
        self.shown: list[tuple[str, bool, Any]] = []
        self.holds: set[tuple[Any, ...]] = set()  # (statement, member), (statement, fact, "req"), (statement,)
        for a in atoms:
            name = a[0]
            if name == "holds":
                self.holds.add((a[1], a[2]))
            elif name == "requirement_holds":
                self.holds.add((a[1], a[2], "req"))
            elif name == "criteria_hold":
                self.holds.add((a[1],))
            elif name == "shown":
                self.shown.append((a[1], a[2], a[3]))
            elif name == "service":
                self.service = a[1]
            elif name == "reason":
                self.reason = a[1]
            elif name in ("service_named", "service_reported", "service_other"):
                self.how = a
            elif name == "unlisted_code":
                self.unlisted = a[1]

    def shape(self) -> tuple[Any, ...]:
        """What decides which nodes the case's derivation has (see RequestTrace.digest)."""
        how = None if self.how is None else tuple(self.how)  # a list from JSON
        return ("shape", self.reason, self.service, how, self.unlisted, tuple(sorted(s for s, _, _ in self.shown)))

    def outcome_node(self) -> Node:
        facts, reason = self.facts, self.reason
        children = [] if reason in _UNADDRESSED else [self.scope_node(f) for f in facts.scope_ids]
        children.append(self.service_proof())
        children += [self.statement_node(s, applies, o) for s, applies, o in sorted(self.shown)]
        if reason not in ("statement", "out_of_scope") and facts.partial is not None:
            sec, q, why = facts.partial
            children.append({"kind": "partial_version", "section": sec, "quote": q, "reason": why, "children": []})
        node: Node = {"kind": "outcome", "outcome": self.outcome, "reason": reason}
        if reason == "no_statement":
            node["service"] = self.service
        node["children"] = children
        return node

    def value(self, f: str) -> Node:
        """Fact f in this case: as settled, or the case's assumption over it."""
        node = self.trace.status(f)
        if node["value"] == "unknown" and f in self.assumed:
            return {"kind": "fact", "id": f, "value": self.assumed[f], "source": "assumed", "children": [node]}
        return node

    def scope_node(self, f: str) -> Node:
        sec, q = self.facts.scope[f]
        proof = self.value(f)
        return {"kind": "scope", "id": f, "value": proof["value"], "section": sec, "quote": q,
                "interpretation": self.facts.interp(("scope", f)), "children": [proof]}

    def service_proof(self) -> Node:
        how, facts = self.how, self.facts
        if how is None:
            if self.service != "unlisted_code" or self.unlisted is None:
                raise EngineError(f"the engine's trace does not say how the request names {self.service}")
            return self.unlisted_node()
        if how[0] == "service_named":
            node: Node = {"kind": "service", "id": how[1], "source": how[2], "requested": how[3], "children": []}
            if self.unlisted is not None:
                node.update(code=self.unlisted, children=[self.unlisted_node()])
            return node
        if how[0] == "service_reported":
            s, c, reported = how[1], how[2], how[3]
            sec, desc = facts.code[c]
            code: Node = {"kind": "code", "id": c, "reports": reported, "section": sec, "quote": desc,
                          "heading": facts.heading[c], "interpretation": facts.interp(("code_reports", c, reported)),
                          "children": []}
            if c in facts.note:
                code["note"] = facts.note[c]
            return {"kind": "service", "id": s, "source": "code", "code": c, "children": [code]}
        c, q, v = how[1], how[2], how[3]
        quote = facts.open_ended[c] if q == "service" else facts.heading[c]
        return {"kind": "service", "id": "other", "source": "code", "code": c, "qualifier": q, "value": v,
                "section": facts.code[c][0], "quote": quote, "children": []}

    def unlisted_node(self) -> Node:
        c = self.unlisted
        notices = [{"kind": "notice", "id": i, "code": c, "section": sec, "quote": q, "children": []}
                   for i, sec, q in self.facts.notices]
        return {"kind": "code", "id": c, "listed": False, "children": notices}

    def statement_node(self, s: str, applies: bool, outcome: Any) -> Node:
        facts = self.facts
        sec, decides = facts.statement[s]
        children = [self.requirement_node(s, f, w, q) for f, w, q in facts.requires.get(s, ())]
        met: list[str] = []
        if s in facts.criteria:
            mode, q = facts.criteria[s]
            members = self.member_nodes(s, "top", sec)
            met = [m["id"] for m in members if m["holds"]]
            children.append({"kind": "criteria", "mode": mode, "holds": (s,) in self.holds, "quote": q,
                             "children": members})
        return {"kind": "statement", "id": s, "section": sec, "quotes": list(facts.quotes.get(s, ())),
                "decides": decides, "applies": applies, "outcome": outcome, "criteria_met": met,
                "referral": facts.referral.get(s), "interpretation": self.statement_interpretation(s),
                "children": children}

    def statement_interpretation(self, s: str) -> str | None:
        """The interpretation behind the statement covering the case's
        service: of the least such applies_to/2 fact, by service id."""
        return self.facts.covering_interpretation(s, self.service)

    def requirement_node(self, s: str, f: str, want: Any, q: str) -> Node:
        return {"kind": "requirement", "id": f, "expected": want, "holds": (s, f, "req") in self.holds, "quote": q,
                "interpretation": self.facts.interp(("requires", s, f)), "children": [self.value(f)]}

    def member_nodes(self, s: str, group: str, sec: Any) -> list[Node]:
        """The criteria and nested groups of a group (`top`: the statement's
        own), in the policy's order."""
        out = []
        for c, is_group in self.facts.members.get((s, group), ()):
            holds = (s, c) in self.holds
            if is_group:
                mode, q = self.facts.group[(s, c)]
                out.append({"kind": "criterion_group", "id": c, "mode": mode, "holds": holds, "quote": q,
                            "section": sec, "children": self.member_nodes(s, c, sec)})
            else:
                f, q = self.facts.criterion[(s, c)]
                out.append({"kind": "criterion", "id": c, "fact": f, "holds": holds, "quote": q, "section": sec,
                            "interpretation": self.facts.interp(f), "children": [self.value(f)]})
        return out
