"""Ids in a policy's own words: the one place an id becomes English.

Every reading comes from kb/: the templates a policy declares
(outcome_reads/2, fact_reads/3, fact_asks/2, statement_reads/2,
criterion_reads/3 in kb/schema.pl, as s(CASP)'s #pred declarations) and,
where an id has none, its label (service/2, finding/2, patient_fact/2,
fact_value/3, qualifier/2, request_field/3, outcome/2).  A yes/no patient
fact without a template is negated in its label ("The patient is X" → "the
patient is not X", "has Y" → "does not have Y"); a finding reads "no
<finding>".  diff, compare, covkb.sentences and the renderers all read ids
through ``Words``; nothing here names a policy's terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .policy import Vocabulary


@dataclass
class Words:
    """The labels and templates of one or more vocabularies (the later one wins)."""

    services: dict[str, str] = field(default_factory=dict)
    findings: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    qualifiers: dict[str, str] = field(default_factory=dict)
    statements: dict[str, str] = field(default_factory=dict)  # id → outcome
    outcomes: dict[str, str] = field(default_factory=dict)    # outcome/2 labels
    fields: dict[str, str] = field(default_factory=dict)      # request_field/3 labels
    values: dict[tuple[str, str], str] = field(default_factory=dict)      # fact_value/3 labels
    outcome_words: dict[str, str] = field(default_factory=dict)           # outcome_reads/2
    clauses: dict[tuple[str, str], str] = field(default_factory=dict)     # fact_reads/3
    questions: dict[str, str] = field(default_factory=dict)              # fact_asks/2
    statement_words: dict[str, str] = field(default_factory=dict)        # statement_reads/2
    criterion_words: dict[tuple[str, str], str] = field(default_factory=dict)  # criterion_reads/3

    @classmethod
    def of(cls, *vocabularies: Vocabulary) -> Words:
        if len(vocabularies) == 1:  # one per version: built once, read by every answer
            hit = _OF.get(id(vocabularies[0]))
            if hit is not None and hit[0] is vocabularies[0]:
                return hit[1]
        w = cls()
        for v in vocabularies:
            w.services.update(v.services)
            w.findings.update(v.findings)
            w.facts.update(v.patient_facts)
            w.qualifiers.update(v.qualifiers)
            w.statements.update(v.statements)
            w.outcomes.update(v.outcomes)
            w.fields.update({n: f.label for n, f in v.fields.items()})
            w.values.update(v.value_labels)
            w.outcome_words.update(v.outcome_readings)
            w.clauses.update(v.fact_readings)
            w.questions.update(v.fact_questions)
            w.statement_words.update(v.statement_readings)
            w.criterion_words.update(v.criterion_readings)
        if len(vocabularies) == 1:
            if len(_OF) >= 64:  # drafts come and go (the web's uploads): keep a few versions' words
                _OF.clear()
            _OF[id(vocabularies[0])] = (vocabularies[0], w)
        return w

    # -- labels ---------------------------------------------------------------

    def label(self, id_: str) -> str:
        return (self.services.get(id_) or self.findings.get(id_) or self.facts.get(id_)
                or self.qualifiers.get(id_) or self.fields.get(id_) or id_)

    def labelled(self, id_: str) -> bool:
        """The id has a label or a template: a person should never read it bare."""
        return (id_ in self.services or id_ in self.findings or id_ in self.facts or id_ in self.qualifiers
                or id_ in self.fields or id_ in self.outcomes or id_ in self.statement_words)

    def noun(self, fact: str) -> str:
        """A fact or finding as the thing it is ("a finding, by its label")."""
        return lower(self.label(fact))

    # -- templates, with the labels as fallback --------------------------------

    def heading(self, outcome: str) -> str:
        """The outcome's label, as a heading names the decision (outcome/2)."""
        return self.outcomes.get(outcome) or outcome.replace("_", " ").capitalize()

    def outcome(self, outcome: str) -> str:
        """The decision as a sentence opens with it ("Medically necessary")."""
        return self.outcome_words.get(outcome) or self.outcomes.get(outcome) or outcome.replace("_", " ").capitalize()

    def clause(self, fact: str, value: Any) -> str:
        """A fact or finding with a value, as a clause ("the patient is
        X"); value unknown: what the record does not say ("whether
        the patient is X")."""
        value = str(value)
        hit = self.clauses.get((fact, value))
        if hit:
            return hit
        if fact in self.facts and fact not in self.findings:
            label = lower(self.facts[fact])
            if (fact, value) in self.values:
                return f"{label}: {lower(self.values[(fact, value)])}"
            if value == "unknown":
                return label if any(f == fact for f, _ in self.values) else f"whether {label}"
            return {"yes": label, "no": _negate(label)}.get(value, f"{label}: {value}")
        label = lower(self.findings.get(fact, self.label(fact)))
        return {"yes": label, "no": f"no {label}", "unknown": f"whether there is {label}"}.get(value, f"{label}: {value}")

    def unknown(self, fact: str) -> str:
        """What the record does not say, as a clause ("whether the patient is
        X", "the <qualifier>", "which service it is")."""
        if fact == "service":
            return "which service it is"
        if fact in self.qualifiers:
            return "the " + lower(self.qualifiers[fact])
        return self.clause(fact, "unknown")

    def question(self, fact: str) -> str:
        """The question that settles a fact ("Is the patient X?")."""
        hit = self.questions.get(fact)
        if hit:
            return hit
        if fact in self.qualifiers:
            return f"What is the {lower(self.qualifiers[fact])}?"
        values = [lower(t) for (f, _), t in self.values.items() if f == fact]
        if values:
            return f"{self.label(fact)}: {' or '.join(values)}?"
        if fact in self.findings:
            return f"{self.findings[fact]}: present or not?"
        return f"{self.label(fact)}: yes or no?"

    def statement(self, statement: str | None, service: str | None = None) -> str | None:
        """What a statement rules on, as a noun phrase (else its service's label)."""
        if statement and statement in self.statement_words:
            return self.statement_words[statement]
        return lower(self.services[service]) if service in self.services else None

    def statement_name(self, statement: str) -> str:
        """A statement named in a sentence: "the statement on <what it rules
        on>" (statement_reads/2), else "statement <id>" (it has no words)."""
        what = self.statement_words.get(statement)
        return f"the statement on {what}" if what else f"statement {statement}"

    def criterion(self, statement: str, member: str, fact: str | None = None) -> str:
        """A criterion or group as a noun phrase (else its fact's)."""
        hit = self.criterion_words.get((statement, member))
        if hit:
            return hit
        if fact and self.label(fact) != fact:
            return self.noun(fact)
        return member.replace("_", " ")

    # -- diff's and compare's regions --------------------------------------------

    def phrase(self, fact: str, value: str) -> str:
        """One fixed fact of a region, as a reader would say it."""
        if fact == "service":
            return "the service is " + lower(self.services.get(value, value)) if value != "other" else \
                "a service this policy does not name"
        if fact in self.qualifiers:
            return f"{lower(self.qualifiers[fact])}: {value}"
        return self.clause(fact, value)

    def root(self, root: dict[str, Any]) -> str:
        parts = []
        if "service" in root:
            parts.append(self.services.get(root["service"], root["service"]))
        if "cpt" in root:
            parts.append(f"CPT {root['cpt']}")
        parts += [f"{lower(self.qualifiers.get(k, k))} {v}" for k, v in root.items() if k not in ("service", "cpt")]
        return ", ".join(parts)


_OF: dict[int, tuple[Vocabulary, Words]] = {}


def lower(s: str) -> str:
    """A label inside a sentence: its first letter lower, unless it starts an acronym."""
    return s[:1].lower() + s[1:] if s[1:2].islower() or s[1:2] in (" ", "") else s


def _negate(label: str) -> str:
    """"the patient is X" → "the patient is not X"; "has" → "does not have"."""
    for pat, rep in ((r"\bis\b", "is not"), (r"\bhas\b", "does not have"), (r"\bhave\b", "do not have"),
                     (r"\bshows\b", "does not show")):
        if re.search(pat, label):
            return re.sub(pat, rep, label, count=1)
    return "not: " + label


__all__ = ["Words", "lower"]
