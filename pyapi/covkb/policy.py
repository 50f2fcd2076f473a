"""The policies as Python sees them: versions, vocabulary, request language.

Read from the same fact files the engines load (``facts.read_facts``); used
to validate requests against the vocabulary and the request language a
policy declares, to pick the version in force, and to render section paths.
The reasoning itself stays in the engines.  Nothing here names a policy's
terms: every policy folder in kb/policies/ (or given by path) is read alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import InvalidRequest, KnowledgeBaseError, VersionNotAvailable
from .facts import Fact, Term, Value, atom, cycles, fact_text, kb_schema, read_facts
from .hierarchy import Forms, Hierarchy
from .installed import policy_folders
from .limits import parse_whole_number, parse_yes_no
from .outcomes import Outcomes, read_outcomes
from .paths import kb_dir, queries_dir

FIELD_KINDS = ("boolean", "choice", "count", "measurement", "code_list")
NUMBER_RANGE = (0, 10**6)  # what a count or measurement declared without a range may be
# The predicates covkb derives from a version's facts for both engines
# (VersionData.engine_text); a fact file may not state them.
DERIVED = frozenset({"criterion_position"})


def _date(yyyymmdd: Value) -> dt.date | None:
    """A YYYYMMDD number as a date; the atom `unknown` as None."""
    if not isinstance(yyyymmdd, int):
        return None
    s = str(yyyymmdd)
    return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))


@dataclass(frozen=True, slots=True)
class Version:
    """A version of the policy, or a draft revision of one.

    ``files`` are its own fact files; a revision (``revision_of/1``) adds
    them to its base's facts.  ``effective`` is None when not known.
    """

    id: str
    effective: dt.date | None
    next_review: dt.date | None
    knowledge: str               # complete | partial | draft
    source: Path                 # the text its quotes must be found in
    files: tuple[Path, ...]
    extra_sources: tuple[Path, ...] = ()
    wording: str = ""            # a TOML draft's proposed wording (its `wording` key)

    @property
    def folder(self) -> Path:
        return self.files[0].parent


@dataclass(frozen=True)
class VersionData:
    """The facts of one version, plus the vocabulary files, indexed."""

    version: Version
    facts: tuple[Fact, ...]          # effective: vocabulary + base chain + own facts

    def rows(self, name: str) -> list[tuple]:
        return list(self._rows.get(name, ()))

    @cached_property
    def _rows(self) -> dict[str, list[tuple]]:
        """The facts' arguments by predicate, indexed once."""
        out: dict[str, list[tuple]] = {}
        for f in self.facts:
            out.setdefault(f.name, []).append(f.args)
        return out

    @cached_property
    def sections(self) -> dict[str, tuple[str, str]]:
        return {atom(s): (atom(p), t) for s, p, t in self.rows("section")}

    def section_path(self, section: str) -> str:
        parts: list[str] = []
        while section in self.sections:
            parent, title = self.sections[section]
            parts.append(title)
            section = parent
        return " > ".join(reversed(parts)) or section

    @cached_property
    def fact_owners(self) -> tuple[frozenset[str], ...]:
        """Per fact (in order), the statement ids, codes and subject ids it is
        about: belongs_to(f, S, C) is fact_owners[i] & (S | C), computed once."""
        out = []
        for f in self.facts:
            st_pos, code_pos, subj_pos = _role_positions(f.name)
            ids = {atom(f.args[i]) for i in st_pos} | {f.args[i] for i in code_pos if isinstance(f.args[i], str)}
            for i in subj_pos:
                ids |= _subject_ids(f.args[i])
            out.append(frozenset(ids))
        return tuple(out)

    @cached_property
    def hierarchy(self) -> Hierarchy:
        """The services' and findings' more general and specific forms (covkb.hierarchy)."""
        return Hierarchy.of(self.facts)

    @cached_property
    def fact_text(self) -> str:
        """The effective facts as text both engines read."""
        return fact_text(self.facts)

    @cached_property
    def engine_text(self) -> str:
        """What both engines read: the effective facts, and the facts covkb
        derives from them once for both (kb/schema.pl, "Derived"): where
        each criterion and group of criteria stands in the policy's text,
        the order an explanation lists them in."""
        derived = []
        for f in self.facts:
            if f.name in ("criterion", "criterion_group"):
                statement, member, quote = f.args[0], f.args[1], f.args[3]
                pos = self.quote_position(quote) if isinstance(quote, str) else -1
                derived.append(f"criterion_position({atom(statement)},{atom(member)},{pos}).\n")
        return self.fact_text + "".join(derived)

    @cached_property
    def source_text(self) -> str:
        texts = [self.version.source, *self.version.extra_sources]
        return "\n".join([p.read_text(encoding="utf-8") for p in texts] + [self.version.wording])

    @cached_property
    def normalised_source(self) -> str:
        return normalise_quote(self.source_text)

    @cached_property
    def _quote_positions(self) -> dict[str, int]:
        return {}

    def quote_position(self, quote: str) -> int:
        """Where the quote starts in the source (for document order); -1 if absent."""
        # looked up once per quote: every determination orders its citations
        pos = self._quote_positions.get(quote)
        if pos is None:
            pos = self._quote_positions[quote] = self.normalised_source.find(normalise_quote(quote))
        return pos

    def quotes(self) -> list[tuple[Fact, str]]:
        """Every quote of the source text the facts hold (arguments whose role
        in kb/schema.pl is `quote`), with its fact."""
        sch = kb_schema()
        return [(f, f.args[i]) for f in self.facts for i in sch.positions(f.name, "quote")
                if isinstance(f.args[i], str)]

    def realize(self, fact: str, value: str) -> dict[str, Any] | None:
        """Request fields that settle a patient fact or finding to a value
        (``{}`` for unknown), by the first way the version offers: the field
        that states it, a number rule, a code-list code; None when none can."""
        if value == "unknown":
            return {}
        vocab = self.vocabulary
        if fact in vocab.findings and fact not in vocab.patient_facts:
            # absent stated outright: under the default reading an unlisted finding is unknown
            return {"findings": [fact]} if value == "yes" else {"absent_findings": [fact]} if value == "no" else None
        for f in sorted(vocab.fields.values(), key=lambda f: f.name):
            if f.fact == fact and value in f.values:
                return {f.name: f.request_value(value)}
        for name, sign in (("number_at_least", 0), ("number_below", -1)):
            for r in sorted(self.rows(name), key=str):
                if atom(r[0]) != fact or value not in ("yes", "no"):
                    continue
                field_ = vocab.fields.get(atom(r[1]))
                # at least N: yes N, no N-1; below T: yes T-1, no T
                n = r[2] + (sign if value == "yes" else -1 - sign)
                if field_ is not None and (field_.minimum is None or n >= field_.minimum) and \
                        (field_.maximum is None or n <= field_.maximum):
                    return {field_.name: n}
        for r in sorted(self.rows("listed_code_implies"), key=str):
            if atom(r[2]) == fact and atom(r[3]) == value:
                return {atom(r[0]): [r[1]]}
        return None

    @cached_property
    def outcomes(self) -> Outcomes:
        """Every outcome this version declares or decides, with what it means
        (covkb.outcomes); an undeclared one is a KnowledgeBaseError."""
        used = [atom(r[2]) for r in self.rows("statement")] + [atom(r[1]) for r in self.rows("heading_outcome")]
        return read_outcomes(self.rows, atom, used)

    @cached_property
    def vocabulary(self) -> Vocabulary:
        def ids(name: str) -> dict[str, str]:
            return {atom(r[0]): r[1] for r in self.rows(name)}

        codes = {r[0]: r[2] for r in self.rows("code")}
        qual_values: dict[str, set[str]] = {}
        code_qualifiers: dict[str, str] = {}
        for code, _svc, q, v in self.rows("code_qualifier"):
            qual_values.setdefault(atom(q), set()).add(atom(v))
            code_qualifiers[code] = atom(q)
        fact_values: dict[str, list[str]] = {}
        for f, v, _label in self.rows("fact_value"):
            fact_values.setdefault(atom(f), []).append(atom(v))
        one = lambda name: {atom(r[0]): r[1] for r in self.rows(name)}  # noqa: E731
        field_fact, alias, unit, system = one("field_fact"), one("field_alias"), one("field_unit"), one("field_code_system")
        ranges = {atom(r[0]): (r[1], r[2]) for r in self.rows("field_range")}
        fields = {}
        for name, kind, label in self.rows("request_field"):
            n = atom(name)
            fact = atom(field_fact[n]) if n in field_fact else None
            fields[n] = RequestField(
                n, atom(kind), label, fact,
                *ranges.get(n, (None, None)),
                unit.get(n), system.get(n), atom(alias[n]) if n in alias else None,
                tuple(sorted(fact_values.get(fact, ()))) if fact and atom(kind) == "choice" else ("yes", "no"),
            )
        return Vocabulary(
            outcomes=ids("outcome"),
            services=ids("service"),
            findings=ids("finding"),
            patient_facts=ids("patient_fact"),
            qualifiers=ids("qualifier"),
            qualifier_values={k: tuple(sorted(v)) for k, v in qual_values.items()},
            codes=codes,
            code_qualifiers=code_qualifiers,
            statements={atom(r[0]): atom(r[2]) for r in self.rows("statement")},
            fields=fields,
            fact_values={f: tuple(sorted(v)) for f, v in fact_values.items()},
            scope=tuple(sorted(atom(r[0]) for r in self.rows("scope"))),
            meanings=self.outcomes,
            bounds=tuple((atom(a), atom(b), why) for a, b, why in self.rows("field_at_most")),
            finding_forms=self.hierarchy.findings,
            outcome_readings=ids("outcome_reads"),
            fact_readings={(atom(f), atom(v)): t for f, v, t in self.rows("fact_reads")},
            fact_questions=ids("fact_asks"),
            statement_readings=ids("statement_reads"),
            criterion_readings={(atom(st), atom(m)): t for st, m, t in self.rows("criterion_reads")},
            value_labels={(atom(f), atom(v)): t for f, v, t in self.rows("fact_value")},
        )


