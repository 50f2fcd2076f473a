"""Determinations: the typed answers the API returns.

An engine resolves the request, derives what it settles and decides every
completion of what it leaves unknown, returning one ``Case`` per completion
with its derivation (built from the engine's trace by covkb.explain).  The rest is written here once, for both engines:
aggregating the cases into the three-valued outcome (``aggregate``), the
unknowns the outcome depends on, the citations and the notices, all read off
the derivations.  Never raw pyswip or clingo values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import sentences
from .limits import DEFAULT_UNLISTED
from .node import Node
from .outcomes import Outcomes
from .policy import VersionData
from .wording import Words


@dataclass(frozen=True, slots=True)
class Citation:
    section: str          # section id in the KB
    section_path: str     # "Coverage Policy > Treatment"
    quote: str            # verbatim in the version's source text

    def to_dict(self) -> dict[str, str]:
        return {"section": self.section_path, "quote": self.quote}


@dataclass(frozen=True, slots=True)
class Case:
    """One completion of the unknowns and what the policy decides in it."""

    assign: tuple[tuple[str, Any, int], ...]   # (variable, value, rank), in variable order
    outcome: str
    statement: str | None
    criteria_met: tuple[str, ...]
    referral: str | None
    proof: dict[str, Any]                      # the derivation, built from the engine's trace (covkb.explain)

    def values(self) -> dict[str, Any]:
        return {v: x for v, x, _ in self.assign}

    def order(self) -> tuple[Any, ...]:
        return tuple(value_order(x) for _, x, _ in self.assign)


def value_order(value: Any) -> tuple[int, str]:
    """The order cases are listed in: yes before no, a code's other services last."""
    if value == "yes":
        return (0, "")
    if value == "no":
        return (1, "")
    if value in ("other", "unlisted_code"):
        return (3, str(value))
    return (2, str(value))


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", ()):
        yield from walk(child)


