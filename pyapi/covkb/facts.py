"""Read KB fact files as data, through clingo's parser.

The fact files are one syntax for both engines; Python reads them the same
way clingo does, so there is no third parser to drift.  Each fact becomes a
``Fact`` (predicate name, tuple of Python values).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import clingo

from .errors import KnowledgeBaseError

Value = Union[str, int, "Term"]


@dataclass(frozen=True, slots=True)
class Term:
    """A compound term such as applies_to(s, svc), or a bare atom (no args)."""

    name: str
    args: tuple[Value, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(_show(a) for a in self.args)})"


def _show(v: Value) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    args: tuple[Value, ...]


def _value(sym: clingo.Symbol) -> Value:
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.Function and not sym.arguments:
        return Term(sym.name)
    return Term(sym.name, tuple(_value(a) for a in sym.arguments))


def atom(v: Value) -> str:
    """The id of a bare-atom value (raises on anything else)."""
    if isinstance(v, Term) and not v.args:
        return v.name
    raise KnowledgeBaseError(f"expected an id, found {v}")


def read_facts(files: Iterable[Path]) -> list[Fact]:
    """Parse and ground the files alone; they hold facts only."""
    messages: list[str] = []
    ctl = clingo.Control(["--warn=none"], logger=lambda _code, msg: messages.append(msg))
    try:
        for f in files:
            ctl.load(str(f))
        ctl.ground([("base", [])])
    except RuntimeError as exc:
        detail = messages[0].strip().splitlines()[0] if messages else str(exc)
        raise KnowledgeBaseError(f"cannot read KB facts: {detail}", code="kb_syntax") from exc
    out = []
    for sa in ctl.symbolic_atoms:
        if sa.is_fact:
            s = sa.symbol
            out.append(Fact(s.name, tuple(_value(a) for a in s.arguments)))
    return out
