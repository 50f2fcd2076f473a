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
  broken              was decided, is now an invalid request (e.g. two
                      statements of the revision conflict on it)
  repaired            was an invalid request, is now decided
  gained              now medically necessary
  revoked             was medically necessary, no longer
  restricted/relaxed  another outcome, less/more favourable to coverage
  became_conditional  was decided, now needs more information
  became_decided      needed more information, is now decided
  conditional_changed needs more information on both sides, with other
                      possible outcomes
  reason_changed      the same outcome, by another statement or criteria
  maybe_changed       either side is unknown (a partly known version)

A region is split on the facts first and on the service (or a qualifier)
last: a request that names no service is a request of its own (a claim
with a CPT code only), compared before it is split into requests that name
one.  A finding only one side declares is read by the other through the
ontology of both: a listed specific form counts as its known general form.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .determination import in_document_order, three_valued
from .errors import from_engine
from .facts import atom
from .hierarchy import Forms
from .limits import CLOSED_READING, engine_dict
from .outcomes import Outcomes
from .policy import Policy, VersionData
from .wording import Words, lower

UNLISTED_VALUE = "unlisted_value"  # a qualifier value no code_qualifier/4 fact names
SLICE_ABOVE = 40  # statements; beyond this the diff solves per-root slices
KINDS = ("broken", "repaired", "gained", "revoked", "restricted", "relaxed", "became_conditional", "became_decided",
         "conditional_changed", "reason_changed", "maybe_changed")


@dataclass(frozen=True)
class Answer:
    """What one version says for a region: decided or not, and why."""

    outcomes: frozenset[str]
    statement: str | None
    criteria_met: frozenset[str]
    variables: tuple[tuple[tuple[int, str], str, tuple[str, ...]], ...]  # ((order), var, values) still open
    error: str | None = None
    error_certain: bool = False  # every case fails (else only some do)
    error_code: str = "invalid_request"  # the error's code, as determine reports it (policy_conflict, ...)

    @property
    def decided(self) -> bool:
        return len(self.outcomes) == 1 and self.error is None

    @property
    def settled(self) -> bool:
        """Decided, or invalid whatever the unknowns."""
        return self.decided or (self.error is not None and self.error_certain)

    @property
    def outcome(self) -> str:
        return self.error_code if self.error is not None else three_valued(self.outcomes)[0]

    def summary(self) -> dict[str, Any]:
        if self.error is not None:
            return {"outcome": self.error_code, "error": self.error}
        if not self.decided:
            outcome, possible = three_valued(self.outcomes)
            return {"outcome": outcome, "possible_outcomes": possible,
                    "missing": sorted({v for _, v, _ in self.variables})}
        return {"outcome": self.outcome, "statement": self.statement, "criteria_met": sorted(self.criteria_met)}


def _slice(data: VersionData, root: dict[str, Any]) -> VersionData:
    """The version's facts that can bear on requests about one service or
    code: every fact but the statements on unrelated services and the other
    codes.  A request names one service (or a code reporting some), and
    only statements applying to it, or to a more general or more specific
    form of it, can decide it; the ground program, hence each solve, stays
    small however large the policy."""
    code = root.get("cpt")
    services = {root["service"]} if "service" in root else {atom(sv) for c, sv in data.rows("code_reports") if c == code}
    related = data.hierarchy.services.related(services)
    keep_statements = {atom(st) for st, sv in data.rows("applies_to") if atom(sv) in related}
    drop_statements = {atom(st) for st, _ in data.rows("applies_to")} - keep_statements
    drop_codes = {c for c, *_ in data.rows("code")} - {code}
    dropped = drop_statements | drop_codes
    facts = tuple(
        f for f, owners in zip(data.facts, data.fact_owners)
        if owners.isdisjoint(dropped)
        and not (f.name in ("service", "service_is_a") and not {atom(a) for a in f.args[:2] if not isinstance(a, str)} & related)
    )
    return VersionData(data.version, facts)