@dataclass(frozen=True, slots=True)
class RequestField:
    """A request field a policy declares (request_field/3 and its details)."""

    name: str
    kind: str                    # boolean | choice | count | measurement | code_list
    label: str
    fact: str | None             # the fact a boolean or choice field states
    minimum: int | None
    maximum: int | None
    unit: str | None
    code_system: str | None
    alias: str | None
    values: tuple[str, ...]      # a boolean's or choice's values

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "measurement")

    @property
    def states_fact(self) -> bool:
        """A boolean or a choice: it states its fact, as one of ``values``."""
        return self.kind in ("boolean", "choice")

    @property
    def range(self) -> tuple[int, int]:
        """The numbers a count or measurement may be: as declared, else NUMBER_RANGE."""
        return (self.minimum if self.minimum is not None else NUMBER_RANGE[0],
                self.maximum if self.maximum is not None else NUMBER_RANGE[1])

    def engine_value(self, value: Any) -> Any:
        """A request's value of the field as the engines read it: a boolean as yes or no."""
        return ("yes" if value else "no") if self.kind == "boolean" else value

    def request_value(self, value: str) -> Any:
        """A value of the field's fact as a request states it (engine_value's inverse)."""
        return value == "yes" if self.kind == "boolean" else value

    def parse_text(self, text: str, what: str) -> Any:
        """One value written as text (a flag, a CSV cell): a boolean yes or
        no, a number whole, anything else as written."""
        if self.kind == "boolean":
            return parse_yes_no(text, what)
        return parse_whole_number(text, what) if self.numeric else text