def cited(nodes: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every quote a derivation shows, with the section it stands in: a node's
    quote, a statement's quotes, a code's heading and note."""
    out: set[tuple[str, str]] = set()
    for n in nodes:
        sec = n.get("section")
        if sec is None:
            continue
        for key in ("quote", "heading", "note"):
            if n.get(key) is not None:
                out.add((sec, n[key]))
        out.update((sec, q) for q in n.get("quotes") or ())
    return out


def three_valued(outcomes: Iterable[str]) -> tuple[str, list[str]]:
    """The outcome of cases with these outcomes, and the possible outcomes:
    the one outcome when they agree (none listed as possible), else
    insufficient_information with every outcome, sorted."""
    possible = sorted(set(outcomes))
    return (possible[0], []) if len(possible) == 1 else ("insufficient_information", possible)


def in_document_order(data: VersionData, cites: Iterable[tuple[str, str]]) -> tuple[Citation, ...]:
    """(section id, quote) pairs as citations, in the order their quotes
    stand in the version's source text."""
    ordered = sorted(cites, key=lambda sq: (data.quote_position(sq[1]), sq[1]))
    return tuple(Citation(s, data.section_path(s), q) for s, q in ordered)


def aggregate(cases: list[Case], *, explain: bool = True) -> dict[str, Any]:
    """The three-valued determination over an engine's cases: an outcome
    when every case agrees; else insufficient_information, the possible
    outcomes, and the unknowns on which the outcome depends (an unknown is
    missing when changing it alone changes the outcome in some case)."""
    cases = sorted(cases, key=Case.order)
    outcome, possible = three_valued(c.outcome for c in cases)
    statements = {c.statement for c in cases}
    referrals = {c.referral for c in cases}
    missing = [v for v, _, _ in cases[0].assign if _essential(v, cases)] if possible else []
    nodes = [n for c in cases for n in walk(c.proof)]
    notices = sorted({(n.get("id"), n.get("code"), n.get("section"), n.get("quote"))
                      for n in nodes if n.get("kind") == "notice"}, key=str)
    answer: dict[str, Any] = {
        "outcome": outcome,
        "statement": statements.pop() if len(statements) == 1 else None,
        "criteria_met": sorted(set.intersection(*(set(c.criteria_met) for c in cases))),
        "missing": missing,
        "possible_outcomes": possible,
        "referral": referrals.pop() if len(referrals) == 1 else None,
        "citations": cited(nodes),
        "notices": notices,
    }
    if explain:
        if len(cases) == 1 and not cases[0].assign:
            children = [cases[0].proof]
        else:
            children = [{"kind": "case", "assume": [{"fact": v, "value": x, "rank": r} for v, x, r in c.assign],
                         "outcome": c.outcome, "statement": c.statement, "children": [c.proof]} for c in cases]
        answer["explanation"] = {"kind": "determination", "outcome": outcome, "statement": answer["statement"],
                                 "children": children}
    else:  # what the summary reads of the derivation (each case's digest derives it): its deciding facts
        answer["deciding"] = sentences.deciding(outcome, [(c.assign, c.proof["derive"]) for c in cases])
    return answer


def _essential(var: str, cases: list[Case]) -> bool:
    """Two cases that differ only in var have different outcomes."""
    seen: dict[tuple[tuple[str, Any], ...], set[str]] = defaultdict(set)
    for c in cases:
        seen[tuple((v, x) for v, x, _ in c.assign if v != var)].add(c.outcome)
    return any(len(os) > 1 for os in seen.values())


@dataclass(frozen=True, slots=True)
class Notice:
    """A rule beside the determination (e.g. how claims with a code the table
    does not list are treated), cited from the derivation."""

    id: str
    code: str | None
    section_path: str
    quote: str
    table_known: bool = True   # False: the version is only partly known, its coding table with it

    def __str__(self) -> str:
        where = "this policy's coding table" if self.table_known else \
            "what is known of this version, whose coding table may be incomplete or unknown"
        what = f"CPT {self.code} is not in {where}; " if self.code else ""
        return f"{what}[{self.section_path}] \"{self.quote}\""


@dataclass(frozen=True, slots=True)
class Determination:
    outcome: str
    policy: str
    version: str
    statement: str | None
    criteria_met: tuple[str, ...]
    missing: tuple[str, ...]
    possible_outcomes: tuple[str, ...]
    referral: str | None
    citations: tuple[Citation, ...]
    explanation: Node
    warnings: tuple[str, ...] = ()
    engine: str = field(default="prolog", compare=False)
    notices: tuple[Notice, ...] = ()
    # what each outcome of the answer and its derivation means (kb/vocabulary.pl)
    meanings: Outcomes = field(default_factory=lambda: Outcomes(()), compare=False, repr=False)
    # how the request read a finding it does not list: unknown (the default) or absent
    unlisted_findings: str = DEFAULT_UNLISTED
    # how its ids read in words (kb/: templates and labels): covkb.sentences reads the answer through it
    words: Words | None = field(default=None, compare=False, repr=False)
    # without the explanation: its deciding facts (covkb.sentences.deciding), what the summary is read from
    deciding: Node | None = field(default=None, compare=False, repr=False)
    # its summary once read off them (an answer from a compiled table is handed out many times)
    _said: list[str] = field(default_factory=list, init=False, compare=False, repr=False)

    @classmethod
    def from_cases(
        cls, cases: list[Case], *, policy: str, data: VersionData, warnings: list[str], engine: str,
        explain: bool = True, unlisted_findings: str = DEFAULT_UNLISTED,
    ) -> Determination:
        raw = aggregate(cases, explain=explain)
        tree = Node.from_dict(raw["explanation"]) if "explanation" in raw else Node("omitted", ())
        return cls._from_aggregate(raw, tree, policy=policy, data=data, warnings=warnings, engine=engine,
                                   unlisted_findings=unlisted_findings)

    @classmethod
    def _from_aggregate(cls, raw: dict[str, Any], tree: Node, *, policy: str, data: VersionData,
                        warnings: list[str], engine: str, unlisted_findings: str) -> Determination:
        known = data.version.knowledge != "partial"
        notices = tuple(Notice(i, c, data.section_path(s), q, known) for i, c, s, q in raw["notices"])
        return cls(
            outcome=raw["outcome"],
            policy=policy,
            version=data.version.id,
            statement=raw.get("statement"),
            criteria_met=tuple(sorted(raw.get("criteria_met", ()))),
            missing=tuple(raw.get("missing", ())),
            possible_outcomes=tuple(sorted(raw.get("possible_outcomes", ()))),
            referral=raw.get("referral"),
            citations=in_document_order(data, raw["citations"]),
            explanation=tree,
            warnings=tuple(warnings) + tuple(str(n) for n in notices),
            engine=engine,
            notices=notices,
            meanings=data.outcomes,
            unlisted_findings=unlisted_findings,
            words=Words.of(data.vocabulary),
            deciding=Node.from_dict(raw["deciding"]) if raw.get("deciding") is not None else None,
        )

    def to_dict(self, *, explanation: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "outcome": self.outcome,
            "policy": self.policy,
            "version": self.version,
            "statement": self.statement,
            "criteria_met": list(self.criteria_met),
            "missing": list(self.missing),
            "possible_outcomes": list(self.possible_outcomes),
            "referral": self.referral,
            "citations": [c.to_dict() for c in self.citations],
            "warnings": list(self.warnings),
            "notices": [{"id": n.id, "code": n.code, "section": n.section_path, "quote": n.quote} for n in self.notices],
            "unlisted_findings": self.unlisted_findings,
        }
        if self.explanation.kind != "omitted":  # in words, read off the derivation
            words = self.reading().to_dict()
            d = {"outcome": d.pop("outcome"), "summary": words.pop("summary"), **d, **words}
        elif self.deciding is not None:  # without it, the summary, read off its deciding facts
            if not self._said:
                self._said.append(self.reading().summary)
            d = {"outcome": d.pop("outcome"), "summary": self._said[0], **d}
        if explanation:
            d["explanation"] = self.explanation.to_dict()
        return d

    def reading(self) -> sentences.Reading:
        """The answer in words, decision first (covkb.sentences); without the
        explanation, the summary alone is read, off the deciding facts."""
        if self.explanation.kind == "omitted" and self.deciding is not None:
            return sentences.read(self, self.deciding)
        return sentences.read(self)

    def comparable(self) -> dict[str, Any]:
        """The fields two engines must agree on."""
        d = self.to_dict(explanation=False)
        d.pop("warnings")
        return d
