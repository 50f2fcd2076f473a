"""One step of a derivation, frozen: what was concluded, from which children.

covkb.explain builds the derivation tree as dicts from an engine's trace;
``Node.from_dict`` freezes it into the tree a ``Determination`` carries,
which covkb.sentences reads as sentences and covkb.render draws.  A module
of its own, so that determination and sentences, which both name it, need
not import each other for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any


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
        children = tuple([cls.from_dict(c) for c in d.get("children", ())])
        # most values are scalars, which freeze and thaw to themselves; keys are unique
        attrs = tuple(sorted([(k, v if v.__class__ in _SCALARS else _freeze(v)) for k, v in d.items()
                              if k != "kind" and k != "children"], key=_first))
        return cls(d["kind"], attrs, children)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        for k, v in self.attrs:
            d[k] = v if v.__class__ in _SCALARS else _thaw(v)
        d["children"] = [c.to_dict() for c in self.children]
        return d

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


_SCALARS = frozenset((str, int, float, bool, type(None)))
_first = itemgetter(0)


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
