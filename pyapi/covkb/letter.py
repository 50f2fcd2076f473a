"""A determination as a letter a person can print or send, and the reading
of a derivation in words that the letter and the web answer page share.

The CMS Interoperability and Prior Authorization final rule (CMS-0057-F,
89 FR 8758, 2024) requires impacted payers to give a specific reason for
every denied prior-authorization request; its preamble says such a reason
could refer to the specific plan provisions the denial rests on, cite the
coverage criteria, say how the documentation did not support the service,
and explain in words why the request was denied.  A ``Letter`` carries each
of these, read off the derivation (never assembled beside the answer): the
decision in words, the deciding facts with the policy's own words (quote and
section), covkb's interpretations marked as such, what documentation would
change the decision, and the policy, version and date of service.  Every
outcome has its letter, including an undecided one (its questions).

``letter(det, request, policy)`` builds the one ``Letter``; ``to_text``
renders it for ``covkb determine --format letter`` and the web print view
renders the same ``Letter`` as HTML.  Every sentence comes from
covkb.sentences (the JSON's ``summary``, ``justification`` and
``questions``), every label and phrase from covkb.wording's ``Words``; what
the letter folds below (the scope, the statements that did not decide it,
what would change it) is read off the derivation here, in those words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .determination import Node
from .policy import Policy, VersionData
from .sentences import (Answer, Question, Reading, Step, decision_alone, scope_steps, statements_not_applying,
                        would_change)
from .wording import Words

Derivation = dict[str, Any]  # a derivation node as JSON (Determination.to_dict()["explanation"])


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything a rationale letter states, in words; rendered as text (CLI)
    and as HTML (the web print view)."""

    outcome: str                   # the id, for machines (data-outcome)
    tone: str                      # favourable | adverse | open | neutral
    decision: str                  # the outcome's label
    summary: str
    service: str                   # what was asked about, in words
    date_of_service: str
    policy_number: str
    policy_title: str
    version: str
    effective: str | None
    knowledge: str                 # complete | partial | draft
    reasons: tuple[Step, ...]
    changes: tuple[str, ...]       # what documentation would change the decision
    questions: tuple[Question, ...]
    scope: tuple[Step, ...]        # the policy's scope, with covkb's interpretations
    alternatives: tuple[Step, ...]  # statements that did not decide it, and why
    citations: tuple[tuple[str, str], ...]  # (section path, quote)
    notes: tuple[str, ...]         # warnings and notices


# -- the reading ------------------------------------------------------------------

def reading(det: dict[str, Any], data: VersionData) -> Reading:
    """The determination (as JSON: the CLI's ``to_dict()``, the page's API
    answer) in words: covkb.sentences' reading, which the JSON carries
    (``summary``, ``justification``, ``questions``); an answer without its
    derivation states the decision alone, as covkb.sentences reads it."""
    if "summary" not in det:
        return decision_alone(Words.of(data.vocabulary), det["outcome"], det.get("statement"))
    return Reading(det["outcome"], det["summary"], tuple(map(Step.from_dict, det.get("justification") or ())),
                   tuple(map(Question.from_dict, det.get("questions") or ())))


# -- what is folded below the decision: covkb.sentences' steps ---------------------

def _cases(det: dict[str, Any]) -> list[tuple[dict[str, Any], Derivation]]:
    """Each case of the determination: its assumptions (fact → value) and its outcome node."""
    top = det.get("explanation") or {}
    out = []
    for c in top.get("children", ()):
        if c.get("kind") == "case":
            out.append(({a["fact"]: a["value"] for a in c.get("assume", ())}, c["children"][0]))
        else:
            out.append(({}, c))
    return out


def _kids(n: Derivation, kind: str) -> list[Derivation]:
    return [c for c in n.get("children", ()) if c.get("kind") == kind]


def _common(each: list[tuple[Step, ...]]) -> tuple[Step, ...]:
    """The steps every case shows, in the first case's order (cases that
    agree on the outcome differ only in what they assumed)."""
    if not each:
        return ()
    rest = [set(s) for s in each[1:]]
    return tuple(s for s in each[0] if all(s in r for r in rest))


def scope(det: dict[str, Any], data: VersionData) -> tuple[Step, ...]:
    """The policy's scope as the cases read it, with covkb's interpretations."""
    w = Words.of(data.vocabulary)
    return _common([scope_steps(w, Node.from_dict(out), data.section_path) for _, out in _cases(det)])


def alternatives(det: dict[str, Any], data: VersionData) -> tuple[Step, ...]:
    """The statements considered that did not decide the answer, each with
    what it requires (covkb.sentences' steps)."""
    w = Words.of(data.vocabulary)
    seen: dict[Step, None] = {}
    for _, out in _cases(det):
        seen.update(dict.fromkeys(statements_not_applying(w, Node.from_dict(out), data.section_path)))
    return tuple(seen)


def changes(det: dict[str, Any], data: VersionData) -> tuple[str, ...]:
    """What documentation would change the decision (covkb.sentences.would_change)."""
    return would_change(Words.of(data.vocabulary), data.outcomes[det["outcome"]].meaning,
                        [Node.from_dict(out) for _, out in _cases(det)], reading(det, data).questions)


# -- the letter ---------------------------------------------------------------------------

def letter(det: dict[str, Any], request: dict[str, Any], policy: Policy, *, today: dt.date | None = None) -> Letter:
    """The one Letter of a determination (as JSON) and the request it answers."""
    data = policy.data(det["version"])
    v = data.version
    read = reading(det, data)
    w = Words.of(data.vocabulary)
    svc, cpt = request.get("service"), request.get("cpt")
    reported = {n["id"] for _, out in _cases(det) for n in _kids(out, "service") if n.get("source") == "code"}
    code = f"CPT {cpt}" + (f" ({w.noun(next(iter(reported)))})" if not svc and len(reported) == 1 else "") \
        if cpt else ""
    asked = ", ".join(x for x in (w.label(svc) if svc else "", code) if x) or "not stated"
    notes = tuple(dict.fromkeys(det.get("warnings") or ()))
    return Letter(
        outcome=det["outcome"], tone=data.outcomes[det["outcome"]].tone, decision=w.heading(det["outcome"]),
        summary=read.summary, service=asked,
        date_of_service=request.get("date_of_service") or f"not stated; decided as of {(today or dt.date.today())}",
        policy_number=policy.number, policy_title=policy.title, version=v.id,
        effective=v.effective.isoformat() if v.effective else None, knowledge=v.knowledge,
        reasons=read.justification, changes=changes(det, data),
        questions=read.questions, scope=tuple(s for s in scope(det, data) if s not in read.justification),
        alternatives=alternatives(det, data),
        citations=tuple((c["section"], c["quote"]) for c in det.get("citations") or ()), notes=notes)


_TEMPLATES = Path(__file__).parent / "templates"


def to_text(lt: Letter) -> str:
    """The letter as plain text (``covkb determine --format letter``)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=False, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["wrap"] = _wrap
    env.filters["rstrip"] = str.rstrip
    return env.get_template("letter.txt").render(letter=lt).rstrip() + "\n"


def _wrap(text: str, indent: int, first: str = "") -> str:
    """A paragraph filled to the letter's width, its first line led by ``first``."""
    import textwrap

    pad = " " * indent
    return textwrap.fill(text, width=WIDTH, initial_indent=pad + first, subsequent_indent=pad + " " * len(first),
                         break_long_words=False, break_on_hyphens=False)


WIDTH = 100  # the text letter's line width


__all__ = ["Answer", "Letter", "Question", "Reading", "Step", "alternatives", "changes", "letter", "reading",
           "scope", "to_text"]
