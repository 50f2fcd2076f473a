"""The common changes an analyst makes in a form, written into a TOML draft.

``apply(text, edit, policy)`` takes a draft's text and one edit — a small
dict naming its kind, the ids it is about and the values given — and
returns the text with the table the edit stands for: appended, or merged
into the draft's table about the same statement or code (a second edit of a
statement changes its one ``[[change]]``, as an analyst would write it by
hand).  The kinds::

    {"kind": "outcome", "statement", "outcome", "referral" (optional; "" removes one)}
    {"kind": "add_criterion", "statement", "finding", "quote", "id", "group" (optional),
     "criteria": {"mode", "quote"} (for a statement without criteria)}
    {"kind": "remove_criterion", "statement", "criterion"}
    {"kind": "list_code", "code", "service"}               the code reports the service too
    {"kind": "move_code", "code", "from", "to"}            it reports "to" instead of "from"
    {"kind": "reword", "statement", "quotes": [...]}       or "number" (1 upward) and "text"

Ids are checked as ``compile_text`` checks them (the same messages, naming
the edit's field: ``outcome: version 2026-01-01 has no outcome 'x' …``).
Values stay data: every string is written as a TOML basic string, escaped
here (``basic_string``).  The rest of the text (its comments, its other
tables) is kept as written; the result is compiled before it is returned,
so an edit that would not compile is one line, and the text is unchanged.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ..facts import atom
from .base import Revised
from .compiler import TABLES, DraftError, _Compiler, compile_text
from .toml_lines import KeyPath, Positions

KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # kind -> (required, optional) fields
    "outcome": (("statement", "outcome"), ("referral",)),
    "add_criterion": (("statement", "finding", "quote"), ("id", "group", "criteria")),
    "remove_criterion": (("statement", "criterion"), ()),
    "list_code": (("code", "service"), ()),
    "move_code": (("code", "from", "to"), ()),
    "reword": (("statement",), ("quotes", "number", "text")),
}
# the order a table's keys are written in (sub-tables last, as TOML needs)
KEY_ORDER = ("statement", "code", "section", "outcome", "quotes", "services", "drop_services", "requires",
             "criteria", "referral", "drop_criteria", "implies", "description", "heading", "notes")
SUBTABLES = ("group", "criterion")


def basic_string(s: str) -> str:
    """``s`` as a TOML basic string: quote, backslash and every control
    character escaped (TOML 1.0, "Basic strings")."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return basic_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    raise DraftError(f"cannot write {type(v).__name__} into a draft")


def table_text(kind: str, table: dict[str, Any]) -> str:
    """One ``[[kind]]`` table (and its ``[[kind.criterion]]`` / ``[[kind.group]]`` tables) as TOML."""
    keys = sorted((k for k in table if k not in SUBTABLES),
                  key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER))
    lines = [f"[[{kind}]]"] + [f"{k} = {_value(table[k])}" for k in keys]
    for sub in SUBTABLES:
        for item in table.get(sub, []) if isinstance(table.get(sub), list) else []:
            lines += ["", f"[[{kind}.{sub}]]"] + [f"{k} = {_value(x)}" for k, x in item.items()]
    return "\n".join(lines) + "\n"


def document_text(doc: dict[str, Any]) -> str:
    """A whole draft written from its tables (when a table cannot be edited where it stands)."""
    out = [f"{k} = {_value(doc[k])}" for k in ("revision_of", "title", "wording") if k in doc]
    for kind in TABLES:
        out += ["\n" + table_text(kind, t).rstrip("\n") for t in doc.get(kind, [])]
    return "\n".join(out) + "\n"


class _Checker(_Compiler):
    """The compiler's checks of ids and values, its mistakes naming the edit's field."""

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        key = ".".join(str(p) for p in path if isinstance(p, str)) or "edit"
        raise DraftError(f"{key}: {message}")


def _fail(field: str, message: str) -> NoReturn:
    raise DraftError(f"{field}: {message}")


def _text_value(c: _Checker, field: str, v: Any) -> str:
    s = c.string((field,), v)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        _fail(field, "not valid Unicode text")
    return s


