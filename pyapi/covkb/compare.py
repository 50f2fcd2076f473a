"""`covkb compare A B`: where two payers' policies decide differently.

The diff's region search (``diff._Diff``), run across two policies instead
of two versions of one: both policies read the same request language (the
shared vocabulary their policy.pl names), so every request by service both
can read is posed to both.  Regions are split on the facts either side
depends on until both decide, then widened to the largest region with the
same pair of answers.  Requests by CPT code are left out: a coding table
belongs to one payer, so a code means nothing to the other.

Classes of difference (A's answer against B's):
  covers_vs_denies      one says medically necessary, the other denies
                        (not medically necessary, not covered, experimental
                        and investigational, or criteria not met)
  denies_differently    both deny, in different outcome classes
  covers_differently    both cover, in different outcome classes
  refers_elsewhere      one refers to another policy or benefit
  not_addressed_by_one  one policy does not address the request
  unknown_on_one_side   one policy's known text does not reach it
  invalid_on_one_side   one policy finds the request invalid (e.g. its
                        statements conflict on it), the other decides

Every region carries a witness: a fully known request in it, decided again
by both engines on both policies (``Region.confirmed``).  The service ×
payer matrix summarises, per service, what each policy decides in scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .diff import Answer, Region, _Diff
from .errors import CovkbError, InvalidRequest
from .outcomes import Outcomes
from .policy import Policy, Version, VersionData
from .wording import Words

CLASSES = ("covers_vs_denies", "denies_differently", "covers_differently", "refers_elsewhere",
           "not_addressed_by_one", "unknown_on_one_side", "invalid_on_one_side")


def classify(a: str, b: str, meanings: Outcomes) -> str | None:
    """The class of difference between two outcomes (None: the same), by
    what each means (covkb.outcomes)."""
    if a == b:
        return None
    pair = {meanings[a].meaning, meanings[b].meaning}
    if "unknown" in pair:
        return "unknown_on_one_side"
    if "not_addressed" in pair:
        return "not_addressed_by_one"
    if "referred" in pair:
        return "refers_elsewhere"
    if pair == {"covered"}:
        return "covers_differently"
    if "covered" in pair:
        return "covers_vs_denies"
    return "denies_differently"


def parse_ref(ref: str) -> tuple[Policy, Version]:
    """POLICY or POLICY@VERSION (a policy id, number or folder; a version id)."""
    name, _, vid = ref.partition("@")
    if not name:
        raise InvalidRequest(f"{ref!r}: name a policy (POLICY or POLICY@VERSION)")
    policy = Policy(policy=name)
    return policy, policy.version(vid) if vid else policy.latest()


@dataclass
class Cell:
    """What one policy decides for one service, in scope: each outcome with
    the statement behind it and the facts every such case shares."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    meanings: Outcomes = field(default_factory=lambda: Outcomes(()), repr=False)

    def text(self, words: Words) -> str:
        parts = []
        for o in self.outcomes:
            cond = [words.phrase(w["fact"], w["value"]) for w in o["when"]]
            if o["criteria_met_in_some_case"] and self.meanings.means(o["outcome"], "covered"):
                cond.append("any of: " + ", ".join(o["criteria_met_in_some_case"]))
            parts.append(o["outcome"] + (f" [{o['statement']}]" if o["statement"] else "")
                         + (f" when {'; '.join(cond)}" if cond else ""))
        return " / ".join(parts) or "—"


