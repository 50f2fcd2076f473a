"""Determinations: the typed answers the API returns.

Built from what an evaluator derived (``Determination.from_engine``); never
raw pyswip or clingo values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .policy import VersionData


@dataclass(frozen=True, slots=True)
class Citation:
    section: str          # section id in the KB
    section_path: str     # "Coverage Policy > Treatment"
    quote: str            # verbatim in the version's source text

    def to_dict(self) -> dict[str, str]:
        return {"section": self.section_path, "quote": self.quote}


@dataclass(frozen=True, slots=True)
class Node:
    """One step of a derivation: what was concluded, from which children."""

    kind: str
    attrs: tuple[tuple[str, Any], ...]
    children: tuple[Node, ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        children = tuple(cls.from_dict(c) for c in d.get("children", ()))
        attrs = tuple(sorted((k, _freeze(v)) for k, v in d.items() if k not in ("kind", "children")))
        return cls(d["kind"], attrs, children)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        d.update({k: _thaw(v) for k, v in self.attrs})
        d["children"] = [c.to_dict() for c in self.children]
        return d

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    return v


def _thaw(v: Any) -> Any:
    if isinstance(v, tuple) and v and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v):
        return {k: _thaw(x) for k, x in v}
    if isinstance(v, tuple):
        return [_thaw(x) for x in v]
    return v


@dataclass(frozen=True, slots=True)
class Determination:
    outcome: str
    policy: str
    version: str
    statement: str | None
    criteria_met: tuple[str, ...]
    missing: tuple[str, ...]
    possible_outcomes: tuple[str, ...]
    referral: str | None
    citations: tuple[Citation, ...]
    explanation: Node
    warnings: tuple[str, ...] = ()
    engine: str = field(default="prolog", compare=False)

    @classmethod
    def from_engine(
        cls, raw: dict[str, Any], *, policy: str, data: VersionData, warnings: list[str], engine: str
    ) -> Determination:
        cites = {(c["section"], c["quote"]) for c in raw["citations"]}
        # Document order: where each quote stands in the source text.
        ordered = sorted(cites, key=lambda sq: (data.quote_position(sq[1]), sq[1]))
        return cls(
            outcome=raw["outcome"],
            policy=policy,
            version=data.version.id,
            statement=raw.get("statement"),
            criteria_met=tuple(sorted(raw.get("criteria_met", ()))),
            missing=tuple(raw.get("missing", ())),
            possible_outcomes=tuple(sorted(raw.get("possible_outcomes", ()))),
            referral=raw.get("referral"),
            citations=tuple(Citation(s, data.section_path(s), q) for s, q in ordered),
            explanation=Node.from_dict(raw["explanation"]) if "explanation" in raw else Node("omitted", ()),
            warnings=tuple(warnings),
            engine=engine,
        )

    def to_dict(self, *, explanation: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "outcome": self.outcome,
            "policy": self.policy,
            "version": self.version,
            "statement": self.statement,
            "criteria_met": list(self.criteria_met),
            "missing": list(self.missing),
            "possible_outcomes": list(self.possible_outcomes),
            "referral": self.referral,
            "citations": [c.to_dict() for c in self.citations],
            "warnings": list(self.warnings),
        }
        if explanation:
            d["explanation"] = self.explanation.to_dict()
        return d

    def comparable(self) -> dict[str, Any]:
        """The fields two engines must agree on."""
        d = self.to_dict(explanation=False)
        d.pop("warnings")
        return d
