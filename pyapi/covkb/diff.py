"""`covkb diff A B`: which cases a revision changes, as regions.

Computed with the ASP engine over the whole request space, without
enumerating it.  A region is a request that leaves some facts unknown; the
three-valued semantics says its outcome when every completion agrees, and
clingo says so with two solver calls (brave and cautious consequences of
evaluator.lp), however many completions there are.  Starting from requests
that leave every fact unknown (one per service and per code), the diff
splits a region on an unknown that one side still depends on until both
sides are decided, compares the two answers, and merges sibling regions with
the same change back together.  A region is described by the facts it fixes;
every fact it does not mention may be anything.

Kinds of change (before → after):
  gained              now medically necessary
  revoked             was medically necessary, no longer
  restricted/relaxed  another outcome, less/more favourable to coverage
  reason_changed      the same outcome, by another statement or criteria
  became_conditional  was decided, now needs more information
  maybe_changed       either side is unknown (a partly known version)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import from_engine
from .facts import atom, closure
from .policy import Policy, VersionData, belongs_to

UNLISTED_VALUE = "unlisted_value"
SLICE_ABOVE = 40  # statements; beyond this the diff solves per-root slices
KINDS = ("gained", "revoked", "restricted", "relaxed", "became_conditional", "reason_changed", "maybe_changed")  # a qualifier value no code_qualifier/4 fact names


@dataclass(frozen=True)
class Answer:
    """What one version says for a region: decided or not, and why."""

    outcomes: frozenset[str]
    statement: str | None
    criteria_met: frozenset[str]
    variables: tuple[tuple[tuple[int, str], str, tuple[str, ...]], ...]  # ((order), var, values) still open
    error: str | None = None
    citations: frozenset[tuple[str, str]] = frozenset()  # (section id, quote) cited in every case

    @property
    def decided(self) -> bool:
        return len(self.outcomes) == 1 and self.error is None

    @property
    def outcome(self) -> str:
        return next(iter(self.outcomes)) if self.decided else "insufficient_information"

    def summary(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "statement": self.statement, "criteria_met": sorted(self.criteria_met)}


def _slice(data: VersionData, root: dict[str, Any]) -> VersionData:
    """The version's facts that can bear on requests about one service or
    code: every fact but the statements on unrelated services and the other
    codes.  A request names one service (or a code reporting some), and
    only statements applying to it, or to a more general or more specific
    form of it, can decide it; the ground program, hence each solve, stays
    small however large the policy."""
    up = [(atom(sp), atom(g)) for sp, g in data.rows("service_is_a")]
    down = [(g, sp) for sp, g in up]
    code = root.get("cpt")
    services = {root["service"]} if "service" in root else {atom(sv) for c, sv in data.rows("code_reports") if c == code}
    related = closure(closure(services, down), up)
    keep_statements = {atom(st) for st, sv in data.rows("applies_to") if atom(sv) in related}
    drop_statements = {atom(st) for st, _ in data.rows("applies_to")} - keep_statements
    drop_codes = {c for c, *_ in data.rows("code")} - {code}
    facts = tuple(
        f for f in data.facts
        if not belongs_to(f, drop_statements, drop_codes)
        and not (f.name in ("service", "service_is_a") and not {atom(a) for a in f.args[:2] if not isinstance(a, str)} & related)
    )
    return VersionData(data.version, facts)


class _Side:
    """One version's ASP evaluator over the slice for one root, asked for
    brave and cautious consequences (AspEngine.consequences)."""

    def __init__(self, data: VersionData) -> None:
        from .engines.asp import AspEngine

        self.data = data
        self.engine = AspEngine(data)
        self.vocabulary = data.vocabulary
        self.findings = set(data.vocabulary.findings)
        self.services = set(data.vocabulary.services)
        self._answers: dict[str, Answer] = {}  # a diff asks the same region more than once

    def answer(self, request: dict[str, Any]) -> Answer:
        key = json.dumps(request, sort_keys=True)
        hit = self._answers.get(key)
        if hit is None:
            hit = self._answers[key] = self._answer(request)
        return hit

    def _answer(self, request: dict[str, Any]) -> Answer:
        if request.get("service") is not None and request["service"] not in self.services:
            return Answer(frozenset({"not_addressed"}), None, frozenset(), ())
        c = self.engine.consequences(self._engine_request(request))
        if c.error is not None:
            return Answer(frozenset(), None, frozenset(), (), error=from_engine(*c.error).message)
        variables = tuple(((rank, var), var, tuple(str(x) for x in values)) for rank, var, values in c.variables)
        return Answer(c.outcomes, c.statement, c.criteria_met, variables, citations=c.citations)

    def _engine_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """A request in the user's fields as the engines receive it (as
        Request.engine_dict() writes it), findings this side does not know left out."""
        values: dict[str, Any] = {}
        codes: dict[str, list[str]] = {}
        for name, f in self.vocabulary.fields.items():
            v = request.get(name)
            if v is None or v == [] or v == ():
                continue
            if f.kind == "code_list":
                codes[name] = list(v)
            else:
                values[name] = ("yes" if v else "no") if f.kind == "boolean" else v
        return {
            "service": request.get("service"), "cpt": request.get("cpt"),
            "qualifiers": {q: request[q] for q in self.vocabulary.qualifiers if request.get(q) is not None},
            "values": values, "codes": codes,
            "findings": [f for f in request.get("findings", ()) if f in self.findings],
            "unknown_findings": [f for f in request.get("unknown_findings", ()) if f in self.findings],
        }


@dataclass
class Region:
    root: dict[str, Any]                 # the service or code the region is about
    fixed: dict[str, str]                # facts the region fixes; others may be anything
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]
    witness: dict[str, Any] = field(default_factory=dict)
    present_via: frozenset[str] = frozenset()  # "no" facts a listed specific form makes present
    citations_before: list[dict[str, str]] = field(default_factory=list)
    citations_after: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """"SERVICE (cpt CODE): FACT, FACT VALUE; none of: FINDING, FINDING"."""
        what = ", ".join(f"{k} {v}" for k, v in self.root.items())
        yes = [k if v == "yes" else f"{k} {v}" for k, v in self.fixed.items() if v != "no"]
        no = [k for k, v in self.fixed.items() if v == "no" and k not in self.present_via]
        parts = [", ".join(yes)] if yes else []
        parts += [f"no other {k}" for k in sorted(self.present_via) if k in self.fixed]
        if no:
            parts.append("none of: " + ", ".join(no))
        return f"{what}: {'; '.join(parts) if parts else 'any facts'}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "region": {**self.root, "fixed": self.fixed}, "description": self.describe(),
                "before": self.before, "after": self.after, "witness": self.witness,
                "citations_before": self.citations_before, "citations_after": self.citations_after}


@dataclass
class DiffReport:
    a: str
    b: str
    regions: list[Region]
    regions_examined: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.regions:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return {"from": self.a, "to": self.b, "changed_regions": len(self.regions), "by_kind": counts,
                "regions_examined": self.regions_examined, "seconds": round(self.seconds, 3),
                "regions": [r.to_dict() for r in self.regions]}


def classify(before: Answer, after: Answer, favour: dict[str, int]) -> str | None:
    """The kind of change; favour ranks outcomes (outcome_favour/2 in kb/vocabulary.pl)."""
    ob, oa = before.outcome, after.outcome
    if "unknown" in (ob, oa):
        return "maybe_changed"
    if ob != oa:
        if oa == "medically_necessary":
            return "gained"
        if ob == "medically_necessary":
            return "revoked"
        neutral = favour.get("not_addressed", 0)
        return "relaxed" if favour.get(oa, neutral) > favour.get(ob, neutral) else "restricted"
    if (before.statement, before.criteria_met) != (after.statement, after.criteria_met):
        return "reason_changed"
    return None


def _below(data: list[VersionData]) -> dict[str, set[str]]:
    """Each finding with its more specific forms, in either version."""
    edges = [(atom(g), atom(sp)) for d in data for sp, g in d.rows("finding_is_a")]
    edges += [(atom(r[1]), atom(r[0])) for d in data for r in d.rows("finding_example")]
    return {f: closure({f}, edges) for f in {x for e in edges for x in e}}


def _roots(a: VersionData, b: VersionData) -> list[dict[str, Any]]:
    roots: list[dict[str, Any]] = []
    for data in (a, b):
        general = {atom(g) for _, g in data.rows("service_is_a")}
        roots += [{"service": s} for s in sorted(data.vocabulary.services) if s not in general]
        quals: dict[str, dict[str, set[str]]] = {}
        for code, _svc, q, v in data.rows("code_qualifier"):
            quals.setdefault(code, {}).setdefault(atom(q), set()).add(atom(v))
        for code in sorted(data.vocabulary.codes):
            if code in quals:
                for q, values in quals[code].items():
                    roots += [{"cpt": code, q: v} for v in sorted(values | {UNLISTED_VALUE})]
            else:
                roots.append({"cpt": code})
    return list({tuple(sorted(r.items())): r for r in roots}.values())


def diff(policy: Policy, a_ref: str, b_ref: str) -> DiffReport:
    """Which cases change from version (or draft) a_ref to b_ref, as regions."""
    start = time.perf_counter()
    va, vb = policy.resolve(a_ref), policy.resolve(b_ref)
    run = _Diff(policy.data(va), policy.data(vb))
    for root in _roots(run.da, run.db):
        run.explore(root)
    regions = run.widen()
    run.describe(regions)
    return DiffReport(va.id, vb.id, regions, run.examined, time.perf_counter() - start)


Found = tuple[dict[str, Any], dict[str, str], Answer, Answer, str]  # root, fixed facts, before, after, kind


class _Diff:
    """One diff, in named steps: ``explore`` a root's request space (split a
    region on an unknown either side depends on until both decide),
    ``widen`` each change found to the largest region with the same change,
    ``describe`` each region with a witness and its citations."""

    kinds = KINDS

    def __init__(self, da: VersionData, db: VersionData) -> None:
        self.da, self.db = da, db
        # A small policy is one program per side; a large one a slice per root,
        # since each solve costs in proportion to the whole ground program.
        self.sliced = max(len(self.da.vocabulary.statements), len(self.db.vocabulary.statements)) > SLICE_ABOVE
        self.sides: dict[str, tuple[_Side, _Side]] = {}
        self.below = _below([self.da, self.db])
        self.findings = sorted(set(self.da.vocabulary.findings) | set(self.db.vocabulary.findings))
        self.settle = _Settle(self.da, self.db)
        self.favour = {**self.da.vocabulary.favour, **self.db.vocabulary.favour}
        self.found: list[Found] = []
        self.conditional: list[Found] = []
        self.examined = 0

    track_conditional = True  # report regions decided before and open after

    def classify(self, before: Answer, after: Answer) -> str | None:
        return classify(before, after, self.favour)

    def side(self, root: dict[str, Any]) -> tuple[_Side, _Side]:
        key = json.dumps(root, sort_keys=True) if self.sliced else ""
        if key not in self.sides:
            da, db = self.da, self.db
            self.sides[key] = (_Side(_slice(da, root)), _Side(_slice(db, root))) if self.sliced else (_Side(da), _Side(db))
        return self.sides[key]

    def start(self, root: dict[str, Any]) -> dict[str, Any]:
        """The region of every request about root: every finding unknown."""
        return {**root, "findings": [], "unknown_findings": self.findings}

    def request_for(self, root: dict[str, Any], cube: dict[str, str]) -> dict[str, Any]:
        r = self.start(root)
        for var, val in cube.items():
            r = self.settle.fix(r, var, val)
        return r

    # step 1: explore -------------------------------------------------------
    def explore(self, root: dict[str, Any]) -> None:
        self._visit(root, self.start(root), {})

    def _visit(self, root: dict[str, Any], request: dict[str, Any], fixed: dict[str, str],
               conditional_above: bool = False) -> None:
        self.examined += 1
        sa, sb = self.side(root)
        before, after = sa.answer(request), sb.answer(request)
        if before.error and after.error:
            return  # an invalid request on both sides (e.g. a code contradicting the facts)
        if before.decided and after.decided:
            kind = self.classify(before, after)
            if kind:
                self.found.append((root, fixed, before, after, kind))
            return
        became = self.track_conditional and before.decided and before.outcome != "unknown" \
            and not after.decided and not after.error
        if became and not conditional_above:
            self.conditional.append((root, fixed, before, after, "became_conditional"))
        candidates = sorted(before.variables + after.variables, key=lambda t: t[0])
        for _, var, _ in candidates:
            fact = self._next_fact(request, var)
            if fact is not None:
                break
        else:
            return  # nothing a request can say would decide it further
        if fact == var and var in self.settle.selectors:
            values = sorted({x for _, v, xs in candidates if v == var for x in xs})
        else:
            values = list(self.settle.domain(fact))
        for x in values:
            nxt = self.settle.fix(request, fact, x)
            if nxt != request:  # `other` procedures of an open-ended code: nothing to say
                self._visit(root, nxt, {**fixed, fact: x}, conditional_above or became)

    def _next_fact(self, request: dict[str, Any], var: str) -> str | None:
        """The request's unknown finding to settle so that finding var can
        become known: its most specific open form first, then itself, then
        its most general open form.  None when only a listed more general
        finding keeps it open (no request can say more)."""
        if var in self.settle.direct:
            return var
        below = self.below
        open_ = set(request["unknown_findings"])
        forms = [d for d in below.get(var, {var}) if d in open_ and d != var]
        if forms:
            return max(forms, key=lambda d: (self._depth(d), d))
        if var in open_:
            return var
        up = [g for g, ds in below.items() if var in ds and g != var and g in open_]
        return min(up, key=lambda g: (self._depth(g), g)) if up else None

    def _depth(self, f: str) -> int:
        return sum(1 for g, ds in self.below.items() if f in ds and g != f)

    # step 2: widen ---------------------------------------------------------
    def widen(self) -> list[Region]:
        """Each change found, as the largest region with the same change;
        changes that widen to the same region are one."""
        seen: set[tuple[Any, ...]] = set()
        regions: list[Region] = []
        for root, fixed, before, after, kind in self.conditional + self.found:
            cube = self._generalise(root, fixed, before, after)
            key = (tuple(sorted(root.items())), kind, tuple(sorted(cube.items())))
            if key in seen:
                continue
            seen.add(key)
            if kind == "became_conditional":
                after_d = {"outcome": "insufficient_information", "possible_outcomes": sorted(after.outcomes),
                           "missing": sorted({v for _, v, _ in after.variables})}
            else:
                after_d = after.summary()
            listed = {k for k, v in cube.items() if v == "yes"}
            via = frozenset(k for k, v in cube.items() if v == "no" and self.below.get(k, {k}) & listed)
            regions.append(Region(root, dict(sorted(cube.items())), kind, before.summary(), after_d, present_via=via))
        regions.sort(key=lambda r: (self.kinds.index(r.kind), str(sorted(r.root.items())), sorted(r.fixed.items())))
        return regions

    def _generalise(self, root: dict[str, Any], cube: dict[str, str], before: Answer, after: Answer) -> dict[str, str]:
        """Drop every fixed fact the change does not depend on (the engine
        decides, three-valued, whether the larger region still has it)."""
        for var in reversed(list(cube)):
            trial = {k: v for k, v in cube.items() if k != var}
            if self._same_change(root, trial, before, after):
                cube = trial
        return cube

    def _same_change(self, root: dict[str, Any], cube: dict[str, str], before: Answer, after: Answer) -> bool:
        req = self.request_for(root, cube)
        sa, sb = self.side(root)
        b, a = sa.answer(req), sb.answer(req)
        if before.decided and after.decided:
            return b.decided and a.decided and (b.summary(), a.summary()) == (before.summary(), after.summary())
        return b.decided and b.summary() == before.summary() and not a.decided and not a.error

    # step 3: describe --------------------------------------------------------
    def describe(self, regions: list[Region]) -> None:
        """A witness request for each region, and what each side cites there."""
        for r in regions:
            r.witness = self.settle.witness(r)
            req = self.request_for(r.root, r.fixed)
            sa, sb = self.side(r.root)
            r.citations_before = _cited(self.da, sa.answer(req))
            r.citations_after = _cited(self.db, sb.answer(req))


class _Settle:
    """Facts as request fields, read from the two sides' declarations: the
    service and qualifiers select the service; a patient fact is written
    the way its version lets a request state it (VersionData.realize); a
    finding is listed or no longer listed as unknown."""

    def __init__(self, da: VersionData, db: VersionData) -> None:
        self.sides = (da, db)
        self.qualifiers = set(da.vocabulary.qualifiers) | set(db.vocabulary.qualifiers)
        self.patient_facts = set(da.vocabulary.patient_facts) | set(db.vocabulary.patient_facts)
        self.selectors = {"service"} | self.qualifiers
        self.direct = self.selectors | self.patient_facts
        self.scope = sorted(set(da.vocabulary.scope) | set(db.vocabulary.scope))

    def domain(self, fact: str) -> tuple[str, ...]:
        return self.sides[1].vocabulary.fact_values.get(fact) or self.sides[0].vocabulary.domain(fact)

    def fix(self, request: dict[str, Any], var: str, value: str) -> dict[str, Any]:
        """The request with one more fact fixed, as request fields."""
        r = dict(request)
        if var in self.selectors:
            if value == "other":
                if var != "service":
                    r[var] = UNLISTED_VALUE
            else:
                r["service"] = value
        elif var in self.patient_facts:
            fields = next((f for d in self.sides if (f := d.realize(var, value)) is not None), {})
            for k, v in fields.items():
                r[k] = sorted(set(r.get(k, ())) | set(v)) if isinstance(v, list) else v
        else:  # a finding: listed present, or no longer listed as unknown
            if value == "yes":
                r["findings"] = sorted(set(r.get("findings", ())) | {var})
            r["unknown_findings"] = [f for f in r.get("unknown_findings", ()) if f != var]
        return r

    def witness(self, region: Region) -> dict[str, Any]:
        """A fully known request in the region: its facts, every other finding
        absent, every scope fact the region does not fix in scope."""
        w: dict[str, Any] = dict(region.root)
        for fact in self.scope:
            if fact not in region.fixed:
                w = self.fix(w, fact, "yes")
        for var, val in region.fixed.items():
            w = self.fix(w, var, val)
        if not w.get("unknown_findings"):
            w.pop("unknown_findings", None)
        return w


def _cited(data: VersionData, answer: Answer) -> list[dict[str, str]]:
    """The region's citations on one side, in document order."""
    return [{"section": data.section_path(sec), "quote": q}
            for sec, q in sorted(answer.citations, key=lambda c: (data.quote_position(c[1]), c[1]))]
