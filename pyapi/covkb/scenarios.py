"""Every distinct relevant request for one policy version.

The subjects are each service, each code of the coding table plus one code it
does not list, and each code with each service; a code that takes a
qualifier comes with each of the qualifier's values, one value the table
does not list, and none.  Each subject is combined with every combination of
the facts its statements can depend on, each fact in three states:

* every scope fact (scope/3), first;
* every patient fact a statement on the subject's services depends on, or
  the subject's code settles (to exercise contradictions);
* every finding a statement on the subject's services names, with its more
  general and more specific forms (the ontology): present, absent, unknown.

A fact's states are its values and unknown, each written as the request
fields that settle it (``VersionData.realize``: the field that states it, a
code-list code); a state no field can express is left out.  Facts that
number rules read from one numeric field share one dimension: the numbers on
either side of each threshold, and absent.  The facts are read from the KB (scope/3,
requires/4, criterion/4, finding_example/4, finding_is_a/2, code_implies/4),
never listed here.  Invalid requests (a code
that does not report the service, a code that contradicts a fact the request states) are
kept: both engines must reject them with the same error.  The order is
deterministic.  ``python -m covkb.scenarios`` prints the size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from .facts import atom
from .limits import CLOSED_READING
from .policy import Policy, VersionData

class _Kb:
    """The few relations of a version the scenario space is drawn from."""

    def __init__(self, data: VersionData) -> None:
        self.data = data
        self.vocab = data.vocabulary

        def ids(name: str, i: int, j: int) -> list[tuple[str, str]]:
            return [(_id(r[i]), _id(r[j])) for r in data.rows(name)]

        self.services = data.hierarchy.services
        self.findings = data.hierarchy.findings
        self.applies_to = ids("applies_to", 0, 1)
        self.statement_facts = ids("requires", 0, 1) + ids("criterion", 0, 2)
        self.code_reports = ids("code_reports", 0, 1)
        self.code_qualifier = {(r[0], _id(r[1])): _id(r[3]) for r in data.rows("code_qualifier")}
        self.code_implies = {(r[0], _id(r[1])) for r in data.rows("code_implies")}
        self.scope = sorted(self.vocab.scope)
        self._states: dict[str, list[dict[str, Any]]] = {}
        # numeric fields: which facts each settles, at which thresholds
        self.number_rules: dict[str, list[tuple[str, int]]] = {}
        for name in ("number_at_least", "number_below"):
            for r in data.rows(name):
                self.number_rules.setdefault(_id(r[0]), []).append((_id(r[1]), r[2]))

    def statements_on(self, services: set[str]) -> set[str]:
        general = self.services.above(services)  # a statement on g applies to every form of g
        return {st for st, g in self.applies_to if g in general}

    def facts_of(self, services: set[str], code: str | None) -> list[str]:
        """The facts the subject depends on: scope facts first, then patient
        facts by id, then findings (with their ontology) by id."""
        named = {f for st, f in self.statement_facts if st in self.statements_on(services)}
        findings = (named & set(self.vocab.findings)) - set(self.scope)
        up, down = self.findings.above(findings), self.findings.below(findings)
        patient = {f for f in self.vocab.patient_facts if f in named or (code, f) in self.code_implies}
        return self.scope + sorted(patient - set(self.scope)) + sorted((up | down) - set(self.scope))

    def dimensions(self, facts: list[str]) -> list[list[dict[str, Any]]]:
        """The independent request settings for these facts."""
        return [states for _, states in self.labelled_dimensions(facts)]

    def labelled_dimensions(self, facts: list[str]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
        """The independent request settings for these facts, each with the
        facts it settles; its last state is always unknown (a finding listed
        as unknown, a field left out).  A fact no field
        states but a number rule settles is one dimension per numeric field:
        the numbers on either side of every threshold of the facts it
        settles here, then absent (so facts read from one field are never
        combined into requests that contradict each other or repeat)."""
        dims: list[tuple[list[str], list[dict[str, Any]]]] = []
        numeric: dict[str, set[int]] = {}
        numeric_facts: dict[str, list[str]] = {}
        for fact in facts:
            stated = any(f.fact == fact for f in self.vocab.fields.values())
            rules = [(fld, t) for fld, t in self.number_rules.get(fact, ()) if fld in self.vocab.fields]
            if rules and not stated and fact not in self.vocab.findings:
                for fld, t in rules:
                    if fld not in numeric:
                        numeric[fld], numeric_facts[fld] = set(), []
                        dims.append((numeric_facts[fld], [{"__numeric__": fld}]))  # filled in below, in first-seen order
                    numeric[fld] |= {t - 1, t}
                    numeric_facts[fld].append(fact)
            else:
                dims.append(([fact], self.states(fact)))
        out = []
        for settles, d in dims:
            if len(d) == 1 and "__numeric__" in d[0]:
                f = self.vocab.fields[d[0]["__numeric__"]]
                lo = f.minimum if f.minimum is not None else -(10**9)
                hi = f.maximum if f.maximum is not None else 10**9
                d = [{f.name: n} for n in sorted(numeric[f.name]) if lo <= n <= hi] + [{}]
            out.append((tuple(dict.fromkeys(settles)), d))
        return out

    def states(self, fact: str) -> list[dict[str, Any]]:
        """A fact's states (each of its values, then unknown) as request fields."""
        if fact not in self._states:
            values = [*self.vocab.domain(fact), "unknown"]
            if fact in self.vocab.findings and fact not in self.vocab.patient_facts:
                out = [{"findings": [fact]}, {}, {"unknown_findings": [fact]}]
            else:
                out = [r for v in values if (r := self.data.realize(fact, v)) is not None]
            self._states[fact] = out
        return self._states[fact]

    def below(self, s: str) -> set[str]:
        return self.services.below({s})

    def about(self, code: str, qvalue: str | None, service: str | None) -> set[str]:
        """The services a code (with a qualifier value, or none) and a requested
        service may be about: of the reported and the requested service, the more
        specific when one is a form of the other, with its specific forms."""
        out: set[str] = set()
        for c, s0 in self.code_reports:
            if c != code or (qvalue is not None and self.code_qualifier.get((c, s0)) not in (None, qvalue)):
                continue
            if service is None or s0 in self.below(service):
                out |= self.below(s0)
            elif service in self.below(s0):
                out |= self.below(service)
        return out