@dataclass
class CompareReport:
    a: str
    b: str
    regions: list[Region]
    matrix: dict[str, dict[str, Cell]]        # service → side label → cell
    words: Words                              # the labels of both vocabularies, for the text forms
    regions_examined: int
    seconds: float
    confirmed: dict[int, dict[str, dict[str, str]]] = field(default_factory=dict)  # region index → side → engine → outcome
    scope_a: tuple[str, ...] = ()
    scope_b: tuple[str, ...] = ()

    def by_class(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.regions:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out

    def witness_ok(self, i: int) -> bool:
        r, got = self.regions[i], self.confirmed.get(i, {})
        want = {self.a: r.before["outcome"], self.b: r.after["outcome"]}
        return bool(got) and all(o == want[side] for side, engines in got.items() for o in engines.values())

    def groups(self) -> list[dict[str, Any]]:
        """The differences, one per logical cause: regions with the same
        class and the same reason on the side that differs (a statement, being
        out of scope, no statement, the unknown part of the text) are one
        difference, with the services it touches listed under it."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for i, r in enumerate(self.regions):
            key, title = self._cause(r)
            g = out.setdefault(key, {"class": r.kind, "difference": title, "outcomes": {self.a: [], self.b: []},
                                     "services": {}, "regions": [], "witness": r.witness,
                                     "witness_reproduces": self.witness_ok(i)})
            for side, ans in ((self.a, r.before), (self.b, r.after)):
                if ans["outcome"] not in g["outcomes"][side]:
                    g["outcomes"][side].append(ans["outcome"])
            svc = g["services"].setdefault(r.root["service"], {self.a: [], self.b: []})
            for side, ans in ((self.a, r.before), (self.b, r.after)):
                if ans["outcome"] not in svc[side]:
                    svc[side].append(ans["outcome"])
            g["regions"].append(i)
        return sorted(out.values(), key=lambda g: (CLASSES.index(g["class"]), g["difference"]))

    def _cause(self, r: Region) -> tuple[tuple[Any, ...], str]:
        sides = ((self.a, r.before, self.scope_a), (self.b, r.after, self.scope_b))
        if r.kind in ("not_addressed_by_one", "unknown_on_one_side"):
            special = "not_addressed" if r.kind == "not_addressed_by_one" else "unknown"
            name, ans, scope = next(x for x in sides if x[1]["outcome"] == special)
            out = [f for f in scope if r.fixed.get(f) == "no"]
            if out:
                why = f"{name} does not address it: {self.words.phrase(out[0], 'no')}"
            elif special == "not_addressed":
                why = f"{name}: no statement addresses the service"
            else:
                why = f"{name}: its known text does not reach it"
            return (r.kind, name, why), why
        a, b = r.before, r.after
        if r.kind == "refers_elsewhere":  # one cause: the referring statement, whatever the other says
            name, ans = next((n, x) for n, x in ((self.a, a), (self.b, b)) if x["outcome"] == "refer_to_other_policy")
            return (r.kind, name, ans["statement"]), f"{name} refers it elsewhere by {ans['statement']}"
        title = f"{self.a} by {a['statement']} · {self.b} by {b['statement']}"
        return (r.kind, a["statement"], b["statement"]), title

    def to_dict(self) -> dict[str, Any]:
        regions = []
        for i, r in enumerate(self.regions):
            d = r.to_dict()
            d["description"] = r.describe(self.words)
            d[self.a], d[self.b] = d.pop("before"), d.pop("after")
            d[f"citations {self.a}"], d[f"citations {self.b}"] = d.pop("citations_before"), d.pop("citations_after")
            d["class"] = d.pop("kind")
            d["witness_decided"] = self.confirmed.get(i, {})
            d["witness_reproduces"] = self.witness_ok(i)
            regions.append(d)
        groups = [{**g, "services": g["services"]} for g in self.groups()]
        return {"a": self.a, "b": self.b, "differences": len(groups), "differing_regions": len(self.regions),
                "by_class": self.by_class(), "all_witnesses_reproduce": all(map(self.witness_ok, range(len(self.regions)))),
                "differences_detail": groups,
                "regions_examined": self.regions_examined, "seconds": round(self.seconds, 3),
                "matrix": {svc: {side: cell.outcomes for side, cell in row.items()} for svc, row in self.matrix.items()},
                "regions": regions}


class _Compare(_Diff):
    """The diff's search with the classes of a comparison; every pair of
    answers where both decide is kept (for the matrix), not only differences."""

    kinds = CLASSES
    track_conditional = False

    def __init__(self, da: VersionData, db: VersionData) -> None:
        super().__init__(da, db)
        self.leaves: list[tuple[dict[str, Any], dict[str, str], Answer, Answer]] = []

    def classify(self, before: Answer, after: Answer) -> str | None:
        if (before.error is None) != (after.error is None):
            return "invalid_on_one_side"
        if not (before.decided and after.decided):
            return None  # both invalid, or a region nothing more can decide
        return classify(before.outcome, after.outcome, self.meanings)

    def _visit(self, root: dict[str, Any], request: dict[str, Any], fixed: dict[str, str],
               conditional_above: bool = False) -> None:
        if self.da.vocabulary.out_of_bounds(request) or self.db.vocabulary.out_of_bounds(request):
            return  # counts no request may give (field_at_most/3): no patient is here
        sa, sb = self.side(root)
        before, after = sa.answer(request), sb.answer(request)
        if before.decided and after.decided:
            self.leaves.append((root, fixed, before, after))
        super()._visit(root, request, fixed, conditional_above)


def compare(a_ref: str, b_ref: str, *, confirm: bool = True,
            resolve: Callable[[str], tuple[Policy, Version]] | None = None) -> CompareReport:
    """Where policy A (at a version) and policy B decide differently; ``resolve``
    reads a reference (parse_ref by default; the service's reads drafts too)."""
    start = time.perf_counter()
    (pa, va), (pb, vb) = map(resolve or parse_ref, (a_ref, b_ref))
    da, db = pa.data(va), pb.data(vb)
    name_a, name_b = f"{pa.number}@{va.id}", f"{pb.number}@{vb.id}"
    if name_a == name_b:
        raise InvalidRequest(f"compare {name_a} with another policy or version")
    shared = set(da.vocabulary.services) & set(db.vocabulary.services)
    general = da.hierarchy.services.general | db.hierarchy.services.general
    run = _Compare(da, db)
    roots = [{"service": s} for s in sorted(shared - general)]
    for root in roots:
        run.explore(root)
    regions = run.widen()
    run.describe(regions)  # a witness and the citations of each side
    words = Words.of(da.vocabulary, db.vocabulary)
    report = CompareReport(name_a, name_b, regions, _matrix(run, roots, name_a, name_b), words, run.examined, 0.0,
                           scope_a=da.vocabulary.scope, scope_b=db.vocabulary.scope)
    if confirm:
        report.confirmed = _confirm(regions, (pa, va, name_a), (pb, vb, name_b))
    report.seconds = time.perf_counter() - start
    return report


def _matrix(run: _Compare, roots: list[dict[str, Any]], name_a: str, name_b: str) -> dict[str, dict[str, Cell]]:
    """Per service and side: each outcome reached in scope (every scope
    fact yes or left open), with the statement behind it, the patient facts
    all its cases share, and the criteria met in any of them."""
    scope = set(run.settle.scope)
    findings = set(run.findings)
    out: dict[str, dict[str, Cell]] = {}
    for root in roots:
        groups: dict[int, dict[tuple[str, str], list[tuple[dict[str, str], frozenset[str]]]]] = {0: {}, 1: {}}
        for r, fixed, before, after in run.leaves:
            if r != root or any(fixed.get(f, "yes") != "yes" for f in scope):
                continue
            for i, ans in enumerate((before, after)):
                groups[i].setdefault((ans.outcome, ans.statement or ""), []).append((fixed, ans.criteria_met))
        row = {}
        for i, name in enumerate((name_a, name_b)):
            cell = Cell(meanings=run.meanings)
            for (outcome, statement), cases in sorted(groups[i].items()):
                first = cases[0][0]
                common = {k: v for k, v in first.items()
                          if k not in scope and k not in findings and all(f.get(k) == v for f, _ in cases)}
                cell.outcomes.append({
                    "outcome": outcome, "statement": statement or None,
                    "when": [{"fact": k, "value": v} for k, v in sorted(common.items())],
                    "criteria_met_in_some_case": sorted(set().union(*(c for _, c in cases))),
                })
            row[name] = cell
        out[root["service"]] = row
    return out


def _confirm(regions: list[Region], *sides: tuple[Policy, Version, str]) -> dict[int, dict[str, dict[str, str]]]:
    """Each region's witness decided by both engines on both policies."""
    from .kb import KnowledgeBase

    out: dict[int, dict[str, dict[str, str]]] = {i: {} for i in range(len(regions))}
    for policy, version, name in sides:
        for engine in ("prolog", "asp"):
            kb = KnowledgeBase(engine=engine, policy=policy)
            for i, r in enumerate(regions):
                try:
                    got = kb.determine(r.witness, explain=False, version=version).outcome
                except CovkbError as exc:
                    got = f"error: {exc.code}"
                out[i].setdefault(name, {})[engine] = got
    return out


__all__ = ["compare", "classify", "CompareReport", "CLASSES", "parse_ref"]
