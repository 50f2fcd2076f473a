"""Read fact files as data, through clingo's parser, and nothing else.

The fact files are one syntax for both engines; Python parses them with
clingo's own parser (``clingo.ast``), which never runs anything: a
``#script``, a rule, a variable or a predicate outside ``kb/schema.pl`` is
an error naming the file and line.  Drafts are user files, so this matters.
Facts come back as ``Fact`` (name, tuple of Python values) and can be
written back as text both engines read (``fact_text``).

The language is the one both engines read alike, and nothing more: UTF-8
text (a leading BOM is dropped) of ground facts whose ids are ASCII
``[a-z][A-Za-z0-9_]*``, whose numbers are 32-bit integers and whose
strings escape only ``\\``, ``\"`` and ``\n``; comments are clingo's.  A
scan (``_scan``) refuses anything else before clingo's parser sees the
text, which it gets as a string: no directive (``#include`` would make
it open a file), no classical negation (``-p(a)``, which it reads as a
fact), no prime or leading underscore in an id (SWI-Prolog reads neither
as the same atom), no tuple.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .errors import KnowledgeBaseError

if TYPE_CHECKING:  # clingo is imported where files are parsed: a cached KB does without it
    import clingo

Value = Union[str, int, "Term"]


@dataclass(frozen=True, slots=True)
class Term:
    """A compound term such as applies_to(s, svc), or a bare atom (no args)."""

    name: str
    args: tuple[Value, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({','.join(show(a) for a in self.args)})"


def show(v: Value) -> str:
    """A value in the shared fact syntax (strings escaped as clingo does)."""
    if isinstance(v, str):
        return _quote(v)
    return str(v)


def _quote(s: str) -> str:
    """A string as clingo writes it (``str(clingo.String(s))``: backslash,
    double quote and newline escaped), without importing clingo."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    args: tuple[Value, ...]

    def __str__(self) -> str:
        return f"{self.name}({','.join(show(a) for a in self.args)})." if self.args else f"{self.name}."


def _value(sym: clingo.Symbol) -> Value:
    import clingo

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


def _encode(v: Value) -> object:
    return {"t": v.name, "a": [_encode(a) for a in v.args]} if isinstance(v, Term) else v


def _decode(v: object) -> Value:
    return Term(v["t"], tuple(_decode(a) for a in v["a"])) if isinstance(v, dict) else v  # type: ignore[return-value]