class _Edit:
    """One edit applied to a parsed draft (``doc``, changed in place)."""

    def __init__(self, doc: dict[str, Any], edit: dict[str, Any], policy: Revised) -> None:
        self.doc, self.e = doc, edit
        data = policy.data(policy.version(doc["revision_of"]))
        self.c = _Checker("edit", Positions(""), data)
        for kind in ("finding", "patient_fact"):  # what the draft declares, its edits may name
            for t in doc.get(kind, []):
                if isinstance(t, dict) and isinstance(t.get("id"), str):
                    (self.c.findings if kind == "finding" else self.c.patient_facts).add(t["id"])
        self.data, self.vocab = data, data.vocabulary
        self.touched: tuple[str, int] | None = None   # (table kind, index) the edit wrote
        self.moved: tuple[str, int] | None = None     # where a [[reword]] turned [[change]] stood

    # -- the draft's tables about a statement or code
    def find(self, kinds: tuple[str, ...], key: str, value: str) -> tuple[str, int] | None:
        for kind in kinds:
            for i, t in enumerate(self.doc.get(kind, [])):
                if isinstance(t, dict) and t.get(key) == value:
                    return kind, i
        return None

    def table(self, kinds: tuple[str, ...], key: str, value: str, new_kind: str) -> dict[str, Any]:
        """The draft's table of these kinds about the statement or code, else a new one."""
        at = self.find(kinds, key, value)
        if at is None:
            self.doc.setdefault(new_kind, []).append({key: value})
            at = (new_kind, len(self.doc[new_kind]) - 1)
        self.touched = at
        return self.doc[at[0]][at[1]]

    def statement(self, new_kind: str = "change") -> tuple[str, dict[str, Any]]:
        """The statement the edit is about (the base's, or one the draft adds) and its table."""
        st = self.e["statement"]
        if self.find(("drop",), "statement", st):
            _fail("statement", f"this draft drops statement {st}; remove its [[drop]] first")
        if self.find(("add",), "statement", st):
            return st, self.table(("add",), "statement", st, "add")
        self.c.ident(("statement",), st, "statement", self.vocab.statements)
        return st, self.table(("change", "reword"), "statement", st, new_kind)

    def code(self) -> tuple[str, dict[str, Any], bool]:
        """The code the edit is about, its table, and whether the draft adds it."""
        code = self.c.code(("code",), self.e["code"])
        if self.find(("drop_code",), "code", code):
            _fail("code", f"this draft drops code {code}; remove its [[drop_code]] first")
        if self.find(("add_code",), "code", code):
            return code, self.table(("add_code",), "code", code, "add_code"), True
        self.c._existing_code(("code",), code)
        return code, self.table(("change_code",), "code", code, "change_code"), False

    # -- the kinds
    def k_outcome(self) -> None:
        st, t = self.statement()
        t["outcome"] = self.c.ident(("outcome",), self.e["outcome"], "outcome", self.vocab.outcomes)
        if "referral" in self.e:
            r = self.e["referral"]
            t["referral"] = "" if r == "" else _text_value(self.c, "referral", r)
        self._reword_to_change()

    def k_add_criterion(self) -> None:
        st, t = self.statement()
        finding = self.c.ident(("finding",), self.e["finding"], "finding", self.c.facts_known())
        item: dict[str, Any] = {"finding": finding, "quote": _text_value(self.c, "quote", self.e["quote"])}
        for k in ("id", "group"):
            if self.e.get(k):
                item[k] = self.c.ident((k,), self.e[k], "criterion" if k == "id" else "group")
        if self.e.get("criteria"):
            cr = self.c.table(("criteria",), self.e["criteria"], {"mode", "quote"}, ("mode", "quote"),
                              "criteria {mode, quote}")
            t["criteria"] = {"mode": self.c.ident(("criteria", "mode"), cr["mode"], "mode", ("any", "all"), "criteria"),
                             "quote": _text_value(self.c, "criteria.quote", cr["quote"])}
        t.setdefault("criterion", []).append(item)
        self._reword_to_change()

    def k_remove_criterion(self) -> None:
        st, t = self.statement()
        cid = self.e["criterion"]
        own = [i for i, c in enumerate(t.get("criterion", [])) if c.get("id", c.get("finding")) == cid]
        if own:  # one this draft adds: it goes from the draft
            del t["criterion"][own[0]]
            if not t["criterion"]:
                del t["criterion"]
            return
        if self.touched and self.touched[0] == "add":
            _fail("criterion", f"the new statement {st} has no criterion {cid!r}")
        existing = self.c.criteria.get(st, {})
        self.c.ident(("criterion",), cid, "criterion", existing, f"statement {st}")
        if cid not in t.setdefault("drop_criteria", []):
            t["drop_criteria"].append(cid)
        self._reword_to_change()

    def k_list_code(self) -> None:
        code, t, _ = self.code()
        svc = self.c.ident(("service",), self.e["service"], "service", self.vocab.services)
        if svc in t.get("drop_services", []):
            t["drop_services"].remove(svc)
            if not t["drop_services"]:
                del t["drop_services"]
        elif svc not in t.get("services", []):
            t.setdefault("services", []).append(svc)

    def k_move_code(self) -> None:
        code, t, added = self.code()
        to = self.c.ident(("to",), self.e["to"], "service", self.vocab.services)
        reported = set(t.get("services", [])) | (set() if added else {
            atom(r[1]) for r in self.data.rows("code_reports") if r[0] == code})
        reported -= set(t.get("drop_services", []))
        frm = self.c.ident(("from",), self.e["from"], "service", sorted(reported), f"code {code}")
        if frm == to:
            _fail("to", f"code {code} already reports {to}")
        if frm in t.get("services", []):
            t["services"].remove(frm)
        else:
            t.setdefault("drop_services", []).append(frm)
        if to not in t.get("services", []):
            t.setdefault("services", []).append(to)
        if "services" in t and not t["services"]:
            del t["services"]

    def k_reword(self) -> None:
        st, t = self.statement("reword")
        if "quotes" in self.e:
            quotes = self.e["quotes"]
            if not isinstance(quotes, list) or not quotes:
                _fail("quotes", "expected a list of quotes")
            t["quotes"] = [_text_value(self.c, "quotes", q) for q in quotes]
            return
        if "number" not in self.e or "text" not in self.e:
            _fail("quotes", "give the new quotes, or the number of the quote to reword and its text")
        current = t.get("quotes") or [q for s, _, q in sorted(self.data.rows("statement_quote"), key=lambda r: r[1])
                                      if atom(s) == st]
        n = self.e["number"]
        if isinstance(n, str) and n.strip().isdigit():
            n = int(n)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(current):
            _fail("number", f"statement {st} has quotes 1 to {len(current)}; found {str(n)[:20]!r}")
        current = list(current)
        current[n - 1] = _text_value(self.c, "text", self.e["text"])
        t["quotes"] = current

    def _reword_to_change(self) -> None:
        """A [[reword]] table that now changes more than words is a [[change]] (same keys)."""
        if self.touched and self.touched[0] == "reword":
            kind, i = self.touched
            t = self.doc["reword"].pop(i)
            if not self.doc["reword"]:
                del self.doc["reword"]
            self.doc.setdefault("change", []).append(t)
            self.touched = ("change", len(self.doc["change"]) - 1)
            self.moved = (kind, i)


