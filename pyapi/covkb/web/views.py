"""What the pages show, read off a determination's derivation and a version's
facts: the explanation tree, the questions an undecided answer asks, the
policy text with the sentences its statements quote.

Every line of the tree is ``covkb.render.label``'s wording of a derivation node,
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
from ..facts import Fact, Term, atom
from ..outcomes import Outcomes
from ..policy import VersionData, normalise_quote
from ..wording import Words
from .text import clean

QuoteHref = Callable[[str, "str | None"], str]  # (quote, the statement it is read in) → its place


def quote_anchor(quote: str) -> str:
    """The policy page's anchor of a quote: the same for every fact quoting it."""
    return "q-" + hashlib.sha1(normalise_quote(quote).encode()).hexdigest()[:10]


def quote_href(policy: str, version: str, quote: str, statement: str | None = None) -> str:
    """Where the policy view shows a quote (policy by its number): as the
    statement quotes it, when the quote is read within one."""
    anchor = statement_anchor(statement, quote) if statement else quote_anchor(quote)
    return f"/policy/{policy}/{version}#{anchor}"


# The nodes whose quotes are their statement's own words (its requires, criteria, criterion facts);
# any other node's quote (a fact's number rule, a code) is not the statement's.
_STATEMENT_WORDS = ("statement", "requirement", "criteria", "criterion", "criterion_group")


def _statement_of(n: Node, above: str | None) -> str | None:
    return above if n.kind in _STATEMENT_WORDS else None


def _statements_above(root: Node) -> dict[int, str | None]:
    """Each node (by identity) → the statement whose words it quotes, if any."""
    out: dict[int, str | None] = {}

    def walk(n: Node, st: str | None) -> None:
        st = n.get("id") if n.kind == "statement" else st
        out[id(n)] = _statement_of(n, st)
        for c in n.children:
            walk(c, st)

    walk(root, None)
    return out


def node_link(policy: str, version: str, root: Node) -> Callable[[Node], str | None]:
    """A node of this derivation → the policy view of the first quote it shows."""
    within = _statements_above(root)

    def link(n: Node) -> str | None:
        q = render.label_quote(n) or next((t for k, t, _ in render.detail_items(n) if k == "quote"), None)
        return quote_href(policy, version, q, within.get(id(n))) if q else None
    return link


def tone(outcome: str, meanings: Outcomes) -> str:
    """favourable | adverse | open | neutral: the outcome's colour class, as
    its meaning is declared to be drawn (meaning_tone/2)."""
    return meanings[outcome].tone


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
    """The derivation as the page's collapsible tree, each node a line in the
    policy's labels (covkb.render.label, as text and Markdown word it).
    Nodes that hold (or the statement that decides) start open; what did not
    apply starts shut."""
    seen: set[str] = set()
    words = Words.of(data.vocabulary)

    def build(n: Node, path: str, depth: int, st: str | None, section: str | None = None) -> TreeNode:
        st = n.get("id") if n.kind == "statement" else st
        holds = n.get("holds") if n.get("holds") is not None else n.get("applies")
        if n.kind == "statement" and holds and n.get("outcome") != n.get("decides"):
            holds = False  # it applies, but its criteria are not met: never a green mark under a denial
        state = "yes" if holds is True else "no" if holds is False else None
        own = _statement_of(n, st)
        items = tuple(Item(kind, text, data.section_path(sec) if sec else None,
                           href(text, own) if kind == "quote" else None)
                      for kind, text, sec in render.detail_items(n, seen, section))
        q = render.label_quote(n)
        kids = tuple(build(c, f"{path}-{i}", depth + 1, st, n.get("section") or section) for i, c in enumerate(n.children))
        # the line in words; the page marks the node by its state
        return TreeNode(path, n.kind, render.label(n, words, st), state, href(q, own) if q else None,
                        items, kids,
                        open=depth < 2 or state != "no")

    return build(Node.from_dict(explanation), "n0", 0, None)


# -- questions: the unknowns an undecided answer depends on ------------------------