@dataclass(frozen=True)
class Vocabulary:
    outcomes: dict[str, str]
    services: dict[str, str]
    findings: dict[str, str]
    patient_facts: dict[str, str]
    qualifiers: dict[str, str]
    qualifier_values: dict[str, tuple[str, ...]]
    codes: dict[str, str]
    code_qualifiers: dict[str, str]
    statements: dict[str, str] = field(default_factory=dict)
    fields: dict[str, RequestField] = field(default_factory=dict)
    fact_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scope: tuple[str, ...] = ()
    meanings: Outcomes = field(default_factory=lambda: Outcomes(()))   # what each outcome means
    bounds: tuple[tuple[str, str, str], ...] = ()   # (field, at most this field, why)
    finding_forms: Forms = field(default_factory=lambda: Forms(()))  # the findings' hierarchy
    # how ids read in sentences (kb/schema.pl: outcome_reads/2, fact_reads/3,
    # fact_asks/2, statement_reads/2, criterion_reads/3); covkb.wording reads them
    outcome_readings: dict[str, str] = field(default_factory=dict)
    fact_readings: dict[tuple[str, str], str] = field(default_factory=dict)   # (fact, value) → clause
    fact_questions: dict[str, str] = field(default_factory=dict)
    statement_readings: dict[str, str] = field(default_factory=dict)
    criterion_readings: dict[tuple[str, str], str] = field(default_factory=dict)  # (statement, member) → words
    value_labels: dict[tuple[str, str], str] = field(default_factory=dict)   # fact_value/3: (fact, value) → label

    def out_of_bounds(self, values: dict[str, Any]) -> str | None:
        """Why a request's counts contradict each other (field_at_most/3), or None."""
        for a, b, why in self.bounds:
            x, y = values.get(a), values.get(b)
            if isinstance(x, int) and isinstance(y, int) and x > y:
                return f"{a} = {x} is more than {b} = {y}: {why}"
        return None

    def domain(self, fact: str) -> tuple[str, ...]:
        """The values a patient fact or finding can take."""
        return self.fact_values.get(fact, ("yes", "no"))


