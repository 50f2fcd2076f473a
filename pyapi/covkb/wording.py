"""Facts and regions in a policy's own words, for diff and compare.

Labels come from the vocabularies (service/2, finding/2, patient_fact/2,
fact_value/3, qualifier/2); nothing here names a policy's terms.  A yes/no
patient fact is negated in its label ("The patient is X" → "The
patient is not X", "has Y" → "does not have Y"); a finding reads "no <finding>".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .policy import Vocabulary


@dataclass
class Words:
    """The labels of one or more vocabularies (the later one wins)."""

    services: dict[str, str] = field(default_factory=dict)
    findings: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    qualifiers: dict[str, str] = field(default_factory=dict)
    statements: dict[str, str] = field(default_factory=dict)  # id → outcome

    @classmethod
    def of(cls, *vocabularies: Vocabulary) -> Words:
        w = cls()
        for v in vocabularies:
            w.services.update(v.services)
            w.findings.update(v.findings)
            w.facts.update(v.patient_facts)
            w.qualifiers.update(v.qualifiers)
            w.statements.update(v.statements)
        return w

    def label(self, id_: str) -> str:
        return self.services.get(id_) or self.findings.get(id_) or self.facts.get(id_) or id_

    def phrase(self, fact: str, value: str) -> str:
        """One fixed fact of a region, as a reader would say it."""
        if fact == "service":
            return "the service is " + _lower(self.services.get(value, value)) if value != "other" else \
                "a service this policy does not name"
        if fact in self.qualifiers:
            return f"{_lower(self.qualifiers[fact])}: {value}"
        if fact in self.facts and fact not in self.findings:
            label = self.facts[fact]
            if value == "yes":
                return label
            if value == "no":
                return _negate(label)
            return f"{label}: {value}"
        label = self.findings.get(fact, fact)
        return label if value == "yes" else f"no {_lower(label)}" if value == "no" else f"{label}: {value}"

    def root(self, root: dict[str, Any]) -> str:
        parts = []
        if "service" in root:
            parts.append(self.services.get(root["service"], root["service"]))
        if "cpt" in root:
            parts.append(f"CPT {root['cpt']}")
        parts += [f"{_lower(self.qualifiers.get(k, k))} {v}" for k, v in root.items() if k not in ("service", "cpt")]
        return ", ".join(parts)


def _lower(s: str) -> str:
    return s[:1].lower() + s[1:] if s[1:2].islower() else s


def _negate(label: str) -> str:
    """"The patient is X" → "The patient is not X"; "has" → "does not have"."""
    for pat, rep in ((r"\bis\b", "is not"), (r"\bhas\b", "does not have"), (r"\bhave\b", "do not have")):
        if re.search(pat, label):
            return re.sub(pat, rep, label, count=1)
    return "not: " + label


__all__ = ["Words"]
