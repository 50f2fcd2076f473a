"""A version's service and finding hierarchies: each id's more general and
more specific forms, read once per version (``VersionData.hierarchy``).

Services form one (service_is_a/2); findings another (finding_is_a/2 and
finding_example/4: an example of a finding is a more specific form of it).
Everything that follows the ontology in Python (scenarios, diff, check,
compare, the web pages, the FHIR mapping) asks it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .facts import Fact, atom, closure


@dataclass(frozen=True)
class Forms:
    """One is-a hierarchy, as (more specific form, more general form) edges."""

    edges: tuple[tuple[str, str], ...]

    @cached_property
    def _down(self) -> tuple[tuple[str, str], ...]:
        return tuple((g, s) for s, g in self.edges)

    @cached_property
    def _memo(self) -> dict[tuple[bool, str], frozenset[str]]:
        return {}

    def _reach(self, up: bool, x: str) -> frozenset[str]:
        # per id, once: scenarios and diff ask the same ids many times
        hit = self._memo.get((up, x))
        if hit is None:
            hit = self._memo[(up, x)] = frozenset(closure({x}, self.edges if up else self._down))
        return hit

    def above(self, ids: Iterable[str]) -> set[str]:
        """The ids and every more general form of them."""
        return set().union(*(self._reach(True, x) for x in ids))

    def below(self, ids: Iterable[str]) -> set[str]:
        """The ids and every more specific form of them."""
        return set().union(*(self._reach(False, x) for x in ids))

    def related(self, ids: Iterable[str]) -> set[str]:
        """The ids, their more specific forms, and every more general form of
        those: what a statement bearing on a request about the ids may apply to."""
        return self.above(self.below(ids))

    @cached_property
    def _generals(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for s, g in self.edges:
            out.setdefault(s, set()).add(g)
        return {s: frozenset(gs) for s, gs in out.items()}

    def generals(self, x: str) -> frozenset[str]:
        """The direct more general forms of x."""
        return self._generals.get(x, frozenset())

    @cached_property
    def general(self) -> frozenset[str]:
        """The ids that have a more specific form."""
        return frozenset(g for _, g in self.edges)

    def leaves(self, x: str) -> set[str]:
        """The most specific forms of x (x itself if it has none)."""
        return {s for s in self.below({x}) if s not in self.general} or {x}

    def merged(self, other: Forms) -> Forms:
        """Both hierarchies as one (two versions' ontologies read together)."""
        return Forms(tuple(dict.fromkeys(self.edges + other.edges)))


@dataclass(frozen=True)
class Hierarchy:
    """A version's two hierarchies."""

    services: Forms
    findings: Forms

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> Hierarchy:
        """Read from facts, in their order."""
        services: list[tuple[str, str]] = []
        findings: list[tuple[str, str]] = []
        for f in facts:
            if f.name == "service_is_a":
                services.append((atom(f.args[0]), atom(f.args[1])))
            elif f.name in ("finding_is_a", "finding_example"):
                findings.append((atom(f.args[0]), atom(f.args[1])))
        return cls(Forms(tuple(services)), Forms(tuple(findings)))

    def merged(self, other: Hierarchy) -> Hierarchy:
        return Hierarchy(self.services.merged(other.services), self.findings.merged(other.findings))