def _parse(files: Iterable[Path], schema: frozenset[tuple[str, int]] | None) -> list[Fact]:
    """The facts of files; the KB's own files (under kb/) are parsed once and
    kept, as JSON data, in covkb's cache folder, keyed on the files' paths and
    contents (a user's draft is always parsed)."""
    import hashlib
    import json
    import os

    from .paths import cache_dir, kb_dir, write_cache

    files = [Path(f) for f in files]
    root = os.path.realpath(kb_dir())
    folder = cache_dir()
    key = None
    try:
        real = [os.path.realpath(f) for f in files]
        if folder is not None and all(r.startswith(root + os.sep) for r in real):
            h = hashlib.sha256(json.dumps([4, real, sorted(schema or ())]).encode())
            for r in real:  # keyed on the contents: an edit is never missed, however quick
                with open(r, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
            key = h.hexdigest()[:32]
            try:
                rows = json.loads((folder / f"facts-{key}.json").read_text(encoding="utf-8"))
                return [Fact(n, tuple(_decode(a) for a in args)) for n, args in rows]
            except (OSError, ValueError, TypeError, KeyError):
                pass
    except OSError:
        key = None
    facts = _parse_files(files, schema)
    if key is not None and folder is not None:
        write_cache(folder / f"facts-{key}.json", json.dumps([[f.name, [_encode(a) for a in f.args]] for f in facts]))
    return facts


_ID_REST = re.compile(r"[A-Za-z0-9_]*")
_INT_MAX = 2**31 - 1  # clingo's integers


def _scan(text: str, path: str) -> None:
    """Refuse, naming the line, any character or token outside the fact
    language (see the module's note); what passes is left to clingo's parser."""
    i, n, line = 0, len(text), 1
    prev = "."  # the last token: a fact starts after a full stop

    def fail(message: str) -> None:
        raise KnowledgeBaseError(f"{path}:{line}: {message}", code="kb_syntax")

    def rest() -> str:
        return text[i:].split("\n", 1)[0][:60]

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "%":
            if text.startswith("%*", i):
                j = text.find("*%", i + 2)
                if j < 0:
                    fail("a comment opened with %* is not closed")
                line += text.count("\n", i, j)
                i = j + 2
            else:
                j = text.find("\n", i)
                i = n if j < 0 else j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                d = text[j]
                if d == "\\":
                    if text[j + 1:j + 2] not in ("\\", '"', "n"):
                        fail(f"a string may escape only \\\\, \\\" and \\n: {rest()}")
                    j += 2
                    continue
                if unicodedata.category(d)[0] == "C":
                    fail(f"a string may not hold the control character U+{ord(d):04X}: {rest()}")
                j += 1
            if j >= n:
                fail(f"a string is not closed on its line: {rest()}")
            i, prev = j + 1, "value"
        elif "a" <= c <= "z":
            j = _ID_REST.match(text, i + 1).end()  # type: ignore[union-attr]
            if text[j:j + 1] == "'":
                fail(f"an id is letters, digits and underscores, without a prime: {rest()}")
            i, prev = j, "value"
        elif c.isascii() and (c.isupper() or c == "_"):
            fail(f"a fact must be ground (an id starts with a lower-case letter): {rest()}")
        elif "0" <= c <= "9" or (c == "-" and prev in "(," and text[i + 1:i + 2].isdigit() and text[i + 1].isascii()):
            j = i + 1
            while j < n and "0" <= text[j] <= "9":
                j += 1
            if abs(int(text[i:j])) > _INT_MAX:
                fail(f"the number {text[i:j][:20]} is out of range")
            i, prev = j, "value"
        elif c in "(),." and not (c == "." and text[i + 1:i + 2] == "."):
            i, prev = i + 1, c
        elif c == "-":
            fail(f"classical negation is not part of a fact: {rest()}")
        elif not c.isascii():
            fail(f"{c!r} (U+{ord(c):04X}) may appear only inside a string")
        else:
            fail(f"only facts are allowed, found: {rest()}")


def _ground_value(sym: clingo.Symbol) -> bool:
    """True for a value both engines read alike: no tuple, no negated term."""
    import clingo

    if sym.type == clingo.SymbolType.Function:
        return bool(sym.name) and sym.positive and all(_ground_value(a) for a in sym.arguments)
    return True


def _read_text(path: str) -> str:
    """A fact file's text: UTF-8, a leading BOM dropped."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start})",
                                 code="kb_syntax") from None


def _parse_files(files: Iterable[Path], schema: frozenset[tuple[str, int]] | None) -> list[Fact]:
    import clingo
    from clingo.ast import ASTType, parse_string

    facts: list[Fact] = []
    problems: list[str] = []

    current = [""]  # the file being parsed (clingo names a string "<string>")

    def where(stm) -> str:
        return f"{current[0]}:{stm.location.begin.line}"

    def on_statement(stm) -> None:
        if stm.ast_type == ASTType.Comment or (
            stm.ast_type == ASTType.Program and stm.name == "base" and len(stm.parameters) == 0
        ):
            return
        head = getattr(stm, "head", None)
        if stm.ast_type != ASTType.Rule or stm.body or head is None or head.ast_type != ASTType.Literal \
                or head.sign != 0 or head.atom.ast_type != ASTType.SymbolicAtom:
            problems.append(f"{where(stm)}: only facts are allowed, found: {str(stm).splitlines()[0][:60]}")
            return
        try:
            sym = clingo.parse_term(str(head.atom.symbol))
        except RuntimeError:
            problems.append(f"{where(stm)}: a fact must be ground: {str(stm)[:60]}")
            return
        if sym.type != clingo.SymbolType.Function or not _ground_value(sym):
            problems.append(f"{where(stm)}: only facts are allowed, found: {str(stm)[:60]}")
            return
        if schema is not None and (sym.name, len(sym.arguments)) not in schema:
            problems.append(f"{where(stm)}: {sym.name}/{len(sym.arguments)} is not a predicate of kb/schema.pl")
            return
        facts.append(Fact(sym.name, tuple(_value(a) for a in sym.arguments)))

    paths = [str(f) for f in files]
    for p in paths:
        if not Path(p).is_file():
            raise KnowledgeBaseError(f"no fact file {p}")
    for p in reversed(paths):  # the order clingo's parse_files read several files in: facts keep their order
        text = _read_text(p)
        _scan(text, p)
        current[0] = p
        messages: list[str] = []
        try:
            parse_string(text, on_statement, logger=lambda _c, m: messages.append(m))
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise KnowledgeBaseError(f"cannot parse KB facts: {detail.replace('<string>', p, 1)}",
                                     code="kb_syntax") from exc
        if problems:
            raise KnowledgeBaseError(problems[0], code="kb_syntax")
    return facts


@dataclass(frozen=True)
class Schema:
    """kb/schema.pl: the predicates a fact file may use, what each argument
    is (its role: statement, code, quote, section, subject, id, text, value)
    and which predicates only say how a revision is made."""

    predicates: frozenset[tuple[str, int]]
    roles: dict[str, dict[int, str]]        # predicate -> {position (0-based): role}
    revision_facts: frozenset[str]
    unique: tuple[tuple[str, int, int], ...] = ()   # (predicate, key arity, position (0-based))

    def ambiguities(self, facts: Iterable[Fact]) -> list[tuple[Fact, Fact]]:
        """Pairs of facts that break a unique/3 declaration: they agree on
        the key and differ at the position."""
        first: dict[tuple[str, int, int, tuple[Value, ...]], Fact] = {}
        out = []
        by_name: dict[str, list[tuple[int, int]]] = {}
        for name, key, pos in self.unique:
            by_name.setdefault(name, []).append((key, pos))
        for f in facts:
            for key, pos in by_name.get(f.name, ()):
                seen = first.setdefault((f.name, key, pos, f.args[:key]), f)
                if seen.args[pos] != f.args[pos]:
                    out.append((seen, f))
        return out

    def positions(self, name: str, role: str) -> list[int]:
        return [i for i, r in self.roles.get(name, {}).items() if r == role]


@lru_cache(maxsize=4)
def read_schema(path: Path) -> Schema:
    facts = read_declarations(path)
    roles: dict[str, dict[int, str]] = {}
    for f in facts:
        if f.name == "argument":
            roles.setdefault(atom(f.args[0]), {})[int(f.args[1]) - 1] = atom(f.args[2])  # type: ignore[arg-type]
    return Schema(
        frozenset((atom(f.args[0]), f.args[1]) for f in facts if f.name == "schema"),  # type: ignore[misc]
        roles,
        frozenset(atom(f.args[0]) for f in facts if f.name == "revision_fact"),
        tuple((atom(f.args[0]), int(f.args[1]), int(f.args[2]) - 1) for f in facts  # type: ignore[arg-type]
              if f.name == "unique"),
    )


def schema(path: Path) -> frozenset[tuple[str, int]]:
    """The predicates kb/schema.pl allows."""
    return read_schema(path).predicates


def read_declarations(path: Path) -> list[Fact]:
    """The facts of one of covkb's own declaration files (kb/schema.pl,
    kb/derivation.pl), which declare the schema rather than follow it."""
    return _parse([path], None)


def read_facts(files: Iterable[Path], schema_file: Path | None = None) -> list[Fact]:
    """Parse fact files: only ground facts of the schema, nothing runs."""
    from .paths import kb_dir

    return _parse(files, schema(schema_file or kb_dir() / "schema.pl"))


def kb_schema() -> Schema:
    """kb/schema.pl, read once per KB folder (asked for once per fact when a
    diff slices a large policy: keyed on the setting, not on a new Path)."""
    import os

    return _kb_schema(os.environ.get("COVKB_KB"))


@lru_cache(maxsize=8)
def _kb_schema(_setting: str | None) -> Schema:
    from .paths import kb_dir

    return read_schema(kb_dir() / "schema.pl")


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The cycles of a graph (each as a path that returns to its start)."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    found: list[list[str]] = []
    state: dict[str, int] = {}
    for start in sorted(graph):
        if start in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(graph.get(nxt, ()))))
    return found


def closure(start: Iterable[str], edges: Iterable[tuple[str, str]]) -> set[str]:
    """start and everything reachable along edges (a -> b); cycles are safe."""
    step: dict[str, set[str]] = {}
    for a, b in edges:
        step.setdefault(a, set()).add(b)
    seen = set(start)
    todo = list(seen)
    while todo:
        for n in step.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def fact_text(facts: Iterable[Fact]) -> str:
    """Facts as text in the shared syntax, one per line (from validated values only)."""
    return "".join(f"{f}\n" for f in facts)