class _Side:
    """One version's ASP evaluator over the slice for one root, asked for
    brave and cautious consequences (AspEngine.consequences)."""

    def __init__(self, data: VersionData, ontology: Forms) -> None:
        from .engines.asp import AspEngine

        self.data = data
        self.engine = AspEngine(data)
        self.vocabulary = data.vocabulary
        self.findings = set(data.vocabulary.findings)
        self.services = set(data.vocabulary.services)
        self.ontology = ontology  # the findings of both versions, read together
        self._answers: dict[str, Answer] = {}  # a diff asks the same region more than once

    def reads(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request as this side can read it: a finding it does not declare
        counts as its nearest general forms it does (listed: present; unknown:
        unknown, unless present)."""
        present, unknown = list(request.get("findings", ())), list(request.get("unknown_findings", ()))
        if all(f in self.findings for f in present + unknown):
            return request
        known_present = {g for f in present for g in self._known(f)}
        known_unknown = {g for f in unknown for g in self._known(f)} - known_present
        out = dict(request)
        out["findings"] = sorted(known_present)
        out["unknown_findings"] = sorted(known_unknown)
        for k in ("findings", "unknown_findings"):
            if not out[k] and k not in request:
                del out[k]
        return out

    def _known(self, f: str) -> set[str]:
        """f if this side declares it, else its nearest general forms it does."""
        if f in self.findings:
            return {f}
        return {g for up in self.ontology.generals(f) for g in self._known(up)}

    def answer(self, request: dict[str, Any]) -> Answer:
        key = json.dumps(request, sort_keys=True)
        hit = self._answers.get(key)
        if hit is None:
            hit = self._answers[key] = self._answer(request)
        return hit

    def _answer(self, request: dict[str, Any]) -> Answer:
        if request.get("service") is not None and request["service"] not in self.services:
            return Answer(frozenset({"not_addressed"}), None, frozenset(), ())
        c = self.engine.consequences(self._engine_request(self.reads(request)))
        variables = tuple(((rank, var), var, tuple(str(x) for x in values)) for rank, var, values in c.variables)
        if c.error is not None:
            err = from_engine(*c.error)  # the error determine raises for it: its code and words
            return Answer(frozenset(), None, frozenset(), variables, error=err.message,
                          error_certain=c.error_certain, error_code=err.code)
        return Answer(c.outcomes, c.statement, c.criteria_met, variables)

    def citations(self, request: dict[str, Any]) -> frozenset[tuple[str, str]]:
        """(section id, quote) cited in every case of a decided answer
        (AspEngine.citations); none where the answer is not decided."""
        if not self.answer(request).decided or \
                (request.get("service") is not None and request["service"] not in self.services):
            return frozenset()
        return self.engine.citations(self._engine_request(self.reads(request)))

    def _engine_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """A request in the user's fields as the engines receive it
        (limits.engine_dict), findings this side does not know left out."""
        # a diff's requests list every finding that is not absent (present or unknown)
        out = engine_dict({**request, **CLOSED_READING}, self.vocabulary.fields.values(), self.vocabulary.qualifiers)
        for k in ("findings", "unknown_findings"):
            out[k] = [f for f in out[k] if f in self.findings]
        return out


@dataclass
class Region:
    root: dict[str, Any]                 # the service or code the region is about
    fixed: dict[str, str]                # facts the region fixes; others may be anything
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]
    witness: dict[str, Any] = field(default_factory=dict)
    present_via: frozenset[str] = frozenset()  # "no" facts a listed specific form makes present
    witness_reads: dict[str, dict[str, Any]] = field(default_factory=dict)  # side → the witness as that side reads it, where it differs
    citations_before: list[dict[str, str]] = field(default_factory=list)
    citations_after: list[dict[str, str]] = field(default_factory=list)

    def conditions(self, words: Words) -> str:
        """The facts the region fixes, in the policy's words."""
        shown = [words.phrase(k, v) for k, v in self.fixed.items() if not (v == "no" and k in self.present_via)]
        shown += [f"no other {words.label(k).lower()}" for k in sorted(self.present_via) if k in self.fixed]
        open_ = [m for m in sorted(set(self.before.get("missing", ())) | set(self.after.get("missing", ())))
                 if m not in self.fixed]
        if open_:
            shown.append("not stated: " + ", ".join(words.unknown(m) for m in open_))
        return "; ".join(shown) if shown else "any request"

    def describe(self, words: Words | None = None) -> str:
        """In the policy's words given its labels; else "SERVICE (cpt CODE):
        FACT, FACT VALUE; none of: FINDING, FINDING" in ids."""
        if words is not None:
            return f"{words.root(self.root)}: {self.conditions(words)}"
        what = ", ".join(f"{k} {v}" for k, v in self.root.items())
        yes = [k if v == "yes" else f"{k} {v}" for k, v in self.fixed.items() if v != "no"]
        no = [k for k, v in self.fixed.items() if v == "no" and k not in self.present_via]
        parts = [", ".join(yes)] if yes else []
        parts += [f"no other {k}" for k in sorted(self.present_via) if k in self.fixed]
        if no:
            parts.append("none of: " + ", ".join(no))
        return f"{what}: {'; '.join(parts) if parts else 'any facts'}"

    def transition(self, words: Words | None = None) -> str:
        """The region's change of outcome, "BEFORE → AFTER"; with ``words``,
        each outcome by its label and the statement it comes from."""
        if words is None:
            return f"{self.before['outcome']} → {self.after['outcome']}"

        def side(answer: dict[str, Any]) -> str:
            if "outcome" not in answer:
                return f"an invalid request ({answer.get('error', '')})"
            what = words.statement(answer.get("statement"))
            return lower(words.outcome(answer["outcome"])) + (f" ({what})" if what else "")

        return f"{side(self.before)} → {side(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "region": {**self.root, "fixed": self.fixed}, "description": self.describe(),
                "before": self.before, "after": self.after, "witness": self.witness,
                **({"witness_reads": self.witness_reads} if self.witness_reads else {}),
                "citations_before": self.citations_before, "citations_after": self.citations_after}