@dataclass(frozen=True, slots=True)
class Answer:
    value: str
    label: str
    outcomes: tuple[str, ...]       # what the cases with this value decide
    settles: dict[str, Any] | None  # request fields that state it; None when a request cannot
    clears: tuple[str, ...]         # unknown findings it settles: "no" settles every more specific form too


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
            # in words, as covkb.sentences asks it (the page shows these where the reading has no question)
            label = words.clause(fact, value) if not (fact == "service" or fact in vocab.qualifiers) else \
                "another one" if value == "other" else words.label(value)
            clears = tuple(sorted(data.hierarchy.findings.below({fact}))) if value == "no" else (fact,)
            answers.append(Answer(value, label, tuple(outcomes), settles, clears))
        label = "Which service is it?" if fact == "service" else words.question(fact)
        out.append(Question(fact, label, tuple(answers)))
    return out


# -- the literate policy view ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Note:
    """An encoding shown beside the text: a statement or a code with all
    its facts, or the facts quoting one passage that belong to neither."""

    id: str                  # st-ID, code-CODE, or enc-ANCHOR
    kind: str                # statement | code | interpretation | not_formalised | fact
    title: str
    facts: tuple[tuple[str, str], ...]  # (fact as both engines read it, its kind)
    quotes: tuple[tuple[str, str], ...]  # (anchor, quote) of the passages it quotes, in its order
    statement: str | None


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    anchors: tuple[str, ...]  # anchors starting here
    kind: str                 # the strongest kind of fact quoting it ("" for plain text)
    note: str | None          # the note it leads to: the innermost quote's


@dataclass(frozen=True, slots=True)
class Paragraph:
    segments: tuple[Segment, ...]
    notes: tuple[Note, ...]       # the encodings placed beside it
    quoted_by: tuple[str, ...]    # statements quoting it whose note stands elsewhere
    heading: int | None           # the depth of the section whose title it is, if it is one


@dataclass(frozen=True, slots=True)
class Literate:
    paragraphs: tuple[Paragraph, ...]
    elsewhere: tuple[Note, ...]   # encodings whose passages are not in this text
    unplaced: tuple[str, ...]     # anchors of quotes not found in the text (each note shows them)


_KIND_RANK = {"not_formalised": 4, "interpretation": 3, "statement": 2, "code": 1, "fact": 0}


def _kind(name: str) -> str:
    return name if name in ("not_formalised", "interpretation") else "fact"


def statement_anchor(statement: str, quote: str) -> str:
    """The anchor of a statement's own occurrence of a quote (a sentence may
    stand twice in a policy: each statement's is the one after its words)."""
    return f"s-{statement}-{quote_anchor(quote)[2:]}"


def _ids(v: Any) -> set[str]:
    if isinstance(v, Term):
        return {v.name} | {x for a in v.args for x in _ids(a)} if v.args else {v.name}
    return {v} if isinstance(v, str) else set()


def _interpreted(data: VersionData) -> dict[int, list[Fact]]:
    """Which facts each interpretation is about: its subject names the fact
    (name and leading arguments), or, an id alone, the quoting facts naming it."""
    out: dict[int, list[Fact]] = {}
    quoting = [f for f, _ in data.quotes()]
    for i, f in enumerate(data.facts):
        if f.name != "interpretation" or not f.args:
            continue
        subject = f.args[0]
        if isinstance(subject, Term) and subject.args:
            n = len(subject.args)
            out[i] = [g for g in data.facts if g.name == subject.name and g.args[:n] == subject.args]
        else:
            name = subject.name if isinstance(subject, Term) else subject
            out[i] = [g for g in data.facts if g.name == name] + \
                     [g for g in quoting if g.name != "interpretation" and name in {x for a in g.args for x in _ids(a)}]
    return out


def literate(data: VersionData, text: str, outcome_label: Callable[[str], str]) -> Literate:
    """The text as published, cut into paragraphs.  Each passage a fact
    quotes is marked with the kind of fact; a statement's quotes are found
    in order after its own first quote (so a list the policy repeats is
    read where the statement stands); each statement and each code, with
    all its facts, stands beside the paragraph of its own words, as does
    every other fact quoting the text; interpretations join the note of the
    fact they are about."""
    text = clean(text)  # the text as it reads, without its extraction's markup (quotes are cleaned alike)
    groups, readings, interpreted = _note_groups(data, outcome_label)
    notes, spans, own_words, unplaced = _place_quotes(text, groups, readings, interpreted)
    paragraphs, elsewhere = _paragraphs(data, text, notes, spans, own_words)
    return Literate(tuple(paragraphs), tuple(elsewhere), tuple(dict.fromkeys(unplaced)))


