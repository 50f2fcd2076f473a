"""A TOML draft validated against its base version and compiled to facts.

Every key and id is checked against the base version's vocabulary; the
draft compiles to the same ``Fact`` list a ``.pl`` draft holds
(``revision_of/1`` first), so both engines read one semantics.  Strings
only ever become ``Fact`` arguments, written back through ``covkb.facts``
(clingo's escaping): no value can become Prolog or ASP source.  Every
mistake is one line naming the file, the line and the key.

The policy a draft revises is used through its attributes only (named in
``covkb.draft.base``): this module does not import ``covkb.policy``, which
reads TOML drafts through it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..errors import InvalidRequest
from ..facts import Fact, Term, atom, fact_text, kb_schema
from ..installed import policy_folders
from ..limits import ID_RE
from .base import Base, Revised
from .toml_lines import KeyPath, Positions

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]{0,9}$")


class DraftError(InvalidRequest):
    """A mistake in a TOML draft: one line, naming the file, line and key."""

    code = "invalid_draft"


# --------------------------------------------------------------------------
# The format: the keys of each table, and how they compile.

TOP = {"revision_of", "title", "wording", "drop", "reword", "add", "change", "finding", "patient_fact",
       "drop_code", "add_code", "change_code"}
TABLES = ("finding", "patient_fact", "drop", "reword", "add", "change", "drop_code", "add_code", "change_code")
STATEMENT_KEYS = {"section", "outcome", "quotes", "services", "requires", "criteria", "referral"}
CRITERIA_KEYS = {"drop_criteria", "criterion", "group"}
KEYS = {
    "drop": {"statement"},
    "reword": {"statement", "quotes"},
    "add": {"statement"} | STATEMENT_KEYS | {"criterion", "group"},
    "change": {"statement"} | STATEMENT_KEYS | CRITERIA_KEYS,
    "finding": {"id", "label", "is_a", "example_of"},
    "patient_fact": {"id", "label", "at_least", "below"},
    "drop_code": {"code"},
    "add_code": {"code", "section", "description", "heading", "notes", "services", "implies"},
    "change_code": {"code", "services", "drop_services", "implies"},
}
REQUIRED = {
    "drop": ("statement",), "reword": ("statement", "quotes"),
    "add": ("statement", "section", "outcome", "quotes", "services"), "change": ("statement",),
    "finding": ("id",), "patient_fact": ("id",), "drop_code": ("code",),
    "add_code": ("code", "section", "description"), "change_code": ("code",),
}
SUB = {  # the keys of inline tables and nested tables
    "requires": ({"fact", "value", "quote"}, ("fact", "value", "quote")),
    "criteria": ({"mode", "quote"}, ("mode", "quote")),
    "criterion": ({"id", "finding", "quote", "group"}, ("finding", "quote")),
    "group": ({"id", "mode", "quote", "group"}, ("id", "mode", "quote")),
    "example_of": ({"finding", "section", "quote"}, ("finding", "section", "quote")),
    "at_least": ({"field", "number", "section", "quote"}, ("field", "number", "section", "quote")),
    "below": ({"field", "number", "section", "quote"}, ("field", "number", "section", "quote")),
    "implies": ({"fact", "value", "quote"}, ("fact", "value", "quote")),
}


@dataclass(frozen=True)
class CompiledDraft:
    """A TOML draft compiled: its facts (``revision_of/1`` first), base,
    title and proposed wording."""

    path: Path
    base: str
    title: str | None
    wording: str | None
    facts: tuple[Fact, ...]

    def text(self) -> str:
        """The facts as a ``.pl`` draft (values escaped by covkb.facts)."""
        head = [f"%## Draft: {one_line(self.title)}" if self.title else "%## Draft",
                f"% Compiled from {one_line(self.path.name)} by `covkb draft compile`; edit the TOML, not this file."]
        if self.wording is not None:
            head.append("% Its proposed wording is the `wording` key of the TOML file.")
        return "\n".join(head) + "\n\n" + fact_text(self.facts)


def one_line(text: str) -> str:
    return " ".join(text.split())  # one line: a newline would end the comment


class _Compiler:
    def __init__(self, name: str, pos: Positions, data: Base) -> None:
        self.name, self.pos, self.data = name, pos, data
        v = data.vocabulary
        self.vocab = v
        self.sections = set(data.sections)
        self.findings = set(v.findings)
        self.patient_facts = set(v.patient_facts)
        self.criteria: dict[str, dict[str, str]] = {}   # statement -> criterion or group id -> kind
        for r in data.rows("criterion"):
            self.criteria.setdefault(atom(r[0]), {})[atom(r[1])] = "criterion"
        for r in data.rows("criterion_group"):
            self.criteria.setdefault(atom(r[0]), {})[atom(r[1])] = "group"
        self.codes = set(v.codes)
        self.claimed: dict[str, tuple[str, int]] = {}   # statement or code -> (table, line)

    # -- errors and typed values
    def fail(self, path: KeyPath, message: str) -> NoReturn:
        key = ".".join(str(p) for p in path if isinstance(p, str)) or "(top level)"
        raise DraftError(f"{self.name}:{self.pos.line_of(path)}: {key}: {message}")

    def table(self, path: KeyPath, value: Any, allowed: set[str], required: tuple[str, ...], what: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected {what}, found {_kind(value)}")
        for k in value:
            if k not in allowed:
                near = difflib.get_close_matches(k, sorted(allowed), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f"; {what} takes {', '.join(sorted(allowed))}"
                self.fail(path + (k,), f"unknown key {k!r}{hint}")
        for k in required:
            if k not in value:
                self.fail(path, f"{what} needs {k!r}")
        return value

    def string(self, path: KeyPath, value: Any) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, found {_kind(value)}")
        if not value.strip():
            self.fail(path, "expected text, found an empty string")
        if any(ord(c) < 32 and c not in "\n\t" for c in value):
            self.fail(path, "control characters are not allowed")
        return value

    def strings(self, path: KeyPath, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(path, f"expected a list of strings, found {_kind(value)}")
        return [self.string(path + (i,), x) for i, x in enumerate(value)]

    def ident(self, path: KeyPath, value: Any, kind: str, known: Any = None, owner: str | None = None) -> str:
        """An id; with ``known``, one of them (of ``owner``, else of the base version)."""
        if not isinstance(value, str):
            self.fail(path, f"expected a {kind} id (a string), found {_kind(value)}")
        if not ID_RE.match(value):
            self.fail(path, f"{value!r} is not a {kind} id (ids are lower_snake_case: ^[a-z][a-z0-9_]*$)")
        if known is not None and value not in known:
            near = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            if len(known) <= 6:
                hint += f"; it is one of {', '.join(known if isinstance(known, (list, tuple)) else sorted(known))}"
            elif owner is None:
                hint += f"; `covkb vocab --version {self.data.version.id}` lists them"
            self.fail(path, f"{owner or 'version ' + self.data.version.id} has no {kind} {value!r}{hint}")
        return value

    def ids(self, path: KeyPath, value: Any, kind: str, known: Any = None, owner: str | None = None) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(path, f"expected a list of {kind} ids, found {_kind(value)}")
        return [self.ident(path + (i,), x, kind, known, owner) for i, x in enumerate(value)]

    def code(self, path: KeyPath, value: Any) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a code (a string, e.g. \"99999\"), found {_kind(value)}")
        if not CODE_RE.match(value):
            self.fail(path, f"{value!r} is not a code (letters, digits and dots)")
        return value

    def claim(self, path: KeyPath, what: str, table: str) -> None:
        if what in self.claimed:
            other, line = self.claimed[what]
            self.fail(path, f"{what} is already in [[{other}]] on line {line}; a draft names it once")
        self.claimed[what] = (table, self.pos.line_of(path))

    def facts_known(self) -> set[str]:
        return self.findings | self.patient_facts

    # -- the parts of a statement
    def requires(self, path: KeyPath, st: str, value: Any) -> list[Fact]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list of {{fact, value, quote}} tables, found {_kind(value)}")
        out = []
        for i, r in enumerate(value):
            p = path + (i,)
            r = self.table(p, r, *SUB["requires"], "a requirement {fact, value, quote}")
            fact = self.ident(p + ("fact",), r["fact"], "fact", self.facts_known())
            val = self.ident(p + ("value",), r["value"], "value", self.vocab.domain(fact), f"fact {fact}")
            out.append(Fact("requires", (Term(st), Term(fact), Term(val), self.string(p + ("quote",), r["quote"]))))
        return out

    def criteria_fact(self, path: KeyPath, st: str, value: Any) -> Fact:
        c = self.table(path, value, *SUB["criteria"], "criteria {mode, quote}")
        mode = self.ident(path + ("mode",), c["mode"], "mode", ("any", "all"), "criteria")
        return Fact("criteria", (Term(st), Term(mode), self.string(path + ("quote",), c["quote"])))

    def criteria_tables(self, path: KeyPath, st: str, t: dict, existing: dict[str, str]) -> list[Fact]:
        """[[…criterion]] and [[…group]] tables: criterion(_group), member_of."""
        groups_out, crits_out, members = [], [], []
        known = dict(existing)
        new_groups = t.get("group", [])
        if not isinstance(new_groups, list):
            self.fail(path + ("group",), f"expected [[{path[0]}.group]] tables, found {_kind(new_groups)}")
        for i, g in enumerate(new_groups):
            p = path + ("group", i)
            g = self.table(p, g, *SUB["group"], "a group {id, mode, quote, group}")
            gid = self.ident(p + ("id",), g["id"], "group")
            if gid in known:
                self.fail(p + ("id",), f"statement {st} already has a criterion or group {gid!r}")
            known[gid] = "group"
            mode = self.ident(p + ("mode",), g["mode"], "mode", ("any", "all"), "a group")
            groups_out.append(Fact("criterion_group", (Term(st), Term(gid), Term(mode), self.string(p + ("quote",), g["quote"]))))
        crits = t.get("criterion", [])
        if not isinstance(crits, list):
            self.fail(path + ("criterion",), f"expected [[{path[0]}.criterion]] tables, found {_kind(crits)}")
        for i, c in enumerate(crits):
            p = path + ("criterion", i)
            c = self.table(p, c, *SUB["criterion"], "a criterion {finding, quote, id, group}")
            finding = self.ident(p + ("finding",), c["finding"], "finding", self.facts_known())
            cid = self.ident(p + ("id",), c.get("id", finding), "criterion")
            if cid in known:
                self.fail(p + ("id" if "id" in c else "finding",),
                          f"statement {st} already has a criterion or group {cid!r}" +
                          ("" if "id" in c else "; give the new one an id"))
            known[cid] = "criterion"
            crits_out.append(Fact("criterion", (Term(st), Term(cid), Term(finding), self.string(p + ("quote",), c["quote"]))))
        for kind, items in (("group", new_groups), ("criterion", crits)):
            for i, item in enumerate(items):
                if "group" in item:
                    p = path + (kind, i, "group")
                    parent = self.ident(p, item["group"], "group", sorted(k for k, v in known.items() if v == "group"),
                                        f"statement {st}")
                    own = item.get("id", item.get("finding"))
                    if parent == own:
                        self.fail(p, f"{own} cannot be a member of itself")
                    members.append((self.pos.line_of(p), Fact("member_of", (Term(st), Term(own), Term(parent)))))
        return groups_out + crits_out + [f for _, f in sorted(members, key=lambda m: m[0])]

    def statement_parts(self, path: KeyPath, st: str, t: dict) -> dict[str, list[Fact]]:
        """The statement-level keys given, as the facts each stands for."""
        out: dict[str, list[Fact]] = {}
        if "section" in t or "outcome" in t:
            out["statement"] = []
        if "section" in t:
            self.ident(path + ("section",), t["section"], "section", self.sections)
        if "outcome" in t:
            self.ident(path + ("outcome",), t["outcome"], "outcome", self.vocab.outcomes)
        if "quotes" in t:
            qs = self.strings(path + ("quotes",), t["quotes"])
            out["statement_quote"] = [Fact("statement_quote", (Term(st), n, q)) for n, q in enumerate(qs, 1)]
        if "services" in t:
            svcs = self.ids(path + ("services",), t["services"], "service", self.vocab.services)
            out["applies_to"] = [Fact("applies_to", (Term(st), Term(s))) for s in svcs]
        if "referral" in t:  # referral = "": the statement refers to nothing (any referral it had goes)
            out["referral"] = [] if t["referral"] == "" else [
                Fact("referral", (Term(st), self.string(path + ("referral",), t["referral"])))]
        if "requires" in t:
            out["requires"] = self.requires(path + ("requires",), st, t["requires"])
        if "criteria" in t:
            out["criteria"] = [self.criteria_fact(path + ("criteria",), st, t["criteria"])]
        return out

    # -- the tables
    def t_drop(self, path: KeyPath, t: dict) -> list[Fact]:
        st = self.ident(path + ("statement",), t["statement"], "statement", self.vocab.statements)
        self.claim(path + ("statement",), st, "drop")
        return [Fact("drops_statement", (Term(st),))]

    def t_reword(self, path: KeyPath, t: dict) -> list[Fact]:
        return self.t_change(path, t, "reword")

    def t_add(self, path: KeyPath, t: dict) -> list[Fact]:
        st = self.ident(path + ("statement",), t["statement"], "statement")
        if st in self.vocab.statements:
            self.fail(path + ("statement",), f"statement {st} exists already in {self.data.version.id}; "
                                             f"use [[change]] or [[reword]] for it")
        self.claim(path + ("statement",), st, "add")
        parts = self.statement_parts(path, st, t)
        if ("criterion" in t or "group" in t) and "criteria" not in t:
            self.fail(path, "criteria = {mode = \"any\"|\"all\", quote = \"...\"} is needed with criterion tables")
        head = Fact("statement", (Term(st), Term(t["section"]), Term(t["outcome"])))
        facts = [head]
        for k in ("statement_quote", "applies_to", "referral", "requires", "criteria"):
            facts += parts.get(k, [])
        return facts + self.criteria_tables(path, st, t, {})

    def t_change(self, path: KeyPath, t: dict, table: str = "change") -> list[Fact]:
        st = self.ident(path + ("statement",), t["statement"], "statement", self.vocab.statements)
        self.claim(path + ("statement",), st, table)
        if not (set(t) - {"statement"}):
            self.fail(path, f"[[change]] of {st} changes nothing: give {', '.join(sorted(STATEMENT_KEYS | CRITERIA_KEYS))}")
        existing = self.criteria.get(st, {})
        dropped = []
        if "drop_criteria" in t:
            dropped = self.ids(path + ("drop_criteria",), t["drop_criteria"], "criterion", existing, f"statement {st}")
        remaining = {k: v for k, v in existing.items() if k not in dropped}
        has_criteria = any(atom(r[0]) == st for r in self.data.rows("criteria"))
        if ("criterion" in t or "group" in t) and not has_criteria and "criteria" not in t:
            self.fail(path, f"statement {st} has no criteria: give criteria = {{mode, quote}} with the criterion tables")
        new = self.criteria_tables(path, st, t, remaining)
        parts = self.statement_parts(path, st, t)
        if not parts:  # only criteria change: drops_criterion/2 and the new ones
            return [Fact("drops_criterion", (Term(st), Term(c))) for c in dropped] + new
        # anything else: drop the statement and restate it, changed
        return [Fact("drops_statement", (Term(st),))] + self.restate(st, t, parts, set(dropped)) + new

    def restate(self, st: str, t: dict, parts: dict[str, list[Fact]], dropped: set[str]) -> list[Fact]:
        gone = {(st, Term(c)) for c in dropped}
        sch = kb_schema()
        # the facts about st: VersionData.fact_owners is covkb.policy.belongs_to, computed once
        sch_rows = [f for f, owners in zip(self.data.facts, self.data.fact_owners) if st in owners
                    and not any((atom(f.args[i]), f.args[i + 1]) in gone
                                for i in sch.positions(f.name, "statement") if i + 1 < len(f.args))]
        out: list[Fact] = []
        placed: set[str] = set()
        for f in sch_rows:
            if f.name == "statement":
                sec = Term(t["section"]) if "section" in t else f.args[1]
                out_ = Term(t["outcome"]) if "outcome" in t else f.args[2]
                out.append(Fact("statement", (f.args[0], sec, out_)))
                placed.add("statement")
            elif f.name in parts:
                if f.name not in placed:
                    out += parts[f.name]
                    placed.add(f.name)
            elif f.name == "referral" and "outcome" in t:
                continue  # a referral belongs to its outcome: a new outcome keeps one only if the draft states it
            else:
                out.append(f)
        for name in ("statement_quote", "applies_to", "referral", "requires", "criteria"):
            if name in parts and name not in placed:
                out += parts[name]
        # a reading of a fact that is no longer there goes with it
        return [f for f in out if f.name not in ("interpretation", "evidence") or _still_there(f.args[0], out)]

    def t_finding(self, path: KeyPath, t: dict) -> list[Fact]:
        return self._declare(path, t, "finding")

    def t_patient_fact(self, path: KeyPath, t: dict) -> list[Fact]:
        return self._declare(path, t, "patient_fact")

    def _declare(self, path: KeyPath, t: dict, kind: str) -> list[Fact]:
        fid = self.ident(path + ("id",), t["id"], kind)
        self.claim(path + ("id",), f"{kind} {fid}", kind)
        base = set(self.vocab.findings if kind == "finding" else self.vocab.patient_facts)
        out = []
        if fid in base and "label" in t:
            self.fail(path + ("label",), f"{kind} {fid} exists already; give no label")
        if fid not in base:
            if "label" not in t:
                near = difflib.get_close_matches(fid, sorted(base), n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.fail(path + ("id",), f"{kind} {fid!r} is new{hint}: a new {kind.replace('_', ' ')} needs a label")
            out.append(Fact(kind, (Term(fid), self.string(path + ("label",), t["label"]))))
        if "is_a" in t:
            for g in self.ids(path + ("is_a",), t["is_a"], "finding", self.findings):
                out.append(Fact("finding_is_a", (Term(fid), Term(g))))
        if "example_of" in t:
            p = path + ("example_of",)
            e = self.table(p, t["example_of"], *SUB["example_of"], "example_of {finding, section, quote}")
            g = self.ident(p + ("finding",), e["finding"], "finding", self.findings)
            sec = self.ident(p + ("section",), e["section"], "section", self.sections)
            out.append(Fact("finding_example", (Term(fid), Term(g), Term(sec), self.string(p + ("quote",), e["quote"]))))
        for key, pred in (("at_least", "number_at_least"), ("below", "number_below")):
            if key in t:
                p = path + (key,)
                e = self.table(p, t[key], *SUB[key], f"{key} {{field, number, section, quote}}")
                numeric = {n for n, f in self.vocab.fields.items() if f.numeric}
                fld = self.ident(p + ("field",), e["field"], "count or measurement field", numeric)
                if not isinstance(e["number"], int) or isinstance(e["number"], bool):
                    self.fail(p + ("number",), f"expected a whole number, found {_kind(e['number'])}")
                sec = self.ident(p + ("section",), e["section"], "section", self.sections)
                out.append(Fact(pred, (Term(fid), Term(fld), e["number"], Term(sec), self.string(p + ("quote",), e["quote"]))))
        return out

    def t_drop_code(self, path: KeyPath, t: dict) -> list[Fact]:
        code = self._existing_code(path + ("code",), t["code"])
        self.claim(path + ("code",), f"code {code}", "drop_code")
        return [Fact("drops_code", (code,))]

    def _existing_code(self, path: KeyPath, value: Any) -> str:
        code = self.code(path, value)
        if code not in self.codes:
            near = difflib.get_close_matches(code, sorted(self.codes), n=1, cutoff=0.6)
            self.fail(path, f"version {self.data.version.id} has no code {code!r}"
                            f"{f' (did you mean {near[0]!r}?)' if near else ''}")
        return code

    def t_add_code(self, path: KeyPath, t: dict) -> list[Fact]:
        code = self.code(path + ("code",), t["code"])
        if code in self.codes:
            self.fail(path + ("code",), f"code {code} exists already; use [[change_code]] for it")
        self.claim(path + ("code",), f"code {code}", "add_code")
        sec = self.ident(path + ("section",), t["section"], "section", self.sections)
        out = [Fact("code", (code, Term(sec), self.string(path + ("description",), t["description"])))]
        if "heading" in t:
            out.append(Fact("code_heading", (code, self.string(path + ("heading",), t["heading"]))))
        if "notes" in t:
            out += [Fact("code_note", (code, q)) for q in self.strings(path + ("notes",), t["notes"])]
        return out + self._code_meaning(path, code, t)

    def t_change_code(self, path: KeyPath, t: dict) -> list[Fact]:
        code = self._existing_code(path + ("code",), t["code"])
        self.claim(path + ("code",), f"code {code}", "change_code")
        if not (set(t) - {"code"}):
            self.fail(path, f"[[change_code]] of {code} changes nothing: give services, drop_services or implies")
        if "drop_services" not in t:
            return self._code_meaning(path, code, t)
        # a service the code no longer reports: drop the code and restate it without those (as [[change]] does)
        p = path + ("drop_services",)
        reported = sorted({atom(r[1]) for r in self.data.rows("code_reports") if r[0] == code})
        gone = set(self.ids(p, t["drop_services"], "service", reported, f"code {code}"))
        kept = [f for f, owners in zip(self.data.facts, self.data.fact_owners) if code in owners
                and not (f.name in ("code_reports", "code_qualifier") and f.args[0] == code
                         and atom(f.args[1]) in gone)]
        kept = [f for f in kept if f.name not in ("interpretation", "evidence") or _still_there(f.args[0], kept)]
        return [Fact("drops_code", (code,))] + kept + self._code_meaning(path, code, t)

    def _code_meaning(self, path: KeyPath, code: str, t: dict) -> list[Fact]:
        out = []
        if "services" in t:
            out += [Fact("code_reports", (code, Term(s)))
                    for s in self.ids(path + ("services",), t["services"], "service", self.vocab.services)]
        if "implies" in t:
            if not isinstance(t["implies"], list):
                self.fail(path + ("implies",), f"expected a list of {{fact, value, quote}} tables, found {_kind(t['implies'])}")
            for i, r in enumerate(t["implies"]):
                p = path + ("implies", i)
                r = self.table(p, r, *SUB["implies"], "an implication {fact, value, quote}")
                fact = self.ident(p + ("fact",), r["fact"], "patient fact", self.patient_facts)
                val = self.ident(p + ("value",), r["value"], "value", self.vocab.domain(fact), f"fact {fact}")
                out.append(Fact("code_implies", (code, Term(fact), Term(val), self.string(p + ("quote",), r["quote"]))))
        return out


def _still_there(subject: Any, facts: list[Fact]) -> bool:
    """An interpretation's or evidence's subject names a fact that is still
    among these (a subject that names no fact of them always stays)."""
    if not isinstance(subject, Term) or not subject.args:
        return True
    same_name = [f for f in facts if f.name == subject.name]
    if not same_name and subject.name not in ("statement", "statement_quote", "applies_to", "requires",
                                              "criteria", "criterion", "criterion_group", "member_of", "referral",
                                              "code_reports"):
        return True
    return any(f.args[:len(subject.args)] == subject.args for f in same_name)


def _kind(v: Any) -> str:
    """What a TOML value is, in words."""
    import datetime as dt

    if isinstance(v, (dt.date, dt.time)):
        return "a date or time"
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(v), type(v).__name__)


def compile_text(text: str, policy: Revised, name: str = "draft.toml", path: Path | None = None) -> CompiledDraft:
    """Validate a TOML draft against its base version and compile it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{m.group(1)}" if m else "1"
        detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg)
        raise DraftError(f"{name}:{where}: TOML syntax: {detail}" + (f" (column {m.group(2)})" if m else "")) from None
    pos = Positions(text)

    def fail(path: KeyPath, message: str) -> NoReturn:
        key = ".".join(str(p) for p in path if isinstance(p, str)) or "(top level)"
        raise DraftError(f"{name}:{pos.line_of(path)}: {key}: {message}")

    for k in doc:
        if k not in TOP:
            near = difflib.get_close_matches(k, sorted(TOP), n=1)
            fail((k,), f"unknown key {k!r}" + (f" (did you mean {near[0]!r}?)" if near else
                                                f"; a draft takes {', '.join(sorted(TOP))}"))
    if "revision_of" not in doc:
        fail((), f"a draft needs revision_of = \"{policy.latest().id}\" (the version it revises)")
    base_id = doc["revision_of"]
    if not isinstance(base_id, str):
        fail(("revision_of",), f"expected a version id (a string), found {_kind(base_id)}")
    known = [v.id for v in policy.versions]
    if base_id not in known:
        near = difflib.get_close_matches(base_id, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else f"; known: {', '.join(known)}"
        for folder in policy_folders(policy.root):
            other = type(policy)(policy.root, policy=folder)  # (the class of policy: see the module's note)
            if other.number != policy.number and base_id in {v.id for v in other.versions}:
                hint = f"; it is a version of {other.number}: give --policy {other.number}"
                break
        fail(("revision_of",), f"no version {base_id!r} of {policy.number}{hint}")
    c = _Compiler(name, pos, policy.data(base_id))
    title = c.string(("title",), doc["title"]) if "title" in doc else None
    wording = c.string(("wording",), doc["wording"]) if "wording" in doc else None

    # declarations first, so the tables may name what the draft declares
    items: list[tuple[int, str, KeyPath, dict]] = []
    for kind in TABLES:
        if kind not in doc:
            continue
        rows = doc[kind]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            c.fail((kind,), f"write each as a [[{kind}]] table (found {_kind(rows)})")
        for i, row in enumerate(rows):
            p = (kind, i)
            c.table(p, row, KEYS[kind], REQUIRED[kind], f"[[{kind}]]")
            items.append((c.pos.line_of(p), kind, p, row))
            if kind in ("finding", "patient_fact") and isinstance(row.get("id"), str):
                (c.findings if kind == "finding" else c.patient_facts).add(row["id"])
    facts: list[Fact] = [Fact("revision_of", (base_id,))]
    handlers: dict[str, Callable[[KeyPath, dict], list[Fact]]] = {k: getattr(c, f"t_{k}") for k in TABLES}
    for _line, kind, p, row in sorted(items, key=lambda it: it[0]):
        facts += handlers[kind](p, row)
    return CompiledDraft(path or Path(name), base_id, title, wording, tuple(dict.fromkeys(facts)))


def compile_draft(path: Path, policy: Revised) -> CompiledDraft:
    """Read, validate and compile a TOML draft file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(f"cannot read draft {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise DraftError(f"{path}:1: (top level): the file is not UTF-8 text") from None
    return compile_text(text, policy, str(path), path)

