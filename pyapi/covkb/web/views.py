"""What the pages show, read off a determination's derivation and a version's
facts: the explanation tree, the questions an undecided answer asks, the
policy text with the sentences its statements quote.

Every line of the tree is ``render.label``'s wording of a derivation node,
every question and its answers come from the cases the engine decided;
nothing here decides or words a policy's content on its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

from .. import render
from ..determination import Node
from ..facts import Fact, atom
from ..policy import VersionData, normalise_quote
from ..wording import Words

QuoteHref = Callable[[str], str]


def quote_anchor(quote: str) -> str:
    """The policy page's anchor of a quote: the same for every fact quoting it."""
    return "q-" + hashlib.sha1(normalise_quote(quote).encode()).hexdigest()[:10]


def quote_href(policy: str, version: str, quote: str) -> str:
    """Where the policy view shows a quote (policy by its number)."""
    return f"/policy/{policy}/{version}#{quote_anchor(quote)}"


def node_link(policy: str, version: str) -> Callable[[Node], str | None]:
    """A derivation node → the policy view of the first quote it shows."""
    def link(n: Node) -> str | None:
        q = render.label_quote(n) or next((t for k, t, _ in render.detail_items(n) if k == "quote"), None)
        return quote_href(policy, version, q) if q else None
    return link


def tone(outcome: str, favour: dict[str, int]) -> str:
    """good | bad | open | neutral: the outcome's colour class, from how
    favourable to coverage the vocabulary ranks it (outcome_favour/2)."""
    if outcome == "insufficient_information":
        return "open"
    rank, top = favour.get(outcome), max(favour.values(), default=0)
    if rank is None:
        return "neutral"
    if rank == top:
        return "good"
    return "bad" if rank < favour.get("insufficient_information", top) else "neutral"


# -- the explanation tree --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Item:
    kind: str              # quote | note | referral | interpretation | interpretation_seen
    text: str
    section: str | None    # the section path
    href: str | None       # the quote in the policy view


@dataclass(frozen=True, slots=True)
class TreeNode:
    id: str                # n0-2-1: the path of child indexes
    kind: str
    label: str
    state: str | None      # yes | no (holds / applies), or None
    quote_href: str | None # the policy view of the quote the label shows
    items: tuple[Item, ...]
    children: tuple[TreeNode, ...]
    open: bool


def tree(explanation: dict[str, Any], data: VersionData, href: QuoteHref) -> TreeNode:
    """The derivation as the page's collapsible tree.  Nodes that hold (or
    the statement that decides) start open; what did not apply starts shut."""
    seen: set[str] = set()

    def build(n: Node, path: str, depth: int) -> TreeNode:
        holds = n.get("holds") if n.get("holds") is not None else n.get("applies")
        state = "yes" if holds is True else "no" if holds is False else None
        items = tuple(Item(kind, text, data.section_path(sec) if sec else None,
                           href(text) if kind == "quote" else None)
                      for kind, text, sec in render.detail_items(n, seen))
        q = render.label_quote(n)
        kids = tuple(build(c, f"{path}-{i}", depth + 1) for i, c in enumerate(n.children))
        return TreeNode(path, n.kind, render.label(n), state, href(q) if q else None, items, kids,
                        open=depth < 2 or state != "no")

    return build(Node.from_dict(explanation), "n0", 0)


# -- questions: the unknowns an undecided answer depends on ------------------------

@dataclass(frozen=True, slots=True)
class Answer:
    value: str
    label: str
    outcomes: tuple[str, ...]       # what the cases with this value decide
    settles: dict[str, Any] | None  # request fields that state it; None when a request cannot


@dataclass(frozen=True, slots=True)
class Question:
    fact: str
    label: str
    answers: tuple[Answer, ...]


def questions(det: dict[str, Any], request: dict[str, Any], data: VersionData, words: Words) -> list[Question]:
    """One question per missing unknown, its answers the values the engine's
    cases gave it, each with the outcomes those cases reached and the request
    fields that state it (None where a request cannot: "another service")."""
    cpt = request.get("cpt")
    missing = list(det.get("missing") or ())
    if not missing:
        return []
    cases = [c for c in (det.get("explanation") or {}).get("children", ()) if c.get("kind") == "case"]
    vocab = data.vocabulary
    out = []
    for fact in missing:
        reached: dict[str, list[str]] = {}
        for c in cases:
            for a in c.get("assume", ()):
                if a["fact"] == fact:
                    got = reached.setdefault(str(a["value"]), [])
                    if c["outcome"] not in got:
                        got.append(c["outcome"])
        answers = []
        for value, outcomes in reached.items():
            if fact == "service":
                settles = None if value == "other" else {fact: value}
            elif fact in vocab.qualifiers:  # a qualifier's case names the service it makes the code report
                said = [atom(r[3]) for r in data.rows("code_qualifier")
                        if r[0] == cpt and atom(r[1]) == value and atom(r[2]) == fact]
                settles = {fact: said[0]} if said else None
            else:
                settles = data.realize(fact, value)
            label = value if not (fact == "service" or fact in vocab.qualifiers) else \
                "another one" if value == "other" else words.label(value)
            answers.append(Answer(value, label, tuple(outcomes), settles))
        label = vocab.qualifiers.get(fact) or ("Which service" if fact == "service" else words.label(fact))
        out.append(Question(fact, label, tuple(answers)))
    return out


