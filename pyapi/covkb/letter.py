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
renders the same ``Letter`` as HTML.  ``reading`` is the one place the
decision sentence, its steps and its questions come from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .facts import atom
from .policy import Policy, VersionData, normalise_quote

Derivation = dict[str, Any]  # a derivation node as JSON (Determination.to_dict()["explanation"])


@dataclass(frozen=True, slots=True)
class Step:
    """One reason in words, with the policy's words it rests on."""

    text: str
    section: str | None = None         # the section path of the quote
    quote: str | None = None           # verbatim in the policy
    interpretation: str | None = None  # covkb's reading, not the policy's words
    children: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    value: str
    text: str       # the answer in words ("Yes", a service's label)
    leads_to: str   # the outcome it leads to, in words
    outcome: str = ""  # that outcome's id (insufficient_information: still open)


@dataclass(frozen=True, slots=True)
class Question:
    fact: str
    text: str                     # the missing fact asked in words
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """A determination read in words: the outcome's and statement's labels,
    one sentence stating the decision first, the deciding steps, and (when
    undecided) the questions whose answers decide it."""

    outcome_label: str
    statement_label: str | None
    summary: str
    justification: tuple[Step, ...]
    questions: tuple[Question, ...]


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


# -- words for the derivation's ids ------------------------------------------------

class _Words:
    """The labels a version declares, and the derivation's facts in them."""

    def __init__(self, data: VersionData) -> None:
        v = data.vocabulary
        self.data, self.v = data, v
        self.values = {(atom(f), atom(x)): label for f, x, label in data.rows("fact_value")}
        self.field_labels = {f.name: f.label for f in v.fields.values()}

    def outcome(self, o: str | None) -> str:
        return self.v.outcomes.get(o, o) if o else "no outcome"

    def service(self, s: str | None) -> str:
        if s in (None, "other"):
            return "a service this policy does not name"
        return self.v.services.get(s, s.replace("_", " "))

    def fact(self, f: str) -> str:
        return self.v.findings.get(f) or self.v.patient_facts.get(f) or self.v.qualifiers.get(f) or \
            self.field_labels.get(f) or f.replace("_", " ")

    def value(self, f: str, x: Any) -> str:
        if f == "service" or f in self.v.qualifiers:  # a qualifier's case names the service it makes the code report
            return "another one" if x == "other" and f != "service" else self.service(str(x))
        return {"yes": "Yes", "no": "No"}.get(str(x)) or self.values.get((f, str(x)), str(x).replace("_", " "))

    def holds(self, f: str, x: Any) -> str:
        """The fact with this value, as a sentence."""
        if f == "service":
            return "The service is " + _lower(self.service(str(x)))
        label = self.fact(f)
        if x == "yes":
            return label
        if x == "no":
            return _negate(label) if f in self.v.patient_facts and f not in self.v.findings else f"No {_lower(label)}"
        if x == "unknown":
            return f"The request does not say: {_lower(label)}"
        return f"{label}: {self.value(f, x)}"

    def ask(self, f: str) -> str:
        """The missing fact as a question."""
        if f == "service":
            return "Which service is it?"
        if f in self.v.qualifiers:
            return f"What is the {_lower(self.v.qualifiers[f])}?"
        label = self.fact(f)
        m = re.match(r"(The \w+) (is|are|has|have) (.*)", label)
        if m and f not in self.v.findings:
            who, verb, rest = m.groups()
            return f"{verb.capitalize()} {_lower(who)} {rest}?" if verb in ("is", "are") else \
                f"Does {_lower(who)} have {rest}?"
        return f"Does the record show {_lower(label)}?"

    def whether(self, f: str) -> str:
        if f == "service":
            return "which service it is"
        if f in self.v.qualifiers:
            return "the " + _lower(self.v.qualifiers[f])
        label = self.fact(f)
        if f in self.v.patient_facts and f not in self.v.findings:
            return "whether " + _lower(label)
        return f"whether {_lower(label)} is present"

    def source(self, n: Derivation) -> str:
        """Where a fact's value comes from, in words."""
        src = n.get("source")
        if src == "number":
            at_least = (n.get("rule") == "at_least") == (n.get("value") == "yes")
            rule = "at least" if at_least else "below"
            return f"{self.fact(n['field'])}: {n['number']} ({rule} {n['threshold']})"
        if src == "number_bound":
            return f"{self.fact(n['field'])}: {n['number']}, which bounds {self.fact(n['bounds'])}"
        if src == "code_list":
            return f"{self.fact(n['field'])}: {n['code']}"
        if src == "code":
            return f"CPT {n['code']} implies it"
        return _SOURCE.get(src, str(src).replace("_", " "))