# (note id, kind, title, its facts, its statement)
_Group = tuple[str, str, str, list[Fact], "str | None"]
# (start, end) of a passage → its anchors, the strongest kind quoting it, the notes quoting it
_Spans = dict[tuple[int, int], dict[str, Any]]


def _quotes_of(f: Fact) -> list[str]:
    return [f.args[i] for i in _quote_positions(f) if isinstance(f.args[i], str)]


def _note_groups(data: VersionData, outcome_label: Callable[[str], str]
                 ) -> tuple[list[_Group], dict[str, list[Fact]], set[int]]:
    """The notes' facts: each statement's, each code's, then the other
    quoting facts by passage; with the interpretations each note reads
    (by note id) and the facts some interpretation is about (by identity)."""
    vocab = data.vocabulary
    statements, codes = vocab.statements, set(vocab.codes)
    about = _interpreted(data)
    interpreted = {id(g) for gs in about.values() for g in gs}
    member: dict[int, str] = {}  # id(fact) → the note holding it
    groups: list[_Group] = []
    for st in sorted(statements):
        own = [f for f, o in zip(data.facts, data.fact_owners) if st in o and f.name != "interpretation"]
        if own:
            groups.append((f"st-{st}", "statement", outcome_label(statements[st]), own, st))
    in_statements = {id(g) for _, _, _, fs, _ in groups for g in fs}
    for code in sorted(codes):
        own = [f for f, o in zip(data.facts, data.fact_owners)
               if code in o and f.name != "interpretation" and id(f) not in in_statements]
        if own:
            groups.append((f"code-{code}", "code", f"CPT {code}", own, None))
    taken = {id(f) for _, _, _, fs, _ in groups for f in fs}
    loose: dict[str, list[Fact]] = {}
    for f in data.facts:
        if id(f) not in taken and f.name != "interpretation" and _quotes_of(f):
            loose.setdefault(quote_anchor(_quotes_of(f)[0]), []).append(f)
    for a, fs in loose.items():
        kind = max((_kind(f.name) for f in fs), key=_KIND_RANK.__getitem__)
        groups.append((f"enc-{a}", kind, ", ".join(dict.fromkeys(f.name.replace("_", " ") for f in fs)), fs, None))
    for note_id, _, _, fs, _ in groups:
        for f in fs:
            member[id(f)] = note_id
    readings: dict[str, list[Fact]] = {}
    stray: list[Fact] = []
    for i, gs in about.items():
        where = list(dict.fromkeys(member[id(g)] for g in gs if id(g) in member))
        for w in where:
            readings.setdefault(w, []).append(data.facts[i])
        if not where:
            stray.append(data.facts[i])
    if stray:  # with the facts they read, which quote nothing
        read = [g for i, gs in about.items() if data.facts[i] in stray for g in gs if id(g) not in member]
        groups.append(("enc-readings", "interpretation", "readings of facts that quote no passage",
                       list(dict.fromkeys([*read, *stray])), None))
    return groups, readings, interpreted