@dataclass
class DiffReport:
    a: str
    b: str
    regions: list[Region]
    regions_examined: int
    seconds: float
    words: Words = field(default_factory=Words)
    regions_copied: int = 0  # regions not examined but copied to services both versions treat alike

    def changes(self) -> list[dict[str, Any]]:
        """The regions grouped by what changed: one change per kind and pair
        of deciding statements (per error, for broken and repaired), with the
        services and codes it affects and each region's conditions."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for i, r in enumerate(self.regions):
            if r.kind in ("broken", "repaired"):
                err = (r.after if r.kind == "broken" else r.before)["error"]
                key, title = (r.kind, err), f"{'now' if r.kind == 'broken' else 'no longer'} an invalid request: {err}"
            else:
                sb, sa = r.before.get("statement"), r.after.get("statement")
                key = (r.kind, sb, sa, r.before["outcome"], r.after["outcome"])
                title = f"{r.before['outcome']}{f' ({sb})' if sb else ''} → {r.after['outcome']}{f' ({sa})' if sa else ''}"
            c = out.setdefault(key, {"kind": r.kind, "change": title, "services": [], "codes": [],
                                     "statements": [], "conditions": [], "regions": [], "witness": r.witness})
            svc, code = r.root.get("service"), r.root.get("cpt")
            if svc and svc not in c["services"]:
                c["services"].append(svc)
            if code and code not in c["codes"]:
                c["codes"].append(code)
            for st in (r.before.get("statement"), r.after.get("statement")):
                if st and st not in c["statements"]:
                    c["statements"].append(st)
            cond = r.conditions(self.words)
            if cond not in c["conditions"]:
                c["conditions"].append(cond)
            c["regions"].append(i)
        return sorted(out.values(), key=lambda c: (KINDS.index(c["kind"]), c["change"]))

    def impact(self) -> dict[str, Any]:
        """The short summary an analyst reads first."""
        changes = [c for c in self.changes() if c["kind"] != "maybe_changed"]
        restricts = sum(c["kind"] in ("broken", "revoked", "restricted", "became_conditional") for c in changes)
        relaxes = sum(c["kind"] in ("repaired", "gained", "relaxed", "became_decided") for c in changes)
        return {"changes": len(changes), "statements_changed": len({s for c in changes for s in c["statements"]}),
                "codes_affected": len({x for c in changes for x in c["codes"]}),
                "services_affected": len({x for c in changes for x in c["services"]}),
                "restrict_coverage": restricts, "relax_coverage": relaxes,
                "maybe_changed": sum(c["kind"] == "maybe_changed" for c in self.changes())}

    def summary_line(self) -> str:
        i = self.impact()
        if not self.regions:
            return "no change"
        line = (f"{i['changes']} change(s): {i['statements_changed']} statement(s) changed; "
                f"{i['codes_affected']} code(s) and {i['services_affected']} service(s) affected; "
                f"{i['restrict_coverage']} restrict(s) coverage, {i['relax_coverage']} relax(es) it")
        return line + (f"; {i['maybe_changed']} may have changed (a side only partly known)" if i["maybe_changed"] else "")

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.regions:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return {"from": self.a, "to": self.b, "impact": self.impact(), "changed_regions": len(self.regions),
                "by_kind": counts, "regions_examined": self.regions_examined,
                "regions_copied": self.regions_copied, "seconds": round(self.seconds, 3),
                "changes": self.changes(),
                "regions": [{**r.to_dict(), "conditions": r.conditions(self.words),
                             # what each side leaves open, in words (read with both sides' vocabularies)
                             "open": {side: [self.words.unknown(m) for m in getattr(r, side).get("missing") or ()]
                                      for side in ("before", "after")}} for r in self.regions]}


def change_heading(change: dict[str, Any], words: Words | None = None, region: Region | None = None) -> str:
    """A change of ``DiffReport.changes()`` in one line: its kind and what
    changed; with ``words`` and one of its regions, in words (the kind as the
    Revisions page shows it, the outcomes by ``Region.transition``)."""
    if words is None:
        return f"{change['kind']}: {change['change']}"
    kind = change["kind"].replace("_", " ")
    if region is None or change["kind"] in ("broken", "repaired"):
        return f"{kind}: {change['change']}"
    return f"{kind}: {region.transition(words)}"


def change_affects(change: dict[str, Any], words: Words) -> list[str]:
    """The services (by their labels) and codes a change affects, a line each."""
    lines = []
    if change["services"]:
        lines.append(f"services: {'; '.join(words.label(x) for x in change['services'])}")
    if change["codes"]:
        lines.append(f"codes: {', '.join(change['codes'])}")
    return lines


def classify(before: Answer, after: Answer, meanings: Outcomes) -> str | None:
    """The kind of change, by what the outcomes mean and their favour
    (covkb.outcomes: outcome_means/2 and outcome_favour/2 in kb/vocabulary.pl).
    Answers that are not both decided are compared as they stand (a region
    nothing more can split)."""
    def unknown(outcomes: Iterable[str]) -> bool:
        return any(meanings.means(o, "unknown") for o in outcomes)

    if unknown(before.outcomes | after.outcomes) and before.summary() != after.summary():
        return "maybe_changed"  # a partly known side: any change may be the unknown part's
    if before.error is not None or after.error is not None:
        if before.error is not None and after.error is not None:
            return None  # invalid on both sides
        return "broken" if after.error is not None else "repaired"
    ob, oa = before.outcome, after.outcome
    if unknown(before.outcomes | after.outcomes):
        return None if before.summary() == after.summary() else "maybe_changed"
    if not (before.decided and after.decided):
        if before.decided:
            return "became_conditional"
        if after.decided:
            return "became_decided"
        return "conditional_changed" if before.outcomes != after.outcomes else None
    if ob != oa:
        covered_before, covered_after = meanings.means(ob, "covered"), meanings.means(oa, "covered")
        if covered_after and not covered_before:
            return "gained"
        if covered_before and not covered_after:
            return "revoked"
        return "relaxed" if meanings[oa].favour > meanings[ob].favour else "restricted"
    if (before.statement, before.criteria_met) != (after.statement, after.criteria_met):
        return "reason_changed"
    return None


def _roots(a: VersionData, b: VersionData) -> list[dict[str, Any]]:
    roots: list[dict[str, Any]] = []
    for data in (a, b):
        general = data.hierarchy.services.general
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


def _unnamed(a: VersionData, b: VersionData, roots: list[dict[str, Any]]) -> list[str]:
    """The service roots no fact of either version names but its label:
    no statement rules on them (or on a more general or specific form), no
    code reports them.  Both engines treat them all alike, so the diff
    explores the first and copies its regions to the others."""
    named: set[str] = set()
    for d in (a, b):
        ruled = {atom(sv) for _, sv in d.rows("applies_to")} | {atom(sv) for _, sv in d.rows("code_reports")}
        named |= d.hierarchy.services.related(ruled)
        named |= {atom(r[1]) for r in d.rows("code_qualifier")}
    return sorted(r["service"] for r in roots if set(r) == {"service"} and r["service"] not in named)


def _copy_to(regions: list[Region], alike: list[str]) -> list[Region]:
    """The regions of the first service of alike, repeated for the others."""
    if len(alike) < 2:
        return regions
    first = alike[0]

    def swap(d: dict[str, Any], s: str) -> dict[str, Any]:
        return {k: (s if k == "service" and v == first else v) for k, v in d.items()}

    out = list(regions)
    for r in regions:
        if r.root == {"service": first}:
            for s in alike[1:]:
                out.append(replace(r, root={"service": s}, witness=swap(r.witness, s),
                                   witness_reads={k: swap(v, s) for k, v in r.witness_reads.items()}))
    out.sort(key=lambda r: (KINDS.index(r.kind), str(sorted(r.root.items())), sorted(r.fixed.items())))
    return out


def diff(policy: Policy, a_ref: str, b_ref: str) -> DiffReport:
    """Which cases change from version (or draft) a_ref to b_ref, as regions."""
    start = time.perf_counter()
    va, vb = policy.resolve(a_ref), policy.resolve(b_ref)
    return diff_data(policy.data(va), policy.data(vb), start=start)


def diff_data(da: VersionData, db: VersionData, *, start: float | None = None,
              run: _Diff | None = None) -> DiffReport:
    """The diff of two versions' facts, whatever policy folders they come
    from (``covkb score`` diffs a candidate encoding against the reference,
    and reuses the run's answers)."""
    start = time.perf_counter() if start is None else start
    va, vb = da.version, db.version
    run = run if run is not None else _Diff(da, db)
    roots = _roots(run.da, run.db)
    alike = _unnamed(run.da, run.db, roots)
    for root in roots:
        if root.get("service") not in alike[1:]:
            run.explore(root)
    regions = run.widen()
    run.describe(regions)
    explored = len(regions)
    regions = _copy_to(regions, alike)
    words = Words.of(run.da.vocabulary, run.db.vocabulary)
    return DiffReport(va.id, vb.id, regions, run.examined, time.perf_counter() - start, words,
                      regions_copied=len(regions) - explored)


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
        self.ontology = self.da.hierarchy.findings.merged(self.db.hierarchy.findings)  # of either version
        self.findings = sorted(set(self.da.vocabulary.findings) | set(self.db.vocabulary.findings))
        self.settle = _Settle(self.da, self.db)
        self.meanings = self.da.outcomes.merged(self.db.outcomes)
        self.found: list[Found] = []
        self.codes_unknown_to_one_side = {
            c for x, y in ((self.da, self.db), (self.db, self.da)) if x.rows("partial_version")
            for c in set(y.vocabulary.codes) - set(x.vocabulary.codes)}
        self.conditional: list[Found] = []
        self.examined = 0

    track_conditional = True  # report regions decided before and open after

    def _found(self, root: dict[str, Any], fixed: dict[str, str], before: Answer, after: Answer, kind: str) -> None:
        """Keep a change; on a code only one side's (known) coding table lists,
        where the other side is only partly known, any change may be the
        unknown coding table's: maybe_changed."""
        if root.get("cpt") in self.codes_unknown_to_one_side and kind != "maybe_changed":
            kind = "maybe_changed"
        self.found.append((root, fixed, before, after, kind))

    def classify(self, before: Answer, after: Answer) -> str | None:
        return classify(before, after, self.meanings)

    def side(self, root: dict[str, Any]) -> tuple[_Side, _Side]:
        key = json.dumps(root, sort_keys=True) if self.sliced else ""
        if key not in self.sides:
            da, db = self.da, self.db
            if self.sliced:
                da, db = _slice(da, root), _slice(db, root)
            self.sides[key] = (_Side(da, self.ontology), _Side(db, self.ontology))
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
        if root.get("cpt") in self.codes_unknown_to_one_side:
            # whatever changes on it may be the unknown coding table's: one
            # region for the whole root, not explored further
            sa, sb = self.side(root)
            request = self.start(root)
            before, after = sa.answer(request), sb.answer(request)
            self.examined += 1
            if before.summary() != after.summary():
                self.found.append((root, {}, before, after, "maybe_changed"))
            return
        self._visit(root, self.start(root), {})

    def _visit(self, root: dict[str, Any], request: dict[str, Any], fixed: dict[str, str],
               conditional_above: bool = False) -> None:
        self.examined += 1
        sa, sb = self.side(root)
        before, after = sa.answer(request), sb.answer(request)
        # the same outcome, one side by several statements across its cases:
        # split until each side names its statement before comparing reasons
        several = before.decided and after.decided and before.outcome == after.outcome and \
            (before.statement is None) != (after.statement is None) and not self.meanings.means(before.outcome, "unknown")
        if before.settled and after.settled and not several:
            kind = self.classify(before, after)
            if kind:
                self._found(root, fixed, before, after, kind)
            return
        became = self.track_conditional and before.decided and not self.meanings.means(before.outcome, "unknown") \
            and not after.settled and after.error is None
        if became and not conditional_above:
            self.conditional.append((root, fixed, before, after, "became_conditional"))
        # facts first, the service and qualifiers last: a request that leaves
        # them open is a request of its own, compared before it is split
        candidates = sorted(before.variables + after.variables, key=lambda t: (t[1] in self.settle.selectors, t[0]))
        fact = None
        for _, var, _ in candidates:
            fact = self._next_fact(request, var)
            if fact is not None:
                break
        if fact is None and several:
            kind = self.classify(before, after)
            if kind:
                self._found(root, fixed, before, after, kind)
            return
        if (fact is None or fact in self.settle.selectors) and not (became or conditional_above):
            kind = self.classify(before, after)  # nothing but a selector (or nothing) decides it further
            if kind and kind != "became_conditional":
                self._found(root, fixed, before, after, kind)
        if fact is None:
            return  # nothing a request can say would decide it further
        if fact in self.settle.numbers:  # a number: split by the bands of its field, not one threshold
            for band in self.settle.bands(fact):
                nxt = request
                for f, x in band.items():
                    nxt = self.settle.fix(nxt, f, x)
                if nxt != request:
                    self._visit(root, nxt, {**fixed, **band}, conditional_above or became)
            return
        if fact in self.settle.selectors:
            values = sorted({x for _, v, xs in candidates if v == fact for x in xs})
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
        open_ = set(request["unknown_findings"])
        forms = [d for d in self.ontology.below({var}) if d in open_ and d != var]
        if forms:
            return max(forms, key=lambda d: (self._depth(d), d))
        if var in open_:
            return var
        up = [g for g in self.ontology.above({var}) if g != var and g in open_]
        return min(up, key=lambda g: (self._depth(g), g)) if up else None

    def _depth(self, f: str) -> int:
        return len(self.ontology.above({f})) - 1  # its more general forms

    # step 2: widen ---------------------------------------------------------
    def widen(self) -> list[Region]:
        """Each change found, as the largest region with the same change;
        changes that widen to the same region are one."""
        seen: set[tuple[Any, ...]] = set()
        regions: list[Region] = []
        for root, fixed, before, after, kind in self.conditional + self.found:
            cube = self._generalise(root, fixed, before, after, kind)
            key = (tuple(sorted(root.items())), kind, tuple(sorted(cube.items())))
            if key in seen:
                continue
            seen.add(key)
            if kind in ("broken", "repaired"):  # the valid side as it stands in the widened region
                sa, sb = self.side(root)
                req = self.request_for(root, cube)
                before, after = sa.answer(req), sb.answer(req)
            after_d = after.summary()
            listed = {k for k, v in cube.items() if v == "yes"}
            via = frozenset(k for k, v in cube.items() if v == "no" and self.ontology.below({k}) & listed)
            regions.append(Region(root, dict(sorted(cube.items())), kind, before.summary(), after_d, present_via=via))
        regions.sort(key=lambda r: (self.kinds.index(r.kind), str(sorted(r.root.items())), sorted(r.fixed.items())))
        return regions

    def _generalise(self, root: dict[str, Any], cube: dict[str, str], before: Answer, after: Answer,
                    kind: str) -> dict[str, str]:
        """Drop every fixed fact the change does not depend on (the engine
        decides, three-valued, whether the larger region still has it).  The
        facts of one number field go together: without some of them the
        request would still give a number, one value of the band, not every
        value (_Settle.tightest then keeps the two that bound the band)."""
        units: dict[str, list[str]] = {}
        for var in cube:
            units.setdefault(self.settle.numbers[var][0] if var in self.settle.numbers else var, []).append(var)
        for unit in reversed(list(units.values())):
            trial = {k: v for k, v in cube.items() if k not in unit}
            if self._same_change(root, trial, before, after, kind):
                cube = trial
        return self.settle.tightest(cube)

    def _same_change(self, root: dict[str, Any], cube: dict[str, str], before: Answer, after: Answer,
                     kind: str) -> bool:
        req = self.request_for(root, cube)
        sa, sb = self.side(root)
        b, a = sa.answer(req), sb.answer(req)
        if kind == "became_conditional":
            return b.decided and b.summary() == before.summary() and not a.settled and a.error is None
        if kind in ("broken", "repaired"):  # the same error, whatever the valid side says
            bad, good, was = (a, b, after) if kind == "broken" else (b, a, before)
            return bad.error == was.error and bad.error_certain and good.error is None and \
                not any(self.meanings.means(o, "unknown") for o in good.outcomes)
        return (b.settled, a.settled) == (before.settled, after.settled) and \
            (b.summary(), a.summary()) == (before.summary(), after.summary())

    # step 3: describe --------------------------------------------------------
    def describe(self, regions: list[Region]) -> None:
        """A witness request for each region, and what each side cites there."""
        for r in regions:
            req = self.request_for(r.root, r.fixed)
            sa, sb = self.side(r.root)
            r.witness = self._witness(r, req)
            r.witness_reads = {name: read for name, side in (("before", sa), ("after", sb))
                               if (read := side.reads(r.witness)) != r.witness}
            r.citations_before = _cited(self.da, sa.citations(req))
            r.citations_after = _cited(self.db, sb.citations(req))

    def _witness(self, r: Region, region_request: dict[str, Any]) -> dict[str, Any]:
        """The first request that gets the region's two outcomes: fully known
        (every other finding absent); else with only what the region still
        needs left unknown; else the region's own request."""
        sa, sb = self.side(r.root)
        missing = set(r.before.get("missing", ())) | set(r.after.get("missing", ()))
        whole = {k: v for k, v in region_request.items() if v != []}
        for w in (self.settle.witness(r), self.settle.witness(r, keep_open=missing), whole):
            if (sa.answer(w).outcome, sb.answer(w).outcome) == (r.before["outcome"], r.after["outcome"]):
                return w
        return whole


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
        # number rules, either side's: fact -> (field, "at_least" | "below", threshold)
        self.numbers: dict[str, tuple[str, str, int]] = {}
        for d in self.sides:
            for name, kind in (("number_at_least", "at_least"), ("number_below", "below")):
                for r in d.rows(name):
                    if atom(r[1]) in d.vocabulary.fields:
                        self.numbers.setdefault(atom(r[0]), (atom(r[1]), kind, r[2]))

    def domain(self, fact: str) -> tuple[str, ...]:
        return self.sides[1].vocabulary.fact_values.get(fact) or self.sides[0].vocabulary.domain(fact)

    def bands(self, fact: str) -> list[dict[str, str]]:
        """A number rule's fact split by every threshold either side sets on
        its field: one assignment of all those facts per band of the field
        (AHI 5 and 15 before, 5 and 20 after: below 5, 5-14, 15-19, 20 and
        more), so that fixing one of them never settles the others by the
        one number it writes."""
        name = self.numbers[fact][0]
        on = {f: (kind, n) for f, (fld, kind, n) in self.numbers.items() if fld == name}
        cuts = sorted({n for _, n in on.values()})
        lo, hi = next((d.vocabulary.fields[name].range for d in self.sides if name in d.vocabulary.fields))
        values = [v for v in (cuts[0] - 1, *cuts) if lo <= v <= hi]
        return [{f: "yes" if (v >= n if kind == "at_least" else v < n) else "no" for f, (kind, n) in sorted(on.items())}
                for v in values]

    def tightest(self, cube: dict[str, str]) -> dict[str, str]:
        """The cube with, of each number field's facts, only the highest floor
        and the lowest ceiling: the others follow from them."""
        best: dict[tuple[str, bool], tuple[int, str]] = {}
        for var, value in cube.items():
            if var in self.numbers and value in ("yes", "no"):
                name, kind, n = self.numbers[var]
                floor = (kind == "at_least") == (value == "yes")
                held = best.get((name, floor))
                if held is None or (n > held[0] if floor else n < held[0]):
                    best[(name, floor)] = (n, var)
        kept = {var for _, var in best.values()}
        return {k: v for k, v in cube.items() if k not in self.numbers or v not in ("yes", "no") or k in kept}

    def fix(self, request: dict[str, Any], var: str, value: str) -> dict[str, Any]:
        """The request with one more fact fixed, as request fields."""
        r = dict(request)
        if var in self.selectors:
            if value == "other":
                if var != "service":
                    r[var] = UNLISTED_VALUE
            else:
                r["service"] = value
        elif var in self.numbers and value in ("yes", "no") and self.numbers[var][0] in r:
            # a number the request already gives: moved only as far as this fact needs, so every
            # fact fixed before on the same field still holds (a band of its thresholds)
            name, kind, n = self.numbers[var]
            floor = (kind == "at_least") == (value == "yes")  # at least n, or (below n) no: n or more
            r[name] = max(r[name], n) if floor else min(r[name], n - 1)
        elif var in self.patient_facts:
            fields = next((f for d in self.sides if (f := d.realize(var, value)) is not None), {})
            for k, v in fields.items():
                r[k] = sorted(set(r.get(k, ())) | set(v)) if isinstance(v, list) else v
        else:  # a finding: listed present, or no longer listed as unknown
            if value == "yes":
                r["findings"] = sorted(set(r.get("findings", ())) | {var})
            r["unknown_findings"] = [f for f in r.get("unknown_findings", ()) if f != var]
        return r

    def witness(self, region: Region, keep_open: set[str] = frozenset()) -> dict[str, Any]:
        """A request in the region: its facts, every other finding absent
        (those in keep_open unknown), every scope fact the region does not
        fix (or keep open) in scope."""
        w: dict[str, Any] = dict(region.root)
        for fact in self.scope:
            if fact not in region.fixed and fact not in keep_open:
                w = self.fix(w, fact, "yes")
        for var, val in region.fixed.items():
            w = self.fix(w, var, val)
        open_findings = sorted(f for f in keep_open - set(region.fixed) - self.direct)
        if open_findings:
            w["unknown_findings"] = open_findings
        else:
            w.pop("unknown_findings", None)
        if not w.get("findings"):
            w.pop("findings", None)
        return {**w, **CLOSED_READING}  # every finding it does not list is absent


def _cited(data: VersionData, cites: frozenset[tuple[str, str]]) -> list[dict[str, str]]:
    """The region's citations on one side, in document order."""
    return [c.to_dict() for c in in_document_order(data, cites)]