_SOURCE = {
    "request": "stated in the request",
    "closed_world": "not listed in the request, read as absent",
    "ontology": "a more specific finding is present",
    "assumed": "assumed in this case",
    "general_finding_listed": "the request states only a more general finding",
    "specific_form_unknown": "a more specific form is marked unknown",
}


def _lower(s: str) -> str:
    return s[:1].lower() + s[1:] if s[1:2].islower() else s


def _negate(label: str) -> str:
    for pat, rep in ((r"\bis\b", "is not"), (r"\bhas\b", "does not have"), (r"\bhave\b", "do not have")):
        if re.search(pat, label):
            return re.sub(pat, rep, label, count=1)
    return "Not: " + label


# -- the derivation read in steps ----------------------------------------------------

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


def _evidence(w: _Words, n: Derivation) -> tuple[Step, ...]:
    """The fact nodes under a node, each as the fact and where it comes from."""
    out = []
    for f in _kids(n, "fact"):
        text = w.holds(f["id"], f["value"]) if f["value"] == "unknown" else f"{w.holds(f['id'], f['value'])} ({w.source(f)})"
        out.append(Step(text, children=_evidence(w, f)))
    return tuple(out)


def _criterion(w: _Words, n: Derivation, section: str | None, met: bool) -> Step:
    if n["kind"] == "criterion_group":
        mode = "ANY" if n.get("mode") == "any" else "ALL"
        kids = tuple(_criterion(w, c, n.get("section") or section, met) for c in n.get("children", ())
                     if c.get("kind") in ("criterion", "criterion_group") and bool(c.get("holds")) == met)
        return Step(f"{mode} of these conditions", w.data.section_path(n["section"]) if n.get("section") else section,
                    n.get("quote"), None, kids)
    fact = n.get("fact") or n["id"]
    text = w.fact(fact) if met else f"Not shown in the record: {_lower(w.fact(fact))}"
    sec = w.data.section_path(n["section"]) if n.get("section") else section
    return Step(text, sec, n.get("quote"), n.get("interpretation"), _evidence(w, n) if met else ())


def _statement_steps(w: _Words, st: Derivation) -> tuple[Step, ...]:
    """A statement that applies: its words, what it requires and holds, the
    criteria it found met (or, when its criteria fail, those not shown)."""
    sec = w.data.section_path(st["section"]) if st.get("section") else None
    quotes = list(st.get("quotes") or ())
    lead = tuple(Step("Under the policy's heading", sec, q) for q in quotes[:-1])
    decides = w.outcome(st.get("decides"))
    text = "The policy's statement that decides it" if st.get("outcome") == st.get("decides") else \
        f"The policy's statement that applies ({_lower(decides)} only when its conditions are met)"
    says = Step(text, sec, quotes[-1] if quotes else None, st.get("interpretation"), lead)
    steps = [says]
    for r in _kids(st, "requirement"):
        steps.append(Step(w.holds(r["id"], r["expected"]), _within(r.get("quote"), quotes, sec), r.get("quote"),
                          r.get("interpretation"), _evidence(w, r)))
    decided = st.get("outcome") == st.get("decides")
    for c in _kids(st, "criteria"):
        mode = "any" if c.get("mode") == "any" else "all"
        if decided:
            met = tuple(_criterion(w, x, sec, True) for x in c.get("children", ()) if x.get("holds"))
            steps.append(Step(f"{'Any' if mode == 'any' else 'All'} of the conditions, and the record shows "
                              + ("this" if len(met) == 1 else "these"), sec, c.get("quote"), None, met))
        else:
            unmet = tuple(_criterion(w, x, sec, False) for x in c.get("children", ()) if not x.get("holds"))
            steps.append(Step(f"The policy requires {mode} of these conditions; the record shows "
                              + ("none of them" if mode == "any" else "not all of them"), sec, c.get("quote"), None,
                              unmet))
    if st.get("referral"):
        steps.append(Step(f"Refer to: {st['referral']}"))
    return tuple(steps)