def _check_edit(edit: Any) -> Callable[["_Edit"], None]:
    if not isinstance(edit, dict):
        _fail("edit", "expected an edit {kind, ...}")
    kind = edit.get("kind")
    if kind not in KINDS:
        _fail("kind", f"{str(kind)[:40]!r} is not an edit; one of {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    for k in required:
        if edit.get(k) in (None, ""):
            _fail(k, f"a {kind.replace('_', ' ')} edit needs {k!r}")
    for k in edit:
        if k != "kind" and k not in required and k not in optional:
            _fail(k, f"a {kind.replace('_', ' ')} edit takes {', '.join(required + optional)}")
    return getattr(_Edit, f"k_{kind}")


def _span(text: str, pos: Positions, doc: dict[str, Any], kind: str, i: int) -> tuple[int, int] | None:
    """The lines [start, end) of the ``[[kind]]`` table number i and its sub-tables, if written as a header."""
    lines = text.split("\n")
    start = pos.lines.get((kind, i))
    if start is None or not re.match(rf"\s*\[\[\s*{kind}\s*\]\]", lines[start - 1]):
        return None
    after = [pos.lines[(k, j)] for k in TABLES for j in range(len(doc.get(k, [])))
             if (k, j) in pos.lines and pos.lines[(k, j)] > start]
    end = min(after) if after else len(lines) + 1
    while end - 1 > start and re.match(r"\s*(#.*)?$", lines[end - 2]):  # comments before the next table stay
        end -= 1
    return start - 1, end - 1


def _write(text: str, before: dict[str, Any], doc: dict[str, Any], touched: tuple[str, int],
           moved: tuple[str, int] | None) -> str:
    """The text with the touched table written where it stands (or appended); the whole
    document rewritten when the tables are not each written under a header."""
    kind, i = touched
    pos = Positions(text)
    lines = text.split("\n")
    table = table_text(kind, doc[kind][i]).rstrip("\n").split("\n")
    if set(doc[kind][i]) <= {"statement", "code"}:  # a table left changing nothing goes
        del doc[kind][i]
        if not doc[kind]:
            del doc[kind]
        table = []
    old = moved or (touched if i < len(before.get(kind, [])) else None)
    if old is not None:
        span = _span(text, pos, before, *old)
        if span is None:
            return document_text(doc)
        a, b = span
        new = lines[:a] + table + ([""] if table and b < len(lines) and lines[b].strip() else []) + lines[b:]
    else:
        body = "\n".join(lines).rstrip("\n")
        new = (body + "\n" if body else "").split("\n") + table + [""]
    out = "\n".join(new)
    try:
        if tomllib.loads(out) == doc:
            return out
    except tomllib.TOMLDecodeError:
        pass
    return document_text(doc)


def apply(text: str, edit: dict[str, Any], policy: Revised, name: str = "draft.toml") -> str:
    """The draft's text with one common change written into it (see the module's note);
    a mistake in the edit, or a result that would not compile, is one line (DraftError)."""
    run = _check_edit(edit)
    compile_text(text, policy, name)  # the draft as it stands compiles (else its one-line mistake)
    doc = tomllib.loads(text)
    before = copy.deepcopy(doc)
    e = _Edit(doc, edit, policy)
    run(e)
    assert e.touched is not None
    out = _write(text, before, doc, e.touched, e.moved)
    compile_text(out, policy, name, Path(name))
    return out