def normalise_quote(text: str) -> str:
    """Collapse whitespace and drop markdown bold, as quotes are checked."""
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def _subject_ids(v: Value) -> set[str]:
    """Ids and codes a term mentions (to drop interpretations with what they explain)."""
    if isinstance(v, Term):
        out = {v.name} if not v.args else set()
        for a in v.args:
            out |= _subject_ids(a)
        return out
    return {v} if isinstance(v, str) else set()


def belongs_to(f: Fact, statements: set[str], codes: set[str],
               positions: dict[str, tuple[tuple[int, ...], ...]] | None = None) -> bool:
    """The fact is about one of these statements or codes (by its
    arguments' roles in kb/schema.pl, or, for an interpretation or evidence,
    by what its subject mentions).  positions: a caller's cache of
    _role_positions, for many facts at once."""
    if positions is None:
        st_pos, code_pos, subj_pos = _role_positions(f.name)
    else:
        if f.name not in positions:
            positions[f.name] = _role_positions(f.name)
        st_pos, code_pos, subj_pos = positions[f.name]
    if any(atom(f.args[i]) in statements for i in st_pos):
        return True
    if any(f.args[i] in codes for i in code_pos):
        return True
    return any(_subject_ids(f.args[i]) & (statements | codes) for i in subj_pos)