def _within(quote: str | None, quotes: list[str], section: str | None) -> str | None:
    """A requirement's quote stands in its statement's section when it is part
    of the statement's words; else the derivation does not say where (None)."""
    return section if quote and any(normalise_quote(quote) in normalise_quote(q) for q in quotes) else None


def _service_step(w: _Words, out: Derivation) -> Step | None:
    for s in _kids(out, "service"):
        codes = _kids(s, "code")
        if codes and codes[0].get("quote"):
            c = codes[0]
            return Step(f"CPT {c['id']} reports {_lower(w.service(s['id']))}",
                        w.data.section_path(c["section"]) if c.get("section") else None, c["quote"],
                        c.get("interpretation"))
    return None


def _scope_steps(w: _Words, out: Derivation) -> tuple[Step, ...]:
    return tuple(Step(w.holds(s["id"], s["value"]), w.data.section_path(s["section"]) if s.get("section") else None,
                      s.get("quote"), s.get("interpretation"), _evidence(w, s)) for s in _kids(out, "scope"))


def _deciding(w: _Words, out: Derivation) -> tuple[Step, ...]:
    """The steps that decide one case, by the reason its outcome gives."""
    reason = out.get("reason")
    steps: list[Step] = []
    svc = _service_step(w, out)
    if reason == "statement":
        steps += [svc] if svc else []
        for st in _kids(out, "statement"):
            if st.get("applies"):
                steps += _statement_steps(w, st)
    elif reason == "out_of_scope":
        every = list(zip(_kids(out, "scope"), _scope_steps(w, out)))
        steps += [s for n, s in every if n.get("value") != "yes"] or [s for _, s in every]
    elif reason == "unlisted_code":
        for c in _kids(out, "code"):
            said = tuple(Step("What the policy says of such codes", w.data.section_path(n["section"]), n["quote"])
                         for n in _kids(c, "notice") if n.get("section") and n.get("quote"))
            steps.append(Step(f"The policy's coding table does not list CPT {c['id']}", children=said))
    elif reason == "other":
        steps.append(Step("The code reports no service of this policy with the qualifier given"))
    else:  # no_statement
        steps.append(Step(f"No statement of this version decides {_lower(w.service(out.get('service')))}"))
    for p in _kids(out, "partial_version"):
        steps.append(Step(f"This version is only partly known: {p['reason']}",
                          w.data.section_path(p["section"]) if p.get("section") else None, p.get("quote")))
    return tuple(steps)


def _because(w: _Words, det: dict[str, Any], out: Derivation) -> str:
    """The sentence's reason, from the decided case's outcome node."""
    reason = out.get("reason")
    if reason == "statement":
        st = next((s for s in _kids(out, "statement") if s.get("applies")), None)
        if st is None:
            return "a statement of the policy decides it"
        if st.get("referral"):
            return f"the policy refers it to {st['referral']}"
        held = [_lower(w.holds(r["id"], r["expected"])) for r in _kids(st, "requirement")]
        crit = [x for c in _kids(st, "criteria") for x in c.get("children", ())]
        if st.get("outcome") != st.get("decides"):
            unmet = [_lower(w.fact(x.get("fact") or x["id"])) for x in crit if not x.get("holds")]
            return _and(held + ["the record shows none of the conditions the policy requires (" + "; ".join(unmet) + ")"])
        met = [_met_phrase(w, x) for x in crit if x.get("holds")]
        return _and(held + met) or "the policy states it of this service"
    if reason == "out_of_scope":
        return _and([_lower(s.text) for s in _deciding(w, out)])
    return "; ".join(_lower(s.text) for s in _deciding(w, out)[:1]) or "see the reasons"


