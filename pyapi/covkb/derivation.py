"""The derivation's contract: what each node of a proof is, read once.

kb/derivation.pl declares every node kind both engines build, its
attributes, their types, which may be absent and which ids some may take.
``contract()`` reads it; ``Contract.violations`` checks one case an engine
returned against it, which ``KnowledgeBase`` does at the engine boundary
when the environment sets COVKB_CHECK_CONTRACT (the tests do), so that an
engine cannot emit a node kind or attribute the rest of covkb does not
know; ``Contract.trace_violations`` likewise checks the trace an engine
returns (``trace_atom/3``, ``trace_source/2``), which covkb.explain reads.  ``Contract.reported`` chooses, by the declared error_precedence/2,
the one error reported among all an engine found for a request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import CovkbError, from_engine
from .facts import Term, Value, atom, read_declarations
from .paths import kb_dir


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: str             # id | text | bool | integer | value | assumptions | list
    item: str | None      # a list's item type
    nullable: bool
    optional: bool
    values: frozenset[str]  # the ids it may take, where declared (else any)


@dataclass(frozen=True, slots=True)
class NodeKind:
    name: str
    label: str
    attributes: dict[str, Attribute]


EngineErrorData = tuple[str, str, dict[str, Any]]  # (code, key, args) as an engine reports it


@dataclass(frozen=True)
class Contract:
    kinds: dict[str, NodeKind]
    precedence: dict[str, int]  # error key -> rank (error_precedence/2)
    trace: dict[str, int] = field(default_factory=dict)    # trace atom -> arity (trace_atom/3)
    sources: dict[str, int] = field(default_factory=dict)  # trace source -> arity (trace_source/2)

    def trace_violations(self, atoms: Any, *, limit: int = 5) -> list[str]:
        """What in a trace (atoms as sequences, name first) is not declared:
        an atom's name or arity, a settled fact's source."""
        out = []
        for a in atoms:
            name = a[0] if len(a) else None
            if self.trace.get(name) != len(a) - 1:
                out.append(f"trace atom {list(a)!r} is not declared (trace_atom/3)")
            elif name == "settled" and not self.source_fits(a[3]):
                out.append(f"trace source {a[3]!r} is not declared (trace_source/2)")
            if len(out) >= limit:
                break
        return out

    def source_fits(self, src: Any) -> bool:
        if isinstance(src, str):
            return self.sources.get(src) == 0
        return isinstance(src, (list, tuple)) and len(src) > 1 and self.sources.get(src[0]) == len(src) - 1

    def reported(self, errors: list[EngineErrorData]) -> EngineErrorData:
        """The error a request reports among all that apply to it: the least
        by declared rank, then by its arguments as canonical JSON.  A key
        the contract does not rank is an error of the engine, not a default."""
        unranked = sorted({k for _, k, _ in errors if k not in self.precedence})
        if unranked:
            raise ValueError(f"error {unranked[0]!r} has no error_precedence/2 in kb/derivation.pl")
        return min(errors, key=lambda e: (self.precedence[e[1]], json.dumps(e[2], sort_keys=True)))

    def violations(self, outcome: str, proof: dict[str, Any], outcomes: Any, *, limit: int = 5) -> list[str]:
        """What in one engine case breaks the contract: its outcome (not among
        the version's declared ``outcomes``) or a node of its proof."""
        out = []
        if outcome not in outcomes:
            out.append(f"case outcome {outcome!r} is not declared")
        for n, path in _nodes(proof, "proof"):
            out += self._node(n, path)
            if len(out) >= limit:
                break
        return out[:limit]

    def _node(self, n: Any, path: str) -> list[str]:
        if not isinstance(n, dict) or not isinstance(n.get("children", []), list):
            return [f"{path}: not a node"]
        kind = self.kinds.get(n.get("kind"))  # type: ignore[arg-type]
        if kind is None:
            return [f"{path}: node kind {n.get('kind')!r} is not declared"]
        out = [f"{path}: {kind.name} has no attribute {k!r}" for k in n
               if k not in ("kind", "children") and k not in kind.attributes]
        for a in kind.attributes.values():
            if a.name not in n:
                if not a.optional:
                    out.append(f"{path}: {kind.name} lacks {a.name!r}")
            elif not _fits(n[a.name], a):
                out.append(f"{path}: {kind.name}.{a.name} = {n[a.name]!r} is not a {_show(a)}")
        return out


def _nodes(n: Any, path: str):
    yield n, path
    if isinstance(n, dict):
        for i, c in enumerate(n.get("children") or ()):
            yield from _nodes(c, f"{path}/{i}")


def _is(v: Any, type_: str) -> bool:
    if type_ in ("id", "text"):
        return isinstance(v, str)
    if type_ == "bool":
        return isinstance(v, bool)
    if type_ == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if type_ == "value":
        return isinstance(v, (str, int)) and not isinstance(v, bool)
    if type_ == "assumptions":
        return isinstance(v, list) and all(isinstance(x, dict) and {"fact", "value", "rank"} <= set(x) for x in v)
    return False


def _fits(v: Any, a: Attribute) -> bool:
    if v is None:
        return a.nullable
    if a.type == "list":
        return isinstance(v, list) and all(_is(x, a.item or "text") for x in v)
    return _is(v, a.type) and (not a.values or v in a.values)


def _show(a: Attribute) -> str:
    t = f"list of {a.item}" if a.type == "list" else a.type
    return f"{t} or null" if a.nullable else t


def _type(t: Value) -> tuple[str, str | None, bool]:
    """(type, list item type, nullable) of a declared type term."""
    if isinstance(t, Term) and t.name == "nullable" and len(t.args) == 1:
        inner, item, _ = _type(t.args[0])
        return inner, item, True
    if isinstance(t, Term) and t.name == "list" and len(t.args) == 1:
        return "list", atom(t.args[0]), False
    return atom(t), None, False


@lru_cache(maxsize=4)
def _read(path: str) -> Contract:
    from pathlib import Path

    facts = read_declarations(Path(path))
    rows = lambda name: [f.args for f in facts if f.name == name]  # noqa: E731
    optional = {(atom(k), atom(a)) for k, a in rows("node_optional")}
    values: dict[tuple[str, str], set[str]] = {}
    for k, a, v in rows("node_value"):
        values.setdefault((atom(k), atom(a)), set()).add(atom(v))
    attrs: dict[str, dict[str, Attribute]] = {}
    for k, a, t in rows("node_attribute"):
        kind, name = atom(k), atom(a)
        type_, item, nullable = _type(t)
        attrs.setdefault(kind, {})[name] = Attribute(name, type_, item, nullable, (kind, name) in optional,
                                                     frozenset(values.get((kind, name), ())))
    kinds = {atom(k): NodeKind(atom(k), str(label), attrs.get(atom(k), {})) for k, label in rows("node_kind")}
    precedence = {atom(k): int(r) for k, r in rows("error_precedence")}  # type: ignore[call-overload]
    trace = {atom(n): int(a) for n, a, _ in rows("trace_atom")}  # type: ignore[call-overload]
    sources = {atom(n): int(a) for n, a in rows("trace_source")}  # type: ignore[call-overload]
    return Contract(kinds, precedence, trace, sources)


def contract() -> Contract:
    """kb/derivation.pl, read once per KB folder."""
    return _read(str(kb_dir() / "derivation.pl"))


def reported_error(errors: list[EngineErrorData]) -> CovkbError:
    """The error a request gets, of all an engine found for it (in the order
    kb/derivation.pl declares), as the exception tree's."""
    return from_engine(*contract().reported(errors))


def checking() -> bool:
    """Whether the engine boundary checks every case (COVKB_CHECK_CONTRACT)."""
    return bool(os.environ.get("COVKB_CHECK_CONTRACT"))
