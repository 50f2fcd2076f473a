"""A determination read as sentences: the decision first, in words.

``read(determination)`` reads the one derivation tree covkb.explain built
from the engine's trace (node kinds: kb/derivation.pl) and the
determination's cases, and words it through covkb.wording (the templates
and labels each policy declares in kb/).  Nothing is assembled beside the
answer: every sentence names what a node of the derivation concluded, so
both engines, which build the same tree, read the same.

- ``summary``: one sentence, the decision first (the outcome, then the facts that decide it, a
  finding the policy counts as another said with it: "Medically necessary:
  the patient <has a finding>, which the policy counts as <a criterion>.");
- ``justification``: the steps that decide it, each with its section, the
  policy's words, and covkb's interpretation (marked as such) where there is
  one;
- ``questions``: for an undecided answer, each missing fact as a question,
  with the outcome each answer leads to, in words;
- ``considered``: what a reader may unfold: the scope, the service, and the
  conditions that were not met where another one was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from .node import Node
from .wording import Words, lower


class Determination(Protocol):
    """What a reading reads of an answer (covkb.determination's Determination
    has it): named here, so that determination, which reads itself through
    this module, and this module need not import each other."""

    @property
    def outcome(self) -> str: ...
    @property
    def statement(self) -> str | None: ...
    @property
    def missing(self) -> tuple[str, ...]: ...
    @property
    def citations(self) -> Iterable[Any]: ...   # each with .section and .section_path
    @property
    def explanation(self) -> Node: ...
    @property
    def words(self) -> Words | None: ...


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a justification: what holds, where the policy says so."""

    text: str
    section: str | None = None          # the section's path ("Coverage Policy > Treatment")
    quote: str | None = None            # the policy's words, verbatim
    interpretation: str | None = None   # covkb's reading beyond the text, not the policy's words
    children: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "section": self.section, "quote": self.quote,
                "interpretation": self.interpretation, "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        """A step as ``to_dict`` wrote it (an answer's JSON read back)."""
        return cls(d["text"], d.get("section"), d.get("quote"), d.get("interpretation"),
                   tuple(map(cls.from_dict, d.get("children") or ())))


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer to a question, and what the policy then decides."""

    value: str
    text: str          # the answer as a clause ("the patient is X")
    outcome: str       # the outcome it leads to (insufficient_information: still open)
    leads_to: str      # that outcome, in words

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "text": self.text, "outcome": self.outcome, "leads_to": self.leads_to}


@dataclass(frozen=True, slots=True)
class Question:
    """A missing fact, asked in words, with the outcome each answer leads to."""

    fact: str
    text: str
    answers: tuple[Answer, ...]

    @property
    def sentence(self) -> str:
        """"Is the patient X? If the patient is X: ... If not: ...\""""
        parts = [self.text]
        for i, a in enumerate(self.answers):
            cond = "not" if (a.value == "no" and i > 0 and self.answers[0].value == "yes") else a.text
            parts.append(f"If {cond}: {a.leads_to}.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"fact": self.fact, "text": self.text, "sentence": self.sentence,
                "answers": [a.to_dict() for a in self.answers]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Question:
        """A question as ``to_dict`` wrote it (an answer's JSON read back)."""
        return cls(d["fact"], d["text"], tuple(Answer(a["value"], a["text"], a.get("outcome", ""), a["leads_to"])
                                               for a in d["answers"]))


@dataclass(frozen=True, slots=True)
class Reading:
    """A determination in words."""

    outcome: str
    summary: str
    justification: tuple[Step, ...] = ()
    questions: tuple[Question, ...] = ()
    considered: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "justification": [s.to_dict() for s in self.justification],
                "questions": [q.to_dict() for q in self.questions]}


def read(det: Determination, deciding: Node | None = None) -> Reading:
    """The determination's derivation, read as sentences (see the module's
    docstring); or, given its deciding facts (``deciding``), its summary
    alone, the same sentence."""
    words = det.words if det.words is not None else Words()
    paths = {c.section: c.section_path for c in det.citations}
    r = _Reader(words, lambda s: paths.get(s, s))
    tree = det.explanation if deciding is None else deciding
    cases = [c for c in tree.children if c.kind == "case"]
    outcomes = [c.children[0] for c in cases if c.children] if cases else \
        [c for c in tree.children if c.kind == "outcome"]
    if det.outcome == "insufficient_information":
        if deciding is not None:
            return Reading(det.outcome, r.undecided_summary(det, cases))
        return r.undecided(det, cases)
    if not outcomes:  # no derivation asked for ("explain": false): the decision alone
        return decision_alone(words, det.outcome, det.statement)
    # every case decides alike: read the one that assumes least of what the record leaves open
    reading = r.decided(det.outcome, min(outcomes, key=assumed_present))
    return reading if deciding is None else Reading(det.outcome, reading.summary)


def deciding(outcome: str, cases: Sequence[tuple[Sequence[Sequence[Any]], Callable[[], dict[str, Any]]]]
             ) -> dict[str, Any]:
    """The deciding facts: the part of a determination's derivation that its
    summary reads, a derivation itself (dicts, as covkb.explain builds it),
    so that ``read`` words the same summary from it (``Determination.to_dict``
    without the explanation; a compiled table keeps it for each entry).
    cases: each case's assignment ((fact, value, rank), ...) and its
    derivation, built when called (only where the summary reads it).
    Decided: the one case the summary reads (the one that assumes least),
    with the statements that apply, their requirements and the criteria
    that decide them, the scope facts not met, or the service and codes not
    addressed, each fact with what its clause says (its value, and the
    field, number or code that settled it).  Undecided: which services the
    cases assume (the missing facts are the answer's own)."""
    head = {"kind": "determination", "outcome": outcome}
    if outcome == "insufficient_information":
        services = dict.fromkeys(x for assign, _ in cases for v, x, _ in assign if v == "service")
        return {**head, "children": [{"kind": "case", "assume": [{"fact": "service", "value": v}], "children": []}
                                     for v in services]}
    outcomes = [derive() for _, derive in cases]
    chosen = outcomes[0] if len(outcomes) == 1 else min(outcomes, key=assumed_present) if outcomes else None
    return {**head, "children": [_deciding_outcome(chosen)] if chosen is not None else []}


def _deciding_outcome(node: dict[str, Any]) -> dict[str, Any]:
    """An outcome node as its summary reads it (_Reader.outcome_node)."""
    reason, kids = node.get("reason"), node["children"]
    out: list[dict[str, Any]] = []
    first_service = next((_keys(c, "id", "code", "qualifier", "value") for c in kids if c["kind"] == "service"), None)
    if reason == "out_of_scope":
        out = [{"kind": "scope", "id": c["id"], "value": c["value"], "children": [_fact(f) for f in c["children"][:1]]}
               for c in kids if c["kind"] == "scope" and c.get("value") != "yes"]
    elif reason == "statement":
        out = [{**_keys(s, "id", "applies", "outcome", "referral"),
                "children": [_requirement(c) if c["kind"] == "requirement" else _criteria(c)
                             for c in s["children"] if c["kind"] in ("requirement", "criteria")]}
               for s in kids if s["kind"] == "statement" and s.get("applies")]
    elif reason == "no_statement":
        out = [{**_keys(s, "id", "applies", "outcome"),
                "children": [_requirement(c, every=True) for c in s["children"]
                             if c["kind"] == "requirement" and not c.get("holds")]}
               for s in kids if s["kind"] == "statement"]
    elif reason in ("other", "unlisted_code"):
        out = [{"kind": "code", "id": c["id"], "children": []} for c in kids if c["kind"] == "code"]
    if reason in ("no_statement", "other", "unlisted_code"):
        out += [{"kind": "partial_version", "reason": c.get("reason"), "children": []}
                for c in kids if c["kind"] == "partial_version"]
    if first_service is not None and reason != "out_of_scope":
        out.insert(0, {**first_service, "children": []})
    return {"kind": "outcome", "outcome": node.get("outcome"), "reason": reason, "children": out}


def _keys(node: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The node's kind and these of its values (one left out is None: Node.get reads it so)."""
    return {"kind": node["kind"], **{k: v for k in keys if (v := node.get(k)) is not None}}


def _requirement(r: dict[str, Any], every: bool = False) -> dict[str, Any]:
    """A requirement with the facts its clauses say (what the record leaves open decides nothing, unless every)."""
    return {**_keys(r, "id", "expected", "holds"),
            "children": [_fact(f) for f in r["children"] if f["kind"] == "fact"
                         and (every or f.get("source") != "assumed")]}


def _criteria(c: dict[str, Any]) -> dict[str, Any]:
    """Criteria (or a group of them) with the members that decide them: those that hold as the whole does."""
    members = []
    for m in c["children"]:
        if m["kind"] == "criterion_group" and bool(m.get("holds")) == bool(c.get("holds")):
            members.append({**_criteria(m), "id": m.get("id")})
        elif m["kind"] == "criterion" and bool(m.get("holds")) == bool(c.get("holds")):
            members.append({**_keys(m, "id", "fact", "holds"),
                            "children": [_fact(f) for f in m["children"]
                                         if f["kind"] == "fact" and f.get("source") != "assumed"]})
    return {**_keys(c, "mode", "holds"), "children": members}


def _fact(f: dict[str, Any]) -> dict[str, Any]:
    """A fact node as its clause reads it (_Reader.fact_clause)."""
    src = f.get("source")
    node = _keys(f, "id", "value", "source")
    if src in ("number", "number_bound"):
        node.update(field=f.get("field"), number=f.get("number"))
    elif src in ("code", "code_list"):
        node.update(field=f.get("field"), code=f.get("code"))
    elif src == "ontology":  # its witness, and whether the policy's words name it (its quote)
        node.update(quote=f.get("quote"), children=[_fact(c) for c in f["children"][:1]])
        return node
    node["children"] = []
    return node


def decision_alone(words: Words, outcome: str, statement: str | None = None) -> Reading:
    """An answer read without its derivation: the decision alone (and what its statement rules on)."""
    what = words.statement(statement)
    return Reading(outcome, _sentence(words.outcome(outcome), [what] if what else []))


def scope_steps(words: Words, node: Node, section_path: Callable[[str], str]) -> tuple[Step, ...]:
    """An outcome node's scope, each fact as a step (what a reader may unfold below the decision)."""
    r = _Reader(words, section_path)
    return tuple(r.scope_step(s) for s in node.children if s.kind == "scope")


def statements_not_applying(words: Words, node: Node, section_path: Callable[[str], str]) -> tuple[Step, ...]:
    """An outcome node's statements that do not apply, each with what it requires."""
    r = _Reader(words, section_path)
    return tuple(r.statement_step(s)[0] for s in node.children if s.kind == "statement" and not s.get("applies"))


def would_change(words: Words, meaning: str, nodes: list[Node],
                 questions: tuple[Question, ...] = ()) -> tuple[str, ...]:
    """What documentation would change the decision, read off its outcome
    nodes: the answers to its questions, else the criteria a statement that
    applies found not met, else why none would (by the outcome's meaning)."""
    if questions:
        return tuple(f"An answer to: {q.text}" for q in questions)
    out: dict[str, None] = {}
    for node in nodes:
        for st in node.children:
            if st.kind != "statement" or not st.get("applies") or st.get("outcome") == st.get("decides"):
                continue
            makes = f" would make it: {words.outcome(st.get('decides'))}."
            for c in (c for c in st.children if c.kind == "criteria"):
                unmet = [_suffices(words, st.get("id"), x) for x in c.children if not x.get("holds")]
                if c.get("mode") == "any":
                    out.update(dict.fromkeys(f"Documentation of {u}{makes}" for u in unmet))
                elif unmet:
                    out.setdefault("Documentation of all of " + "; ".join(unmet) + makes)
    return tuple(out) or (_NO_CHANGE.get(meaning, "See the reasons above."),)


def node_text(words: Words, node: Node, statement: str | None = None) -> str | None:
    """One derivation node's line in words, as a justification's step says
    it; the text tree, Markdown, pictures and the web's tree (covkb.render)
    say the node so too.  ``statement``: the statement a criterion belongs
    to.  None for a kind no step says by itself (render words those: the
    cases, the outcomes, codes, notices)."""
    r = _Reader(words, lambda s: s)
    k = node.kind
    if k == "scope":
        return r.scope_text(node)
    if k == "service":
        return r.service_text(node)
    if k == "statement":
        return r.statement_text(node)
    if k == "requirement":
        return r.requirement_text(node)
    if k == "criteria":
        return _criteria_text(node)
    if k in ("criterion", "criterion_group"):
        return r.member_text(statement or "", node)
    return None


def _criteria_text(c: Node) -> str:
    """"ANY of the conditions: met"."""
    return f"{'ANY' if c.get('mode') == 'any' else 'ALL'} of the conditions: {'met' if c.get('holds') else 'not met'}"


def _suffices(words: Words, statement: str, x: Node) -> str:
    """A criterion not met, with the findings that would each meet it."""
    fact = x.get("fact") or x.get("id")
    more = [s for f in x.children if f.kind == "fact" for s in f.get("would_suffice") or () if s != fact]
    noun = words.criterion(statement, x.get("id"), x.get("fact"))
    return f"{noun} (or of {', '.join(words.noun(s) for s in more)})" if more else noun


# Why no documentation would change a decision, by its outcome's meaning (kb/: meaning/2).
_NO_CHANGE = {
    "covered": "None needed: the record shows what the policy requires.",
    "denied": "The policy decides this service without conditions on the patient that documentation could "
              "meet; under this version no further documentation changes the decision.",
    "referred": "Another coverage policy or benefit decides this service; send the request there.",
    "not_addressed": "This policy does not decide the service as requested; documentation that brings it "
                     "within the policy's scope, or another policy, may.",
    "unknown": "The text of this version that would decide it is not known to covkb; the payer's copy of the "
               "policy decides.",
}


class _Reader:
    def __init__(self, words: Words, section_path: Callable[[str], str]) -> None:
        self.w = words
        self.section_path = section_path

    def path(self, section: str | None) -> str | None:
        return self.section_path(section) if section else None

    # -- the decision ------------------------------------------------------------

    def decided(self, outcome: str, node: Node) -> Reading:
        summary, steps, considered = self.outcome_node(node)
        return Reading(outcome, summary, tuple(steps), (), tuple(considered))

    def outcome_node(self, node: Node) -> tuple[str, list[Step], list[Step]]:
        """The summary, the deciding steps and the rest, of one outcome node."""
        w, g = self.w, node.get
        outcome, reason = g("outcome"), g("reason")
        head = w.outcome(outcome)
        scopes = [c for c in node.children if c.kind == "scope"]
        services = [c for c in node.children if c.kind == "service"]
        statements = [c for c in node.children if c.kind == "statement"]
        partial = [c for c in node.children if c.kind == "partial_version"]
        context = [self.scope_step(s) for s in scopes] + [self.service_step(s) for s in services]
        if reason == "out_of_scope":
            out = [s for s in scopes if s.get("value") != "yes"]
            steps = [self.scope_step(s) for s in out]
            reasons = [self.fact_clause(s.children[0]) if s.children else w.clause(s.get("id"), s.get("value"))
                       for s in out]
            rest = [x for x in context if x not in steps]
            return _sentence(head, reasons), steps, rest
        if reason == "statement":
            decisive = [s for s in statements if s.get("applies") and s.get("outcome") == outcome] or \
                [s for s in statements if s.get("applies")]
            others = [s for s in statements if s not in decisive]
            steps, held, failed, alternatives = [], [], [], []
            for s in decisive:
                step, why, why_not, not_met = self.statement_step(s)
                steps.append(step)
                held += why
                failed += why_not
                alternatives += not_met
            service = services[0].get("id") if services else None
            st = decisive[0] if decisive else None
            what = w.statement(st.get("id"), service) if st is not None else None
            if st is not None and st.get("referral"):
                held, failed = [f"{st.get('referral')} decides {what}" if what else st.get("referral")], []
            elif what and not any(c.kind == "criteria" for c in st.children):
                # no criteria: the statement rules on the service as such, under what it requires
                held, failed = [what + (", as " + _and(_elide(_unique(held))) if held else "")], []
            rest = context + alternatives + [self.statement_step(s)[0] for s in others]
            return _sentence(head, held, failed), steps, rest
        if reason == "no_statement":
            steps, reasons = [], []
            for s in statements:
                for req in s.children:
                    if req.kind == "requirement" and not req.get("holds"):
                        steps.append(self.requirement_step(req, s.get("section")))
                        reasons += [self.fact_clause(f) for f in req.children if f.kind == "fact"]
            service = services[0].get("id") if services else None
            if outcome == "unknown" and partial:
                steps += [Step(f"Only part of this version is known: {p.get('reason')}", self.path(p.get("section")),
                               p.get("quote")) for p in partial]
                return _sentence(head, [lower(p.get("reason")) for p in partial]), steps, context
            what = w.statement(None, service) or "the service"
            lead = f"no statement of the policy on {what} applies" if statements else \
                f"the policy has no statement on {what}"
            reasons = [lead + (", as " + _and(_elide(_unique(reasons))) if reasons else "")]
            return _sentence(head, reasons), steps, context
        if reason in ("other", "unlisted_code"):
            svc = services[0] if services else None
            codes = [c.get("id") for c in node.children if c.kind == "code"]
            code = (svc.get("code") if svc is not None else None) or (codes[0] if codes else "")
            if reason == "other":
                q = svc.get("qualifier") if svc is not None else None
                qual = "" if not q else f" with {lower(w.label(q))} {svc.get('value')}" if svc.get("value") else \
                    f" with another {lower(w.label(q))} than those the policy names"
                why = f"CPT {code}{qual} reports no service this policy rules on"
            else:
                why = f"the coding table does not list CPT {code}"
            if outcome == "unknown":
                why += ", and this version is only partly known" + (f": {lower(partial[0].get('reason'))}" if partial else "")
            return _sentence(head, [why]), [Step(why[:1].upper() + why[1:])], context
        return _sentence(head, []), [], context

    # -- steps ------------------------------------------------------------------

    def scope_text(self, s: Node) -> str:
        clause = self.fact_clause(s.children[0]) if s.children else self.w.clause(s.get("id"), s.get("value"))
        verdict = {"yes": "The policy addresses it", "no": "The policy does not address it"}.get(
            s.get("value"), "Not known whether the policy addresses it")
        return f"{verdict}: {clause}"

    def scope_step(self, s: Node) -> Step:
        return Step(self.scope_text(s), self.path(s.get("section")), s.get("quote"), s.get("interpretation"),
                    tuple(self.fact_steps(c) for c in s.children if c.kind == "fact"))

    def service_text(self, s: Node) -> str:
        w, g = self.w, s.get
        if g("id") == "other":
            q = g("qualifier")
            return (f"The service: none this policy rules on (CPT {g('code')}"
                    f"{' with ' + lower(w.label(q)) + ' ' + str(g('value') or 'not stated') if q else ''})")
        how = {"request": "as requested", "code": f"as CPT {g('code')} reports it",
               "assumed": f"one form of the requested {lower(w.label(g('requested') or ''))}"}.get(g("source"), "")
        coded = f"; CPT {g('code')} is not in the coding table" if g("source") != "code" and g("code") else ""
        return f"The service: {lower(w.label(g('id')))}" + (f", {how}" if how else "") + coded

    def service_step(self, s: Node) -> Step:
        if s.get("id") == "other":
            return Step(self.service_text(s))
        return Step(self.service_text(s), self.path(s.get("section")), s.get("quote"))

    def statement_step(self, s: Node) -> tuple[Step, list[str], list[str], list[Step]]:
        """The statement's step, the clauses that hold and decide it, those
        that fail and decide it, and the conditions not met beside one that
        was (alternatives, folded below)."""
        g = s.get
        quotes = list(g("quotes") or ())
        children, held, failed, alternatives = [], [], [], []
        for c in s.children:
            if c.kind == "requirement":
                children.append(self.requirement_step(c, g("section")))
                (held if c.get("holds") else failed).extend(
                    self.fact_clause(f) for f in c.children if f.kind == "fact" and f.get("source") != "assumed")
            elif c.kind == "criteria":
                step, why, alt = self.criteria_step(g("id"), c, g("section"))
                children.append(step)
                (held if c.get("holds") else failed).extend(why)
                alternatives += alt
        step = Step(self.statement_text(s), self.path(g("section")), " … ".join(quotes) or None, g("interpretation"),
                    tuple(children))
        return step, held, failed, alternatives

    def statement_text(self, s: Node) -> str:
        w, g = self.w, s.get
        what = w.statement(g("id"))
        if g("applies"):
            verdict = w.outcome(g("outcome")) if g("outcome") else "applies"
            return f"The policy's statement on {what}: {lower(verdict)}" if what else \
                f"The policy's statement applies: {lower(verdict)}"
        return f"The policy's statement on {what} does not apply" if what else "The policy's statement does not apply"

    def requirement_text(self, r: Node) -> str:
        facts = [f for f in r.children if f.kind == "fact"]
        said = self.fact_clause(facts[0]) if facts else self.w.clause(r.get("id"), r.get("expected"))
        if r.get("holds"):
            return f"Requirement met: {said}"
        return f"Requirement not met: the statement requires that {self.w.clause(r.get('id'), r.get('expected'))}, but {said}"

    def requirement_step(self, r: Node, section: str | None = None) -> Step:
        text = self.requirement_text(r)
        return Step(text, self.path(section), r.get("quote"), r.get("interpretation"),
                    _adding(text, [self.fact_steps(f) for f in r.children if f.kind == "fact"]))

    def member_text(self, statement: str, m: Node) -> str:
        """A criterion, or a group of them, met or not: "Met: <criterion>"; a
        group without words of its own reads as its conditions do."""
        if m.kind == "criterion_group":
            named = self.w.criterion_words.get((statement, m.get("id")))
            if not named:
                return _criteria_text(m)
            noun = named
        else:
            noun = self.w.criterion(statement, m.get("id"), m.get("fact"))
        return f"{'Met' if m.get('holds') else 'Not met'}: {noun}"

    def criteria_step(self, statement: str, c: Node, section: str | None) -> tuple[Step, list[str], list[Step]]:
        """A statement's criteria (or a group): its step, the clauses that
        decide it (those that hold when it holds, those that fail when it
        does not), and the members not met beside one that was."""
        holds = c.get("holds")
        members = [m for m in c.children if m.kind in ("criterion", "criterion_group")]
        kids, reasons, alternatives = [], [], []
        for m in members:
            if m.kind == "criterion_group":
                step, why, alt = self.criteria_step(statement, m, m.get("section") or section)
                step = Step(self.member_text(statement, m), self.path(m.get("section")), m.get("quote"), None,
                            step.children)
                alternatives += alt
            else:  # what the record leaves open decides nothing in a decided answer
                why = [self.fact_clause(f) for f in m.children if f.kind == "fact" and f.get("source") != "assumed"]
                text = self.member_text(statement, m)
                step = Step(text, self.path(m.get("section")), m.get("quote"), m.get("interpretation"),
                            _adding(text, [self.fact_steps(f) for f in m.children if f.kind == "fact"]))
            if bool(m.get("holds")) == bool(holds):
                kids.append(step)
                reasons += why
            else:
                alternatives.append(step)
        return Step(_criteria_text(c), self.path(c.get("section") or section), c.get("quote"), None,
                    tuple(kids)), reasons, alternatives

    def fact_steps(self, f: Node) -> Step:
        how = _HOW.get(f.get("source"), "")
        said = self.fact_clause(f)
        text = f"The record does not say {said}" if f.get("value") == "unknown" else _cap(said)
        return Step(text + how, self.path(f.get("section")), f.get("quote"), f.get("interpretation"),
                    _adding(text, [self.fact_steps(c) for c in f.children if c.kind == "fact"]))

    def fact_clause(self, f: Node) -> str:
        """A fact node as a clause, with what settled it where that says more."""
        w, g = self.w, f.get
        fact, value, src = g("id"), g("value"), g("source")
        if src == "ontology" and f.children:
            witness = self.fact_clause(f.children[0])
            how = "which the policy counts as" if g("quote") else "a form of"
            return f"{witness}, {how} {w.noun(fact)}"
        said = w.clause(fact, value)
        if src in ("number", "number_bound"):
            return f"{said} ({lower(w.label(g('field')))}: {g('number')})"
        if src == "code":
            return f"{said} (CPT {g('code')})"
        if src == "code_list":
            return f"{said} ({lower(w.label(g('field')))}: {g('code')})"
        return said

    # -- undecided ----------------------------------------------------------------

    def undecided(self, det: Determination, cases: list[Node]) -> Reading:
        questions = tuple(self.question(var, cases) for var in det.missing)
        steps = tuple(Step(q.sentence) for q in questions)
        return Reading(det.outcome, self.undecided_summary(det, cases), steps, questions, ())

    def undecided_summary(self, det: Determination, cases: list[Node]) -> str:
        """The summary of an undecided answer: "Not decided: the record does not say X, nor Y."."""
        unknown = [self.unknown_clause(var, cases) for var in det.missing]
        return _sentence(self.w.outcome(det.outcome),
                         ["the record does not say " + ", nor ".join(unknown)] if unknown else [])

    def unknown_clause(self, var: str, cases: list[Node]) -> str:
        w = self.w
        if var == "service":
            return "which service it is (" + _or([lower(w.label(v)) for v in _values(var, cases) if v != "other"]) + ")"
        return w.unknown(var)

    def question(self, var: str, cases: list[Node]) -> Question:
        w = self.w
        answers = []
        for value in _values(var, cases):
            these = [c for c in cases if any(a.get("fact") == var and a.get("value") == value for a in _assume(c))]
            outs = sorted({c.get("outcome") for c in these})
            if var == "service":
                text = "another service" if value == "other" else f"it is {lower(w.label(value))}"
            elif var in w.qualifiers:
                text = "it is another one" if value == "other" else f"the code reports {lower(w.label(value))}"
            else:
                text = w.clause(var, value)
            if len(outs) == 1 and these[0].children:
                leads = self.leads_to(these[0].children[0])
                outcome = outs[0]
            else:
                outcome = "insufficient_information"
                leads = "still open: " + _or([lower(w.outcome(o)) for o in outs])
            answers.append(Answer(str(value), text, outcome, leads))
        if var == "service":
            text = "Which service is it: " + _or([lower(w.label(v)) for v in _values(var, cases) if v != "other"]) + "?"
        else:
            text = w.question(var)
        return Question(var, text, tuple(answers))

    def leads_to(self, node: Node) -> str:
        """What one case decides, in words: the outcome and what it rules on."""
        outcome = node.get("outcome")
        if node.get("reason") == "statement":
            st = next((s for s in node.children if s.kind == "statement" and s.get("applies")), None)
            svc = next((s.get("id") for s in node.children if s.kind == "service"), None)
            what = self.w.statement(st.get("id"), svc) if st is not None else None
            return lower(self.w.outcome(outcome)) + (f", {what}" if what else "")
        summary = self.outcome_node(node)[0]
        return lower(summary[:-1])


def _adding(parent: str, steps: list[Step]) -> tuple[Step, ...]:
    """The steps that say more than the line above them: a fact stated
    outright, already said in its parent's words, is not said again."""
    return tuple(s for s in steps if s.quote or s.interpretation or s.children or s.text.lower() not in parent.lower())


# How a fact was settled, where its clause does not say (covkb's rules, not the policy's).
# where a fact's value came from, in words (kb/derivation.pl's trace sources); the text and
# Markdown trees say it of every fact, a sentence of those it tells (_TOLD)
SOURCES = {
    "request": "stated in the request",
    "closed_world": "not listed in the request; unlisted findings are absent",
    "stated_absent": "stated absent in the request",
    "general_stated_absent": "absent: the request states a more general finding absent",
    "not_stated": "not stated in the request, so unknown",
    "ontology": "a more specific finding is present",
    "assumed": "assumed in this case",
    "general_finding_listed": "unknown: the request states only a more general finding",
    "specific_form_unknown": "unknown: a more specific form is marked unknown",
}
_TOLD = frozenset(("closed_world", "stated_absent", "general_stated_absent", "not_stated", "assumed",
                   "general_finding_listed", "specific_form_unknown"))
_HOW = {src: f" ({SOURCES[src]})" for src in _TOLD}


def _assume(case: Node) -> list[dict[str, Any]]:
    return [dict(a) if not isinstance(a, dict) else a for a in (case.get("assume") or ())]


def _values(var: str, cases: list[Node]) -> list[str]:
    out: list[str] = []
    for c in cases:
        for a in _assume(c):
            if a.get("fact") == var and a.get("value") not in out:
                out.append(a.get("value"))
    return out


def _unstop(s: str) -> str:
    """A sentence as a clause of another: its full stop dropped."""
    return s.rstrip(". ") if s else s


def _sentence(head: str, held: list[str], failed: list[str] = ()) -> str:
    """"Head: what held, but what failed." (a subject the clauses share said once)."""
    held, failed = _unique([_unstop(c) for c in held if c]), _unique([_unstop(c) for c in failed if c])
    clauses = held + failed
    if not clauses:
        return head + "."
    said = _elide(clauses)
    held_s, failed_s = said[:len([c for c in held if c])], said[len([c for c in held if c]):]
    if held_s and failed_s:
        return f"{head}: {_and(held_s)}, but {_and(failed_s)}."
    return f"{head}: {_and(held_s or failed_s)}."


def assumed_present(node: Node | dict[str, Any]) -> int:
    """How many facts a case assumes to hold (the record leaves them open);
    of a derivation frozen (Node) or as built (dicts: ``deciding``)."""
    count, stack = 0, [node]
    while stack:
        n = stack.pop()
        built = n.__class__ is dict
        if (n["kind"] if built else n.kind) == "fact" and n.get("source") == "assumed" and n.get("value") != "no":
            count += 1
        stack.extend(n["children"] if built else n.children)
    return count


def _unique(clauses: list[str]) -> list[str]:
    """Each clause once (two statements may fail on the same fact)."""
    return list(dict.fromkeys(clauses))


def _elide(clauses: list[str]) -> list[str]:
    """The clauses, a subject they share with the first said once ("the
    patient is X" and "had Y")."""
    out = [clauses[0]]
    for prev, c in zip(clauses, clauses[1:]):
        subject = _subject(prev, c)
        out.append(c[len(subject):] if subject else c)
    return out


def _and(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""


def _subject(first: str, other: str) -> str:
    """The words "the X ..." two clauses open with (at most three, not all of
    either): said once when the clauses are joined ("the patient had" X
    "and" Y)."""
    a, b = first.split(" "), other.split(" ")
    n = 0
    while n < min(len(a), len(b), 4) - 1 and a[n] == b[n] and "," not in a[n] and ":" not in a[n]:
        n += 1
    n = min(n, 3)
    if n < len(b) and b[n] in _NOT_A_VERB:  # "the pressure mode" of ...: a noun phrase goes on, not a verb
        return ""
    return " ".join(a[:n]) + " " if n >= 2 and a[0] == "the" else ""


_NOT_A_VERB = frozenset(("of", "in", "for", "with", "to", "on", "at", "by", "from", "and", "or"))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


__all__ = ["Answer", "Question", "Reading", "Step", "assumed_present", "deciding", "decision_alone", "read", "scope_steps",
           "statements_not_applying", "would_change"]