def _and(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _met_phrase(w: _Words, x: Derivation) -> str:
    """A criterion met, as the record shows it, with the facts stated that make it so."""
    fact = x.get("fact") or x["id"]
    leaves = [f for f in _walk(x) if f.get("kind") == "fact" and f.get("source") == "request" and f.get("value") == "yes"
              and f.get("id") != fact]
    said = _lower(w.holds(fact, "yes"))
    said = said if fact in w.v.patient_facts and fact not in w.v.findings else f"the record shows {said}"
    return f"{said} ({', '.join(_lower(w.fact(f['id'])) for f in leaves)})" if leaves else said


def _walk(n: Derivation):
    yield n
    for c in n.get("children", ()):
        yield from _walk(c)


# -- the reading ------------------------------------------------------------------

def reading(det: dict[str, Any], data: VersionData) -> Reading:
    """The determination (as JSON: the CLI's ``to_dict()``, the page's API
    answer) in words: THE one place the letter and the answer page take the
    decision sentence, its steps and its questions from.  Where the JSON
    carries covkb.sentences' reading (``summary``, ``justification``,
    ``questions``), that is the reading; else (until covkb.sentences is on
    main) it is read off the derivation here."""
    w = _Words(data)
    label = w.outcome(det["outcome"])
    st = det.get("statement")
    st_label = w.outcome(data.vocabulary.statements.get(st)) if st else None
    if "summary" in det:
        return Reading(label, st_label, det["summary"], tuple(map(_step, det.get("justification") or ())),
                       tuple(_question(q) for q in det.get("questions") or ()))
    cases = _cases(det)
    if det.get("possible_outcomes"):
        qs = _questions(w, det, cases)
        summary = f"{label}: the record does not say " + " or ".join(w.whether(f) for f in det.get("missing", ())) + "."
        if len(qs) == 1:  # one question: what each answer leads to, in the same sentence
            summary = summary[:-1] + "; " + "; ".join(f"if {a.text.lower() if a.text in ('Yes', 'No') else a.text}: "
                                                      f"{_lower(a.leads_to)}" for a in qs[0].answers) + "."
        each = [_deciding(w, out) for _, out in cases]
        common = _common(each)
        steps = common + tuple(_if(w, assume, out, tuple(s for s in own if s not in common))
                               for (assume, out), own in zip(cases, each))
        return Reading(label, st_label, summary, steps, qs)
    each = [_deciding(w, out) for _, out in cases]
    steps = _common(each)
    if len(cases) > 1:  # cases that agree for different reasons: each case's own
        steps += tuple(_if(w, assume, out, own) for (assume, out), e in zip(cases, each)
                       if (own := tuple(s for s in e if s not in steps)))
    service = _requested(w, cases)
    becauses = list(dict.fromkeys(_because(w, det, out) for _, out in cases))
    because = "whichever the case: " + "; or ".join(becauses) if len(becauses) > 1 else "".join(becauses)
    summary = f"{label}: {_lower(service)}, since {because}." if service and because else \
        f"{label}: {because}." if because else f"{label}."  # no derivation asked for: the decision alone
    return Reading(label, st_label, summary, steps, ())


def _step(d: dict[str, Any]) -> Step:
    return Step(d["text"], d.get("section"), d.get("quote"), d.get("interpretation"),
                tuple(map(_step, d.get("children") or ())))


def _question(d: dict[str, Any]) -> Question:
    return Question(d["fact"], d["text"], tuple(Answer(a["value"], a["text"], a["leads_to"], a.get("outcome", ""))
                                                for a in d["answers"]))


def _if(w: _Words, assume: dict[str, Any], out: Derivation, steps: tuple[Step, ...]) -> Step:
    """One case of an undecided answer: what it assumes, what it decides, why."""
    given = "; ".join(_lower(w.holds(f, x)) for f, x in assume.items())
    return Step(f"If {given}: {w.outcome(out['outcome'])}", children=steps)


def _common(each: list[tuple[Step, ...]]) -> tuple[Step, ...]:
    """The steps every case shows, in the first case's order (cases that
    agree on the outcome differ only in what they assumed)."""
    if not each:
        return ()
    rest = [set(s) for s in each[1:]]
    return tuple(s for s in each[0] if all(s in r for r in rest))


def _requested(w: _Words, cases: list[tuple[dict[str, Any], Derivation]]) -> str:
    out = cases[0][1] if cases else {}
    for s in _kids(out, "service"):
        return w.service(s.get("requested") or s["id"]) if s.get("source") == "assumed" else w.service(s["id"])
    for c in _kids(out, "code"):
        return f"CPT {c['id']}"
    return w.service(out.get("service")) if out.get("service") else ""


def _questions(w: _Words, det: dict[str, Any], cases: list[tuple[dict[str, Any], Derivation]]) -> tuple[Question, ...]:
    """Each missing fact asked in words; each answer the cases give it, with
    the outcome those cases reach (several: still open, on the other questions)."""
    out = []
    for fact in det.get("missing", ()):
        reached: dict[str, list[str]] = {}
        for assume, node in cases:
            if fact in assume:
                got = reached.setdefault(str(assume[fact]), [])
                if node["outcome"] not in got:
                    got.append(node["outcome"])
        answers = []
        for value, outcomes in reached.items():
            if len(outcomes) == 1:
                leads = w.outcome(outcomes[0])
            else:
                leads = "still not decided: " + " or ".join(w.outcome(o) for o in outcomes) + \
                        ", depending on the other questions"
            answers.append(Answer(value, w.value(fact, value), leads,
                                  outcomes[0] if len(outcomes) == 1 else "insufficient_information"))
        out.append(Question(fact, w.ask(fact), tuple(answers)))
    return tuple(out)


# -- what is folded below the decision --------------------------------------------------

def scope(det: dict[str, Any], data: VersionData) -> tuple[Step, ...]:
    """The policy's scope as the cases read it, with covkb's interpretations."""
    w = _Words(data)
    return _common([_scope_steps(w, out) for _, out in _cases(det)])


def alternatives(det: dict[str, Any], data: VersionData) -> tuple[Step, ...]:
    """The statements considered that did not decide the answer, each with
    what it requires that the record does not show."""
    w = _Words(data)
    seen: dict[Step, None] = {}
    for _, out in _cases(det):
        for st in _kids(out, "statement"):
            if st.get("applies"):
                continue
            sec = data.section_path(st["section"]) if st.get("section") else None
            quotes = st.get("quotes") or []
            why = [Step(f"It requires: {_lower(w.holds(r['id'], r['expected']))}", _within(r.get("quote"), quotes, sec),
                        r.get("quote"),
                        r.get("interpretation"), _evidence(w, r)) for r in _kids(st, "requirement") if not r.get("holds")]
            for c in _kids(st, "criteria"):
                if not c.get("holds"):
                    why.append(Step("Its conditions are not shown", sec, c.get("quote"), None,
                                    tuple(_criterion(w, x, sec, False) for x in c.get("children", ())
                                          if not x.get("holds"))))
            seen.setdefault(Step(f"{w.outcome(st.get('decides'))}, by the statement", sec,
                                 quotes[-1] if quotes else None,
                                 st.get("interpretation"), tuple(why)))
    return tuple(seen)


def changes(det: dict[str, Any], data: VersionData) -> tuple[str, ...]:
    """What documentation would change the decision, from the derivation:
    the answers to its questions, or the criteria its statement found not met."""
    w = _Words(data)
    read = reading(det, data)
    if read.questions:
        return tuple(f"An answer to: {q.text}" for q in read.questions)
    out: dict[str, None] = {}
    for _, node in _cases(det):
        for st in _kids(node, "statement"):
            if not st.get("applies") or st.get("outcome") == st.get("decides"):
                continue
            for c in _kids(st, "criteria"):
                unmet = [x for x in c.get("children", ()) if not x.get("holds")]
                if c.get("mode") == "any":
                    for x in unmet:
                        out.setdefault(f"Documentation of {_lower(_suffices(w, x))} would make it: "
                                       f"{w.outcome(st.get('decides'))}.")
                elif unmet:
                    out.setdefault("Documentation of all of " + "; ".join(_lower(_suffices(w, x)) for x in unmet)
                                   + f" would make it: {w.outcome(st.get('decides'))}.")
    return tuple(out)


def _suffices(w: _Words, x: Derivation) -> str:
    """A criterion not met, with the findings that would each meet it."""
    fact = x.get("fact") or x["id"]
    facts = [f for f in _kids(x, "fact") if f.get("would_suffice")]
    more = [s for f in facts for s in f["would_suffice"] if s != fact]
    label = w.fact(fact)
    return f"{label} (or of {', '.join(_lower(w.fact(s)) for s in more)})" if more else label


# -- one line per derivation node, in words (the web page's folded tree) ------------------

_REASON = {
    "statement": "decided by a policy statement",
    "out_of_scope": "the request is outside the policy's scope",
    "no_statement": "no statement of this version decides the service",
    "other": "the code reports no service of this policy with the qualifier given",
    "unlisted_code": "the coding table does not list the code",
}
_NOTICE = {
    "codes_not_exhaustive": "the coding table may not list every code",
    "uncovered_code_denial": "how claims with a code the policy does not list are treated",
}


def lines(data: VersionData) -> Any:
    """A function wording one derivation node (a covkb.determination.Node) as
    a line in the version's labels, for the page's tree of the whole derivation."""
    w = _Words(data)

    def mode(n: Any) -> str:
        return "Any" if n.get("mode") == "any" else "All"

    def line(n: Any) -> str:
        g, k = n.get, n.kind
        if k == "determination":
            return f"Why: {w.outcome(g('outcome'))}"
        if k == "case":
            given = "; ".join(_lower(w.holds(dict(a)["fact"], dict(a)["value"])) for a in g("assume") or ())
            return f"If {given}: {w.outcome(g('outcome'))}"
        if k == "outcome":
            return f"{w.outcome(g('outcome'))}: {_REASON.get(g('reason'), 'see below')}"
        if k == "scope":
            return f"Scope: {_lower(w.holds(g('id'), g('value')))}"
        if k == "fact":
            d = dict(n.attrs)
            return w.holds(g("id"), g("value")) if g("value") == "unknown" else \
                f"{w.holds(g('id'), g('value'))} ({w.source(d)})"
        if k == "service":
            return f"Service: {_lower(w.service(g('id')))}" + (f" (CPT {g('code')})" if g("code") else "")
        if k == "code":
            return f"CPT {g('id')} is not listed in the coding table" if g("listed") is False else \
                f"CPT {g('id')} “{g('quote')}”, listed under “{g('heading')}”"
        if k == "statement":
            state = "does not apply" if not g("applies") else "applies" if g("outcome") == g("decides") else \
                "applies; its conditions are not met"
            return f"Statement ({_lower(w.outcome(g('decides')))}): {state}"
        if k == "requirement":
            return f"Requires: {_lower(w.holds(g('id'), g('expected')))} “{g('quote')}”"
        if k in ("criteria", "criterion_group"):
            return f"{mode(n)} of the conditions “{g('quote')}”"
        if k == "criterion":
            return f"Condition: {_lower(w.fact(g('fact') or g('id')))}"
        if k == "notice":
            return f"Notice: {_NOTICE.get(g('id'), 'a rule beside the determination')}"
        if k == "partial_version":
            return f"Only partly known: {g('reason')}"
        return k.replace("_", " ")
    return line


# -- the letter ---------------------------------------------------------------------------

def letter(det: dict[str, Any], request: dict[str, Any], policy: Policy, *, today: dt.date | None = None) -> Letter:
    """The one Letter of a determination (as JSON) and the request it answers."""
    data = policy.data(det["version"])
    v = data.version
    read = reading(det, data)
    w = _Words(data)
    svc, cpt = request.get("service"), request.get("cpt")
    reported = {n["id"] for _, out in _cases(det) for n in _kids(out, "service") if n.get("source") == "code"}
    code = f"CPT {cpt}" + (f" ({_lower(w.service(next(iter(reported))))})" if not svc and len(reported) == 1 else "") \
        if cpt else ""
    asked = ", ".join(x for x in (w.service(svc) if svc else "", code) if x) or "not stated"
    notes = tuple(dict.fromkeys(det.get("warnings") or ()))
    return Letter(
        outcome=det["outcome"], tone=data.outcomes[det["outcome"]].tone, decision=read.outcome_label,
        summary=read.summary, service=asked,
        date_of_service=request.get("date_of_service") or f"not stated; decided as of {(today or dt.date.today())}",
        policy_number=policy.number, policy_title=policy.title, version=v.id,
        effective=v.effective.isoformat() if v.effective else None, knowledge=v.knowledge,
        reasons=read.justification, changes=changes(det, data) or (_no_change(w, det, data),),
        questions=read.questions, scope=tuple(s for s in scope(det, data) if s not in read.justification),
        alternatives=alternatives(det, data),
        citations=tuple((c["section"], c["quote"]) for c in det.get("citations") or ()), notes=notes)


def _no_change(w: _Words, det: dict[str, Any], data: VersionData) -> str:
    """When no criterion or question would change it: why, by the outcome's meaning."""
    meaning = data.outcomes[det["outcome"]].meaning
    return {
        "covered": "None needed: the record shows what the policy requires.",
        "denied": "The policy decides this service without conditions on the patient that documentation could "
                  "meet; under this version no further documentation changes the decision.",
        "referred": "Another coverage policy or benefit decides this service; send the request there.",
        "not_addressed": "This policy does not decide the service as requested; documentation that brings it "
                         "within the policy's scope, or another policy, may.",
        "unknown": "The text of this version that would decide it is not known to covkb; the payer's copy of the "
                   "policy decides.",
    }.get(meaning, "See the reasons above.")


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
