"""Render a determination: a text tree for the terminal, Markdown, JSON.

Every line comes from a node of the derivation the engine returned; the
renderer only words it.  Quotes are shown with their section path.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported where a tree is drawn: JSON output does without it
    from rich.tree import Tree

from .determination import Determination, Node
from .sentences import SOURCES as _SOURCES
from .sentences import Reading, Step, assumed_present, node_text
from .wording import Words, lower

SectionPath = Callable[[str], str]


# how the request read a finding it does not list (the request's unlisted_findings)
_READINGS = {
    "unknown": "read as unknown (a record's silence is not evidence)",
    "absent": "read as absent, as the request asks",
}

_REASONS = {
    "statement": "decided by a policy statement",
    "out_of_scope": "the request is outside the policy's scope, so the policy does not address the service",
    "no_statement": "no statement of this version applies to the service in this case",
    "other": "the code reports no service of this policy with that qualifier",
    "unlisted_code": "the coding table does not list this code",
}
_UNKNOWN_REASONS = {
    "no_statement": "no known statement of this version decides it, and the version is only partly known",
    "other": "the code's use here is not known in this version",
    "unlisted_code": "this version's coding table is not known",
}


def label(n: Node, words: Words | None = None, statement: str | None = None) -> str:
    """One line saying what the node concluded; with ``words`` (the policy's
    templates and labels, covkb.wording), in words rather than ids
    (``statement``: the statement a criterion belongs to)."""
    return worded_label(n, words if words is not None else Words(), statement)


def worded_label(n: Node, w: Words, statement: str | None = None) -> str:
    """``label`` in the policy's words.  A node a justification's step also
    says (scope, service, statement, requirement, criteria, criterion) reads
    as that step does (covkb.sentences.node_text: one wording, "Met: …",
    "Requirement not met: …", so no mark is needed); the rest are worded
    here: the cases, the outcomes, the facts with how each was settled."""
    said = node_text(w, n, statement)
    if said is not None:
        return said
    g, k = n.get, n.kind
    if k == "determination":
        return f"{w.outcome(g('outcome'))}: how covkb derived it"
    if k == "case":
        assume = ", ".join(_worded_assumption(dict(a), w) for a in (g("assume") or ()))
        what = w.statement(g("statement"))
        return f"if {assume}: {lower(w.outcome(g('outcome')))}" + (f" ({what})" if what else "")
    if k == "outcome":
        reasons = _UNKNOWN_REASONS if g("outcome") == "unknown" else _REASONS
        return f"{w.outcome(g('outcome'))}: {reasons.get(g('reason'), g('reason'))}"
    if k == "fact":
        said = w.clause(g("id"), g("value"))
        return (f"not stated: {said}" if g("value") == "unknown" else said) + f" ({_worded_source(n, w)})"
    if k == "code":
        if g("listed") is False:
            return f"CPT {g('id')} is not listed in the coding table"
        return f"CPT {g('id')} \"{g('quote')}\" listed under \"{g('heading')}\""
    if k == "partial_version":
        return f"only partly known: {g('reason')}"
    if k == "notice":
        return f"notice: {_NOTICES.get(g('id'), g('id'))}"
    return k


def _worded_assumption(a: dict[str, Any], w: Words) -> str:
    fact, value = a["fact"], a["value"]
    if a.get("rank") == 0 and fact != "service":
        return f"the {lower(w.label(fact))} is another one" if value == "other" else \
            f"the {lower(w.label(fact))} makes it {lower(w.label(value))}"
    if fact == "service":
        return "the code reports another procedure" if value == "other" else f"it is {lower(w.label(value))}"
    return w.clause(fact, value)


def _worded_source(n: Node, w: Words) -> str:
    g = n.get
    src = g("source")
    field = lower(w.label(g("field"))) if g("field") else ""
    if src == "number":
        at_least = (g("rule") == "at_least") == (g("value") == "yes")
        return f"{field} = {g('number')} {'≥' if at_least else '<'} {g('threshold')}"
    if src == "number_bound":
        op = "≥" if g("number") >= g("threshold") else "<"
        return f"{field} = {g('number')} {op} {g('threshold')}, so {lower(w.label(g('bounds')))} {op} {g('threshold')}"
    if src == "code_list":
        return f"{field}: {g('code')}"
    if src == "code":
        return f"implied by CPT {g('code')}"
    if src == "request" and g("value") == "unknown":
        return "unknown: the request does not say"
    text = _SOURCES.get(src, src)
    if g("would_suffice"):
        text += "; would suffice: " + " or ".join(w.noun(f) for f in g("would_suffice"))
    return text


_NOTICES = {
    "codes_not_exhaustive": "the coding table may not list every code",
    "uncovered_code_denial": "how claims with a code the policy does not list are treated",
}


# Kinds whose line (``label``) already shows the node's own quote.
_QUOTE_IN_LABEL = ("code",)


def detail_items(n: Node, seen: set[str] | None = None,
                 section: str | None = None) -> list[tuple[str, str, str | None]]:
    """What a node cites and notes besides its line, as (kind, text, section)
    items: kind is quote, note, referral, interpretation or interpretation_seen
    (an interpretation already shown, in ``seen``, referred to, not repeated).
    ``section``: the section of the statement above, where the node's quote
    stands when the node names none (a requirement, the criteria)."""
    items: list[tuple[str, str, str | None]] = []
    sec = n.get("section") or section
    quotes = list(n.get("quotes") or ())
    if n.kind not in _QUOTE_IN_LABEL and n.get("quote"):
        quotes.append(n.get("quote"))
    items += [("quote", q, sec) for q in quotes]
    if n.kind == "code" and n.get("note"):
        items.append(("note", n.get("note"), sec))
    if n.get("referral"):
        items.append(("referral", n.get("referral"), None))
    note = n.get("interpretation")
    if note:
        if seen is not None and note in seen:
            items.append(("interpretation_seen", note, None))
        else:
            items.append(("interpretation", note, None))
            if seen is not None:
                seen.add(note)
    return items


def label_quote(n: Node) -> str | None:
    """The quote a node's line (``label``) shows, if any."""
    return n.get("quote") if n.kind in _QUOTE_IN_LABEL else None