def _place_quotes(text: str, groups: list[_Group], readings: dict[str, list[Fact]], interpreted: set[int]
                  ) -> tuple[list[Note], _Spans, dict[str, tuple[int, int] | None], list[str]]:
    """Where each note's quotes stand in the text: the notes, the passages
    quoted, each note's own words (where it stands), the anchors not found."""
    def find(q: str, after: int) -> tuple[int, int] | None:
        words = normalise_quote(clean(q)).split(" ")
        if words == [""]:
            return None
        rx = re.compile(r"\s+".join(map(re.escape, words)))
        m = rx.search(text, after) or rx.search(text)
        return m.span() if m else None

    notes: list[Note] = []
    spans: _Spans = {}
    own_words: dict[str, tuple[int, int] | None] = {}
    unplaced: list[str] = []
    for note_id, kind, title, fs, st in groups:
        cursor, first = 0, None
        quotes: list[tuple[str, str]] = []
        mine = [(f, q) for f in fs for q in _quotes_of(f)]
        leads = [f.args[1] for f in fs if f.name == "statement_quote" and isinstance(f.args[1], int)]
        for f, q in mine:
            anchor = statement_anchor(st, q) if st else quote_anchor(q)
            quotes.append((anchor, q))
            span = find(q, cursor)
            if span is None:
                unplaced.append(anchor)
                continue
            cursor = span[0] if st else 0
            k = "interpretation" if id(f) in interpreted else _kind(f.name) if not st else "statement"
            if f.name == "not_formalised":
                k = "not_formalised"
            at = spans.setdefault(span, {"anchors": [], "kind": "fact", "notes": []})
            at["anchors"] += [a for a in (anchor, quote_anchor(q)) if a not in at["anchors"]]
            at["kind"] = max(at["kind"], k, key=_KIND_RANK.__getitem__)
            at["notes"].append(note_id)
            # a statement stands beside its own words: its last statement_quote (its item)
            if first is None or (f.name == "statement_quote" and leads and f.args[1] == max(leads)):
                first = span
        own_words[note_id] = first
        facts = tuple((str(f), "statement" if f.name == "statement" else _kind(f.name))
                      for f in [*fs, *readings.get(note_id, ())])
        notes.append(Note(note_id, kind, title, facts, tuple(dict.fromkeys(quotes)), st))
    # the global anchor of a quote is its first occurrence only
    seen_q: set[str] = set()
    for span in sorted(spans):
        at = spans[span]
        at["anchors"] = [a for a in at["anchors"] if not a.startswith("q-") or a not in seen_q]
        seen_q.update(a for a in at["anchors"] if a.startswith("q-"))
    return notes, spans, own_words, unplaced


def _paragraphs(data: VersionData, text: str, notes: list[Note], spans: _Spans,
                own_words: dict[str, tuple[int, int] | None]) -> tuple[list[Paragraph], list[Note]]:
    """The text's paragraphs cut into segments at the passages quoted, each
    with the notes standing beside it; and the notes whose words are not in
    the text."""
    bounds = [m.span() for m in re.finditer(r"\S.*?(?=\n\s*\n|\Z)", text, re.S)]

    def paragraph_of(p: int) -> int:
        return next((i for i, (s, e) in enumerate(bounds) if s <= p < e), -1)

    placed: dict[int, list[Note]] = {}
    elsewhere = []
    for n in notes:
        span = own_words.get(n.id)
        if span is None:
            elsewhere.append(n)
        else:
            placed.setdefault(paragraph_of(span[0]), []).append(n)
    placed_at = {n.id: i for i, ns in placed.items() for n in ns}
    titles = {normalise_quote(t): _depth(data, sid) for sid, (_, t) in data.sections.items()}

    paragraphs = []
    for i, (start, end) in enumerate(bounds):
        inside = [(max(s, start), min(e, end), (s, e)) for (s, e) in spans if s < end and e > start]
        cuts = sorted({start, end, *(a for a, _, _ in inside), *(b for _, b, _ in inside)})
        segs = []
        for lo, hi in zip(cuts, cuts[1:]):
            cover = [full for a, b, full in inside if a <= lo and b >= hi]
            starts = tuple(x for a, _, full in inside if a == lo == full[0] for x in spans[full]["anchors"])
            if cover:
                inner = min(cover, key=lambda sp: sp[1] - sp[0])
                k = max((spans[sp]["kind"] for sp in cover), key=_KIND_RANK.__getitem__)
                segs.append(Segment(text[lo:hi], starts, k, spans[inner]["notes"][-1]))
            else:
                segs.append(Segment(text[lo:hi], starts, "", None))
        here = {nid for _, _, full in inside for nid in spans[full]["notes"]}
        others = tuple(n.statement for n in notes if n.statement and n.id in here and placed_at.get(n.id) != i)
        heading = titles.get(normalise_quote(text[start:end]))
        paragraphs.append(Paragraph(tuple(segs), tuple(placed.get(i, ())), others, heading))
    return paragraphs, elsewhere


def _depth(data: VersionData, section: str) -> int:
    d = 0
    while section in data.sections and d < 10:
        section = data.sections[section][0]
        d += 1
    return d


def _quote_positions(f: Fact) -> list[int]:
    from ..facts import kb_schema

    return kb_schema().positions(f.name, "quote")