# -- the literate policy view ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Note:
    """An encoding shown beside the text: a statement with all its facts, or
    one fact quoting the text that belongs to no statement."""

    id: str                  # st-ID for a statement, else the quote's enc-anchor
    kind: str                # statement | interpretation | not_formalised | fact
    title: str
    facts: tuple[tuple[str, str], ...]  # (fact as both engines read it, its kind)
    quotes: tuple[str, ...]  # anchors of the quotes it holds
    statement: str | None


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    anchors: tuple[str, ...]  # quote anchors starting here
    quotes: tuple[str, ...]   # quote anchors covering it (empty: plain text)
    kind: str                 # the strongest kind of fact quoting it


@dataclass(frozen=True, slots=True)
class Paragraph:
    segments: tuple[Segment, ...]
    notes: tuple[Note, ...]       # the encodings placed beside it
    quoted_by: tuple[str, ...]    # statements quoting it whose note stands elsewhere


@dataclass(frozen=True, slots=True)
class Literate:
    paragraphs: tuple[Paragraph, ...]
    elsewhere: tuple[Note, ...]   # encodings of quotes not found in this text
    quote_owner: dict[str, str]   # quote anchor → the id of the note it leads to


_KIND_RANK = {"not_formalised": 3, "interpretation": 2, "statement": 1, "fact": 0}


def _kind(name: str) -> str:
    return name if name in ("not_formalised", "interpretation") else "fact"


def literate(data: VersionData, text: str, outcome_label: Callable[[str], str]) -> Literate:
    """The text as published, cut into paragraphs; each stretch a fact
    quotes is marked, and each statement (all its facts) or statement-less
    quoting fact is placed beside the paragraph holding its last quote."""
    text = text.replace("**", "")
    statements = data.vocabulary.statements
    quote_pos = {id(f): [f.args[i] for i in _quote_positions(f)] for f, _ in data.quotes()}

    notes: list[Note] = []
    for st in sorted(statements):
        own = [f for f, o in zip(data.facts, data.fact_owners) if st in o]
        quotes = [q for f in own for q in quote_pos.get(id(f), ())]
        if not own:
            continue
        kinds = tuple((str(f), _kind(f.name) if f.name != "statement" else "statement") for f in own)
        notes.append(Note(f"st-{st}", "statement", outcome_label(statements[st]), kinds,
                          tuple(dict.fromkeys(quote_anchor(q) for q in quotes)), st))
    in_statements = {text for n in notes for text, _ in n.facts}
    loose: dict[str, list[Fact]] = {}
    for f, q in data.quotes():
        if str(f) not in in_statements and f not in loose.setdefault(quote_anchor(q), []):
            loose[quote_anchor(q)].append(f)
    for a, fs in loose.items():
        kind = max((_kind(f.name) for f in fs), key=_KIND_RANK.__getitem__)
        title = ", ".join(dict.fromkeys(f.name.replace("_", " ") for f in fs))
        notes.append(Note(f"enc-{a}", kind, title, tuple((str(f), _kind(f.name)) for f in fs), (a,), None))

    quote_text = {quote_anchor(q): q for _, q in data.quotes()}
    spans: dict[str, tuple[int, int]] = {}
    for a, q in quote_text.items():
        words = normalise_quote(q).split(" ")
        m = re.search(r"\s+".join(map(re.escape, words)), text) if words != [""] else None
        if m:
            spans[a] = m.span()
    kind_of: dict[str, str] = {}
    for n in notes:
        for a in n.quotes:
            if _KIND_RANK[n.kind] >= _KIND_RANK.get(kind_of.get(a, "fact"), 0):
                kind_of[a] = n.kind
    owner = {}
    for n in notes:  # a quote leads to its most specific note: the one holding fewest quotes
        for a in n.quotes:
            if a not in owner or len(n.quotes) < owner[a][0]:
                owner[a] = (len(n.quotes), n.id)

    bounds = [m.span() for m in re.finditer(r"\S.*?(?=\n\s*\n|\Z)", text, re.S)]

    def paragraph_of(pos: int) -> int:
        return next((i for i, (s, e) in enumerate(bounds) if s <= pos < e), -1)

    placed: dict[int, list[Note]] = {}
    elsewhere = []
    for n in notes:
        found = [spans[a] for a in n.quotes if a in spans]
        if found:
            placed.setdefault(paragraph_of(max(found)[0]), []).append(n)
        else:
            elsewhere.append(n)
    placed_at = {n.id: i for i, ns in placed.items() for n in ns}

    paragraphs = []
    for i, (start, end) in enumerate(bounds):
        inside = [(max(s, start), min(e, end), a) for a, (s, e) in spans.items() if s < end and e > start]
        cuts = sorted({start, end, *(s for s, _, _ in inside), *(e for _, e, _ in inside)})
        segs = []
        for lo, hi in zip(cuts, cuts[1:]):
            cover = tuple(a for s, e, a in sorted(inside) if s <= lo and e >= hi)
            starts = tuple(a for a, (s, _) in spans.items() if s == lo and start <= s < end)
            k = max((kind_of.get(a, "fact") for a in cover), key=_KIND_RANK.__getitem__) if cover else ""
            segs.append(Segment(text[lo:hi], starts, cover, k))
        here = {a for _, _, a in inside}
        others = tuple(n.statement for n in notes if n.statement and placed_at.get(n.id) != i and here & set(n.quotes))
        paragraphs.append(Paragraph(tuple(segs), tuple(placed.get(i, ())), others))
    return Literate(tuple(paragraphs), tuple(elsewhere), {a: o[1] for a, o in owner.items()})


def _quote_positions(f: Fact) -> list[int]:
    from ..facts import kb_schema

    return kb_schema().positions(f.name, "quote")