@dataclass(frozen=True, slots=True)
class Detail:
    """One line under a node's label, with what it is: a verbatim ``quote``,
    a code's ``note``, a ``referral``, or an ``interpretation`` (covkb's
    reading of the policy, not its words), so that every renderer can set
    each apart without rewording it."""

    kind: str
    text: str


def detail_lines(n: Node, section_path: SectionPath, seen: set[str] | None = None,
                 section: str | None = None) -> list[Detail]:
    """Cited words and interpretation notes under a node's line, worded."""
    lines = []
    for kind, text, sec in detail_items(n, seen, section):
        if kind == "quote":
            lines.append(Detail(kind, f"[{section_path(sec)}] \"{text}\"" if sec else f"\"{text}\""))
        elif kind == "note":
            lines.append(Detail(kind, f"note: \"{text}\""))
        elif kind == "referral":
            lines.append(Detail(kind, f"refer to: {text}"))
        elif kind == "interpretation_seen":
            lines.append(Detail("interpretation", "interpretation: as noted above"))
        else:
            lines.append(Detail(kind, f"interpretation: {text}"))
    return lines


def details(n: Node, section_path: SectionPath, seen: set[str] | None = None, section: str | None = None) -> list[str]:
    """Cited words and interpretation notes under a node's line, as text."""
    return [d.text for d in detail_lines(n, section_path, seen, section)]


def _tree(n: Node, section_path: SectionPath, seen: set[str], parent: Tree | None = None,
          words: Words | None = None, statement: str | None = None, section: str | None = None) -> Tree:
    from rich.tree import Tree

    statement = n.get("id") if n.kind == "statement" else statement
    text = label(n, words, statement) + "".join(f"\n  {d}" for d in details(n, section_path, seen, section))
    t = Tree(text, guide_style="dim") if parent is None else parent.add(text)
    for c in n.children:
        _tree(c, section_path, seen, t, words, statement, n.get("section") or section)
    return t


def reading(d: Determination) -> str:
    """One line saying how the answer read a finding the request does not list."""
    return f"unlisted findings: {_READINGS[d.unlisted_findings]}"


def header(d: Determination) -> list[str]:
    lines = [f"{d.outcome}  ({d.policy} version {d.version})"]
    if d.statement:
        lines.append(f"statement: {d.statement}")
    if d.criteria_met:
        lines.append(f"criteria met: {', '.join(d.criteria_met)}")
    if d.missing:
        lines.append(f"missing: {', '.join(d.missing)}")
    if d.possible_outcomes:
        lines.append(f"possible outcomes: {', '.join(d.possible_outcomes)}")
    if d.referral:
        lines.append(f"referral: {d.referral}")
    lines.append(reading(d))
    lines += [f"warning: {w}" for w in d.warnings]
    return lines


def about(d: Determination, r: Reading) -> list[str]:
    """What the answer is about, in words, under its decision sentence: the
    policy and version, the statement, the conditions met, the referral."""
    w = d.words or Words()
    lines = [f"policy {d.policy}, version {d.version}", reading(d)]
    what = w.statement(d.statement)
    if what:
        lines.append(f"statement: the policy's statement on {what}")
    if d.criteria_met:
        lines.append("conditions met: " + ", ".join(w.criterion(d.statement or "", c, c) for c in d.criteria_met))
    if d.possible_outcomes:
        lines.append("possible outcomes: " + ", ".join(lower(w.outcome(o)) for o in d.possible_outcomes))
    if d.referral:
        lines.append(f"refer to: {d.referral}")
    lines += [f"warning: {x}" for x in d.warnings]
    return lines