def _id(v: Any) -> str:
    return atom(v) if not isinstance(v, str) else v


def _unlisted(taken: set[str], candidates: list[str]) -> str:
    return next(c for c in candidates if c not in taken)


def _subjects(kb: _Kb) -> Iterator[tuple[dict[str, Any], set[str], str | None]]:
    """(request fields, services the request may be about, code)."""
    vocab = kb.vocab
    services = sorted(vocab.services)
    codes = sorted(vocab.codes) + [_unlisted(set(vocab.codes), ["99999", "99998", "00000"])]
    for s in services:
        yield {"service": s}, kb.below(s), None
    for code in codes:
        q = vocab.code_qualifiers.get(code)
        values: list[str | None] = [None]
        if q is not None:
            known = list(vocab.qualifier_values[q])
            values = [*known, _unlisted(set(known), ["unlisted_" + q, "other_" + q]), None]
        for v, svc in itertools.product(values, [None, *services]):
            fields: dict[str, Any] = {"cpt": code}
            if q and v:
                fields[q] = v
            if svc:
                fields["service"] = svc
            yield fields, kb.about(code, v, svc), code


def _merge(parts: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, []) + v if isinstance(v, list) else v
    return out


def scenarios(data: VersionData) -> Iterator[dict[str, Any]]:
    """Every distinct relevant request of the version (no date), in a fixed
    order.  Each reads an unlisted finding as absent (``unlisted_findings``),
    stated outright: a finding's three states are present, absent (not
    listed) and unknown."""
    for _, _, requests in by_subject(data):
        yield from requests


def by_subject(data: VersionData) -> Iterator[tuple[dict[str, Any], list[str], Iterator[dict[str, Any]]]]:
    """The scenarios subject by subject: (the subject's request fields, the
    facts its scenarios vary, its scenarios), in scenarios()' order."""
    kb = _Kb(data)
    for fields, about, code in _subjects(kb):
        facts = kb.facts_of(about, code)
        combos = itertools.product(*kb.dimensions(facts))
        yield fields, facts, ({**fields, **CLOSED_READING, **_merge(c)} for c in combos)


def size(data: VersionData) -> int:
    """The number of scenarios (counted, not enumerated)."""
    kb = _Kb(data)
    total = 0
    for _, about, code in _subjects(kb):
        n = 1
        for d in kb.dimensions(kb.facts_of(about, code)):
            n *= len(d)
        total += n
    return total


if __name__ == "__main__":
    policy = Policy()
    for version in policy.versions:
        print(f"{policy.number} {version.id}: {size(policy.data(version))} scenarios")
