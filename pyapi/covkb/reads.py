"""What a version reads: the request fields, findings and services its rules
depend on, worked out from its facts (never listed here).

A vocabulary may be shared by several policies (kb/vocabularies/), so it
declares more fields and findings than any one policy reads: a count only
another payer's definition reads is no field of this policy's.  A version
reads

* the facts its scope (scope/3) and its statements (requires/4,
  criterion/4) name;
* each finding among them with its more general and more specific forms
  (finding_is_a/2, finding_example/4): a request may state any of them;
* each request field that settles one of those facts: the field that
  states it (field_fact/2), a count or measurement a number rule reads
  (number_at_least/5, number_below/5), a code list whose codes settle it
  (listed_code_implies/4);
* the services its statements and its coding table name, with their more
  general and more specific forms, and the qualifiers of its codes.

The web form asks exactly these (``covkb.web``), so one policy's form never
asks what only another policy's rules read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .facts import atom

if TYPE_CHECKING:
    from .policy import VersionData


@dataclass(frozen=True, slots=True)
class Reads:
    """The parts of the request language a version (or several) reads."""

    facts: frozenset[str]       # patient facts and findings the scope and the statements name
    findings: frozenset[str]    # findings a request may state, with their forms
    fields: frozenset[str]      # request fields that settle a fact read
    services: frozenset[str]    # services the statements and the coding table name, with their forms
    qualifiers: frozenset[str]  # qualifiers of the coding table's codes

    def __or__(self, other: Reads) -> Reads:
        return Reads(self.facts | other.facts, self.findings | other.findings, self.fields | other.fields,
                     self.services | other.services, self.qualifiers | other.qualifiers)


def reads(data: VersionData) -> Reads:
    """What this version's rules read (see the module docstring)."""
    vocab = data.vocabulary
    facts = {atom(r[0]) for r in data.rows("scope")} | {atom(r[1]) for r in data.rows("requires")} | \
        {atom(r[2]) for r in data.rows("criterion")}
    named = facts & set(vocab.findings)
    forms = data.hierarchy.findings
    findings = forms.above(forms.below(named)) | forms.below(named)
    fields = {f.name for f in vocab.fields.values() if f.fact in facts}
    for name in ("number_at_least", "number_below"):
        fields |= {atom(r[1]) for r in data.rows(name) if atom(r[0]) in facts}
    fields |= {atom(r[0]) for r in data.rows("listed_code_implies") if atom(r[2]) in facts}
    services = {atom(r[1]) for r in data.rows("applies_to")} | {atom(r[1]) for r in data.rows("code_reports")} | \
        {atom(r[1]) for r in data.rows("code_qualifier")}
    qualifiers = {atom(r[2]) for r in data.rows("code_qualifier")}
    return Reads(frozenset(facts), frozenset(findings), frozenset(fields & set(vocab.fields)),
                 frozenset(data.hierarchy.services.related(services) & set(vocab.services)),
                 frozenset(qualifiers & set(vocab.qualifiers)))