def _step_lines(step: Step, depth: int, width: int) -> list[str]:
    """A justification's step and its children, as indented lines wrapped to width."""
    import textwrap

    pad = "  " * depth
    out = textwrap.wrap(step.text, width, initial_indent=f"{pad}- ", subsequent_indent=f"{pad}  ",
                        break_on_hyphens=False)
    if step.quote:
        where = f"[{step.section}] " if step.section else ""
        out += textwrap.wrap(f"{where}\"{step.quote}\"", width, initial_indent=f"{pad}    ",
                             subsequent_indent=f"{pad}    ", break_on_hyphens=False)
    for c in step.children:
        out += _step_lines(c, depth + 1, width)
    return out


DERIVATION_HEADING = "How covkb derived it (scope, covkb's interpretations, the conditions not met)"


def derivation_shown(d: Determination) -> tuple[Node, str | None]:
    """The derivation a reader is shown, and a note of what it leaves out.
    Where every case decides alike (same outcome, same statement), the case
    that assumes least of what the record leaves open stands for them all,
    as the decision sentence does (covkb.sentences); JSON keeps every case."""
    tree = d.explanation
    cases = [c for c in tree.children if c.kind == "case"]
    if d.outcome == "insufficient_information" or len(cases) < 2 or \
            len({(c.get("outcome"), c.get("statement")) for c in cases}) > 1:
        return tree, None
    shown = min(cases, key=assumed_present)
    return Node(tree.kind, tree.attrs, (shown,)), \
        f"{len(cases) - 1} other completions of what the record leaves open decide alike (--format json lists every case)"


def to_text(d: Determination, section_path: SectionPath, *, width: int = 100, color: bool = False) -> str:
    """The decision sentence first, then why (the deciding steps, each with
    the policy's words), the questions an undecided answer leaves, and,
    under a heading, the whole derivation in words."""
    import textwrap

    from rich.console import Console

    r = d.reading()
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=not color, color_system="auto" if color else None,
                      highlight=False, emoji=False, markup=False, force_terminal=color)
    def say(text: str, first: str = "", rest: str = "") -> None:
        for line in textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                                  break_on_hyphens=False) or [""]:
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    say(r.summary, "", "  ")
    for line in about(d, r):
        say(line, "  ", "    ")
    if r.questions:
        say("")
        say("To decide, ask:")
        for q in r.questions:
            say(q.text, "- ", "  ")
            for a in q.answers:
                say(f"if {a.text}: {a.leads_to}", "    ", "      ")
    elif r.justification:
        say("")
        say("Why:")
        for step in r.justification:
            for line in _step_lines(step, 0, width):
                console.print(line, markup=False, highlight=False, soft_wrap=True)
    say("")
    say(DERIVATION_HEADING + ":")
    tree, left_out = derivation_shown(d)
    if left_out:
        say(left_out)
    console.print(_tree(tree, section_path, set(), words=d.words or Words()))
    return buf.getvalue()


def to_markdown(d: Determination, section_path: SectionPath) -> str:
    """As ``to_text``: the decision sentence as the heading, then why, the
    questions, the derivation in words and the citations."""
    r = d.reading()
    w = d.words or Words()
    out = [f"## {_md_escape(r.summary)}", ""]
    out += [f"- {_md_escape(line)}" for line in about(d, r)]
    if r.questions:
        out += ["", "### To decide, ask", ""]
        for q in r.questions:
            out.append(f"- {_md_escape(q.text)}")
            out += [f"  - if {_md_escape(a.text)}: {_md_escape(a.leads_to)}" for a in q.answers]
    elif r.justification:
        out += ["", "### Why", ""]

        def step(s: Step, depth: int) -> None:
            pad = "  " * depth
            out.append(f"{pad}- {_md_escape(s.text)}")
            if s.quote:
                where = f"[{s.section}] " if s.section else ""
                out.append(f"{pad}  > {_md_escape(where)}\"{_md_escape(s.quote)}\"")
            for c in s.children:
                step(c, depth + 1)

        for s in r.justification:
            step(s, 0)
    out += ["", f"### {DERIVATION_HEADING}", ""]

    seen: set[str] = set()

    def walk(n: Node, depth: int, statement: str | None = None, section: str | None = None) -> None:
        pad = "  " * depth
        statement = n.get("id") if n.kind == "statement" else statement
        out.append(f"{pad}- {_md_escape(label(n, w, statement))}")
        for line in details(n, section_path, seen, section):
            out.append(f"{pad}  > {_md_escape(line)}")
        for c in n.children:
            walk(c, depth + 1, statement, n.get("section") or section)

    tree, left_out = derivation_shown(d)
    if left_out:
        out += [_md_escape(left_out), ""]
    walk(tree, 0)
    if d.citations:
        out += ["", "### Citations", ""]
        out += [f"- **{c.section_path}**: \"{_md_escape(c.quote)}\"" for c in d.citations]
    return "\n".join(out) + "\n"


def _md_escape(s: str) -> str:
    return s.replace("*", "\\*").replace("_", "\\_")


def to_json(d: Determination) -> str:
    return json.dumps(d.to_dict(), ensure_ascii=False, indent=2)