def _role_positions(name: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Where a predicate's statement, code and subject arguments are (kb/schema.pl)."""
    sch = kb_schema()
    hit = _ROLE_CACHE.get(name)
    if hit is None or hit[0] is not sch:
        hit = _ROLE_CACHE[name] = (sch, tuple(tuple(sch.positions(name, r)) for r in ("statement", "code", "subject")))
    return hit[1]


_ROLE_CACHE: dict[str, tuple[Any, tuple[tuple[int, ...], ...]]] = {}


def apply_revision(base: list[Fact], own: list[Fact]) -> list[Fact]:
    """The facts of a revision: its base's, less what it drops or does not
    know, plus its own.  Statements and codes go with every fact about them."""
    rows = lambda n: [f.args for f in own if f.name == n]  # noqa: E731
    partial = bool(rows("partial_version"))
    base_statements = {atom(f.args[0]) for f in base if f.name == "statement"}
    base_codes = {f.args[0] for f in base if f.name == "code"}
    gone_statements = {atom(r[0]) for r in rows("drops_statement")}
    gone_codes = {r[0] for r in rows("drops_code")}
    if partial:
        gone_statements |= base_statements - {atom(r[0]) for r in rows("known_statement")}
        gone_codes |= base_codes - {r[0] for r in rows("known_code")}
    gone_criteria = {(atom(r[0]), atom(r[1])) for r in rows("drops_criterion")}
    gone_criterion_terms = {(s, Term(c)) for s, c in gone_criteria}
    sch = kb_schema()

    def kept(f: Fact) -> bool:
        if f.name in sch.revision_facts:
            return False  # a base's own revision facts do not carry over
        # a dropped criterion (or group) goes with every fact of its statement about it
        if any((atom(f.args[i]), f.args[i + 1]) in gone_criterion_terms
               for i in sch.positions(f.name, "statement") if i + 1 < len(f.args)):
            return False
        return not belongs_to(f, gone_statements, gone_codes)

    return list(dict.fromkeys([f for f in base if kept(f)] + own))


def _refuse_ambiguities(v: Version, facts: tuple[Fact, ...]) -> None:
    """Two facts where kb/schema.pl declares one (unique/3)."""
    found = kb_schema().ambiguities(facts)
    if found:
        a, b = found[0]
        raise KnowledgeBaseError(f"{v.id}: kb/schema.pl allows one {a.name} here (unique/3), and two facts "
                                 f"give two: {str(a)[:-1]} and {str(b)[:-1]}",
                                 code="kb_ambiguous")


def _refuse_cycles(v: Version, facts: tuple[Fact, ...]) -> None:
    """An ontology or criteria cycle would make an evaluator loop: refuse the
    version at load, naming the cycle."""
    ids = lambda f, i, j: (atom(f.args[i]), atom(f.args[j]))  # noqa: E731
    forms = Hierarchy.of(facts)
    graphs = {
        "services": list(forms.services.edges),
        "findings": list(forms.findings.edges),
        "criteria": [(f"{atom(f.args[0])}:{atom(f.args[1])}", f"{atom(f.args[0])}:{atom(f.args[2])}")
                     for f in facts if f.name == "member_of"],
    }
    for what, edges in graphs.items():
        found = cycles(edges)
        if found:
            raise KnowledgeBaseError(f"{v.id}: the {what} form a cycle: {' -> '.join(found[0])}", code="kb_cycle")


def default_policy(root: Path) -> str | Path | None:
    """The policy a request answers to when it names none: the only one
    installed (its folder), else the one kb/policies/default.pl names; None
    when neither says."""
    installed = policy_folders(root)
    if len(installed) == 1:
        return installed[0]
    default = root.resolve() / "policies" / "default.pl"
    chosen = [f.args[0] for f in read_facts([default]) if f.name == "default_policy"] if default.is_file() else []
    return chosen[0] if chosen else None


def _policy_folder(policy: str | Path | None, root: Path) -> Path:
    """A policy given by id, number or folder path; by default, default_policy's."""
    installed = policy_folders(root)
    if policy is None:
        policy = default_policy(root)
        if policy is None:
            names = ", ".join(p.name for p in installed) or "none"
            raise InvalidRequest(f"choose a policy (--policy): installed are {names}")
    if isinstance(policy, Path) or "/" in str(policy):
        folder = Path(policy)
        if not (folder / "policy.pl").is_file():
            raise InvalidRequest(f"no policy folder {folder} (it needs a policy.pl)")
        return folder
    for folder in installed:
        meta = read_facts([folder / "policy.pl"])
        ids = {folder.name} | {atom(f.args[0]) for f in meta if f.name == "policy"} | \
              {f.args[1] for f in meta if f.name == "policy"}
        if policy in ids:
            return folder
    import difflib

    near = difflib.get_close_matches(str(policy), [p.name for p in installed], n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InvalidRequest(f"no policy {str(policy)!r}{hint}; `covkb policies` lists them")


class Policy:
    """One policy as encoded in kb/ (or in a folder of the same layout): its
    versions and their facts."""

    def __init__(self, root: Path | None = None, *, policy: str | Path | None = None) -> None:
        self.root = (root or kb_dir()).resolve()
        self.folder = _policy_folder(policy, self.root).resolve()
        meta = read_facts([self.folder / "policy.pl"])
        rows = lambda n: [f.args for f in meta if f.name == n]  # noqa: E731
        (pid, number, title), = rows("policy")
        self.shared_vocabularies: tuple[str, ...] = tuple(n for (n,) in rows("shared_vocabulary"))
        self.first_effective = next(((_date(d), why) for d, why in rows("first_effective")), None)
        self.id, self.number, self.title = atom(pid), number, title
        sources = dict(rows("version_source"))
        self.versions = sorted(
            (
                Version(vid, _date(eff), _date(nxt), atom(k), self.folder / sources[vid],
                        tuple(sorted((self.folder / vid).glob("*.pl"))))
                for vid, eff, nxt, k in rows("version")
            ),
            key=lambda v: v.effective or dt.date.min,
        )
        self._data: dict[str, VersionData] = {}
        self._draft_facts: dict[str, list[Fact]] = {}  # a TOML draft's compiled facts, by version id
        self._text_drafts: dict[str, Version] = {}     # drafts read as text (draft_text), by version id

    @property
    def queries_dir(self) -> Path:
        """The policy's named queries: queries/ in its folder, else queries/<folder name>/."""
        own = self.folder / "queries"
        return own if own.is_dir() else queries_dir() / self.folder.name

    def vocabulary_files(self) -> list[Path]:
        """covkb's own vocabulary, the shared vocabularies the policy names
        (kb/vocabularies/NAME.pl), then its own."""
        shared = [self.root / "vocabularies" / f"{name}.pl" for name in self.shared_vocabularies]
        for path in shared:
            if not path.is_file():
                raise KnowledgeBaseError(f"{self.number}: no shared vocabulary {path.stem!r} ({path})")
        return [self.root / "vocabulary.pl", *shared, self.folder / "vocabulary.pl"]

    def data(self, version: Version | str) -> VersionData:
        if isinstance(version, str) and version in self._data:
            return self._data[version]  # a version, or a draft already read
        v = self.version(version) if isinstance(version, str) else version
        if v.id not in self._data:
            facts = tuple(self._facts(v, set()))
            _refuse_cycles(v, facts)
            _refuse_ambiguities(v, facts)
            data = VersionData(v, facts)
            data.outcomes  # noqa: B018  (refused at load: an outcome without its meaning)
            self._data[v.id] = data
        return self._data[v.id]

    def _facts(self, v: Version, seen: set[str]) -> list[Fact]:
        if v.id in seen:
            raise KnowledgeBaseError(f"version {v.id} is its own revision base")
        if not v.files:
            raise KnowledgeBaseError(f"version {v.id} has no fact files")
        own = self._draft_facts[v.id] if v.id in self._draft_facts else read_facts(v.files)
        written = sorted({f.name for f in own if f.name in DERIVED})
        if written:
            raise KnowledgeBaseError(f"version {v.id}: {', '.join(written)} is derived by covkb, not written "
                                     "in a fact file (kb/schema.pl, Derived)")
        bases = [f.args[0] for f in own if f.name == "revision_of"]
        if not bases:
            return list(dict.fromkeys(read_facts(self.vocabulary_files()) + own))
        return apply_revision(self._facts(self.version(bases[0]), seen | {v.id}), own)

    def draft(self, path: Path) -> Version:
        """A draft revision: one fact file (with revision_of/1) or one TOML
        draft (covkb.draft: compiled to the same facts), and the proposed
        wording beside it (same name, .txt) if it has one."""
        if not path.is_file():
            raise InvalidRequest(f"no draft file {path}")
        wording = ""
        if path.suffix == ".toml":
            from .draft import compile_draft

            compiled = compile_draft(path, self)
            own, wording = list(compiled.facts), compiled.wording or ""
        else:
            own = read_facts([path])
        bases = [f.args[0] for f in own if f.name == "revision_of"]
        if not bases:
            raise InvalidRequest(
                f"draft {path.name} names no base version: add revision_of(\"{self.latest().id}\").")
        base = self.version(bases[0])
        text = path.with_suffix(".txt")
        v = Version(f"draft:{path.stem}", None, None, "draft", base.source, (path,),
                    (text,) if text.is_file() else (), wording)
        self._data.pop(v.id, None)
        if path.suffix == ".toml":
            self._draft_facts[v.id] = own
        else:
            self._draft_facts.pop(v.id, None)
        return v

    def fork(self) -> Policy:
        """A Policy of the same folder that shares the versions read so far (not
        the drafts): drafts read into it (draft_text) never touch this one's caches."""
        other = Policy(self.root, policy=self.folder)
        other._data.update({k: d for k, d in self._data.items() if d.version.knowledge != "draft"})
        return other

    def draft_text(self, text: str, name: str) -> Version:
        """A TOML draft given as text (a draft kept in the workspace): compiled
        as ``draft(path)`` compiles a .toml file, no file written or read;
        its id is ``draft:NAME``.  Only TOML: text is never read as facts."""
        from .draft import compile_text

        compiled = compile_text(text, self, f"{name}.toml")
        base = self.version(compiled.base)
        v = Version(f"draft:{name}", None, None, "draft", base.source, (base.folder / f"draft-{name}.toml",),
                    (), compiled.wording or "")
        self._data.pop(v.id, None)
        self._draft_facts[v.id] = list(compiled.facts)
        self._text_drafts[v.id] = v
        return v

    def resolve(self, ref: str) -> Version:
        """A version id, or the path of a draft file (.pl or .toml)."""
        if ref.endswith((".pl", ".toml")) or "/" in ref:
            return self.draft(Path(ref))
        return self.version(ref)

    def version_in_force(self, on: dt.date) -> tuple[Version, list[str]]:
        """The version for a date of service, with any warnings."""
        if self.first_effective and self.first_effective[0] and on < self.first_effective[0]:
            since, why = self.first_effective
            raise VersionNotAvailable(f"{self.number} did not exist on {on.isoformat()}: it took effect "
                                      f"{since.isoformat()} ({why})")
        in_force = [v for v in self.versions if v.effective is None or v.effective <= on]
        if not in_force:
            first = self.versions[0]
            raise VersionNotAvailable(
                f"no version of {self.number} is encoded for {on.isoformat()}: "
                f"the earliest encoded version takes effect {first.effective.isoformat() if first.effective else '?'}"
            )
        v = in_force[-1]
        warnings = []
        later = self.versions[self.versions.index(v) + 1:]
        if v.effective is None and later:
            warnings.append(
                f"version {v.id} is in force before {later[0].id}; when it took effect is not known, "
                f"so it may not be the version in force on {on.isoformat()}"
            )
        elif v.effective is None:
            warnings.append(
                f"the dates of version {v.id} are not known (its copy is undated), so covkb cannot tell "
                f"whether it was in force on {on.isoformat()}"
            )
        if v is self.versions[-1] and v.next_review and on > v.next_review:
            warnings.append(
                f"date of service {on.isoformat()} is after version {v.id}'s next review date "
                f"{v.next_review.isoformat()}; a newer version may be in force but is not encoded"
            )
        if v.knowledge == "partial":
            warnings.append(f"version {v.id} is only partly known; where it is not, the outcome is unknown")
        return v, warnings

    def known_limits(self, v: Version) -> list[str]:
        """What an answer by version v, asked for by name, must say of it."""
        out = []
        if v.knowledge != "draft" and v.effective is None and v is self.versions[-1]:
            out.append(f"the dates of version {v.id} are not known (its copy is undated)")
        if v.knowledge == "partial":
            out.append(f"version {v.id} is only partly known; where it is not, the outcome is unknown")
        return out

    def version(self, vid: str) -> Version:
        for v in self.versions:
            if v.id == vid:
                return v
        if vid in self._text_drafts:  # a draft read into this policy (draft_text) is known by its id
            return self._text_drafts[vid]
        raise VersionNotAvailable(f"no version {vid!r}; known: {', '.join(v.id for v in self.versions)}")

    def latest(self) -> Version:
        return self.versions[-1]


__all__ = ["Policy", "Version", "VersionData", "Vocabulary", "RequestField", "Term", "normalise_quote", "FIELD_KINDS",
           "apply_revision", "belongs_to", "policy_folders"]
