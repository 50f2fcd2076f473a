"""Decisions compiled ahead of time: a version's table from each relevant
projection of a request to its decision.

A decision depends only on the request's relevant projection (what
``KnowledgeBase.decision_key`` keys the batch memo by): its subject (service,
code, qualifiers), the findings the engines name as able to matter for that
subject (present, unknown, absent, and how an unlisted one reads), and the
request fields that settle a fact the subject's statements depend on.  Here
a count or measurement is abstracted by the thresholds of the subject's
number rules (``number_at_least``/``number_below``: its band, how many
thresholds it reaches), so a request with any count finds its entry; a field
that settles none of the subject's facts is left out.

``covkb compile`` (covkb.compile_build) enumerates the version's finite space
(covkb.scenarios: each scenario as written, closed reading, and the same
facts as a request writes them, unlisted findings unknown), projects each,
and decides each distinct projection once with BOTH engines in worker
processes, checking them equal entry by entry (a disagreement is an error
naming the request).  An entry is the decision without explanation: outcome,
statement, criteria met, missing, possible outcomes, referral, citations,
notices and its deciding facts (covkb.sentences.deciding: the part of the
derivation its summary reads, read off the derivation as the entry is built),
so that an answer from the table says its decision in the same words as the
engine's.  The deciding facts are a list of their own in the table (many
decisions share them), each projection naming its decision and its deciding
facts.  A count in the deciding facts is kept without its value (the entry
stands for a band of counts): an answer takes the request's own.  A request
both engines refuse gets no entry (the engine words the error).

The table is a file in the state directory (``compiled/<digest>.json``,
covkb.paths.state_dir): a header line (format, policy, version, the
knowledge base's digest, sha256 of the body), then the body, JSON read as
data.  ``load`` uses it only when its digest is the version's
(covkb.kbdigest) and the body's checksum holds, and only a file the user
owns that no other user may write; anything else is ignored (a stale table
silently, a corrupt or foreign one with a warning).  A draft, and a version
whose space exceeds MAX_SCENARIOS, has no table: the engine decides as
before (and so does every version with COVKB_COMPILED=0, for A/B runs).  ``KnowledgeBase.determine(explain=False)`` answers from the table
through ``Table.determination``; with an explanation the engine decides.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import stat
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .facts import atom
from .kbdigest import kb_digest
from .node import Node
from .paths import state_dir, write_cache

if TYPE_CHECKING:
    from .determination import Determination
    from .policy import VersionData

FORMAT = "covkb-compiled/2"   # /2: each entry keeps its deciding facts (an older table is stale)
MAX_SCENARIOS = 1_000_000   # a version with a larger space is not compiled (the largest now: 354,543)
CHUNK = 400                 # requests a worker decides per task
OMITTED = Node("omitted", ())


class TableIgnored(UserWarning):
    """A compiled table that is there but cannot be trusted (corrupt, tampered, not the user's own)."""


def table_path(digest: str) -> Path:
    return state_dir() / "compiled" / f"{digest}.json"


# -- the projection ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subject:
    """What one subject's projection reads: the findings that can matter, and
    each field that settles one of its facts (a number field with its thresholds)."""

    relevant: frozenset[str]
    fields: tuple[tuple[str, tuple[int, ...] | None], ...]
    # each projection's entry: its decision and its deciding facts (each list of the table's, deduplicated)
    keys: dict[tuple[Any, ...], tuple[int, int]] = field(default_factory=dict, compare=False)


def _value(value: Any, thresholds: tuple[int, ...] | None) -> Any:
    """A field's value in the projection: a number as its band (how many thresholds it reaches)."""
    if value is None or thresholds is None:
        return tuple(value) if isinstance(value, list) else value
    return bisect.bisect_right(thresholds, value)


def project(subject: Subject, req: Any) -> tuple[Any, ...]:
    """A request's projection within its subject (req: a read request)."""
    rel = subject.relevant
    return (*(_value(req.get(n), ts) for n, ts in subject.fields),
            tuple(sorted(rel.intersection(req.findings))), tuple(sorted(rel.intersection(req.unknown_findings))),
            tuple(sorted(rel.intersection(req.absent_findings))), req.unlisted_findings)


def subject_of(req: Any, qualifiers: tuple[str, ...]) -> tuple[Any, ...]:
    return (req.service, req.cpt, *(req.get(q) for q in qualifiers))


def reads(data: VersionData, facts: Iterable[str]) -> tuple[tuple[str, tuple[int, ...] | None], ...]:
    """The request fields that settle one of these facts (as kb/schema.pl
    declares: the field stating it, a number rule, a code-list code, a number
    rule on a count read through the count it is at most, field_at_most),
    and the fields that settle a fact one of those settles too (a request
    where two disagree is refused), each number field with the thresholds of
    its rules on them."""
    facts = set(facts)
    settles: dict[str, set[str]] = {}
    thresholds: dict[str, set[int]] = {}
    for f in data.vocabulary.fields.values():
        if f.fact is not None:
            settles.setdefault(f.name, set()).add(f.fact)
    # a count bounded by another reads the other's rules, and the other its own
    partners: dict[str, set[str]] = {}
    for r in data.rows("field_at_most"):
        partners.setdefault(atom(r[0]), set()).add(atom(r[1]))
        partners.setdefault(atom(r[1]), set()).add(atom(r[0]))
    rules = [(atom(r[0]), fld, r[2]) for name in ("number_at_least", "number_below") for r in data.rows(name)
             for fld in (atom(r[1]), *partners.get(atom(r[1]), ()))]
    for fact, fld, _ in rules:
        settles.setdefault(fld, set()).add(fact)
    for r in data.rows("listed_code_implies"):
        settles.setdefault(atom(r[0]), set()).add(atom(r[2]))
    # and every field that settles a fact a read field settles too: the two may contradict each other
    while True:
        more = set().union(*(fs for fs in settles.values() if fs & facts)) - facts
        if not more:
            break
        facts |= more
    for fact, fld, t in rules:
        if fact in facts:
            thresholds.setdefault(fld, set()).add(t)
    out = []
    for name in sorted(data.vocabulary.fields):
        if settles.get(name, set()) & facts:
            numeric = data.vocabulary.fields[name].numeric
            out.append((name, tuple(sorted(thresholds.get(name, ()))) if numeric else None))
    return tuple(out)


# -- the table ----------------------------------------------------------------------------------------------


@dataclass
class Table:
    """One version's compiled decisions, as loaded."""

    policy: str
    version: str
    digest: str
    qualifiers: tuple[str, ...]
    entries: list[dict[str, Any]]            # each decision, as covkb.determination.aggregate gives it
    deciding: list[tuple[dict[str, Any], tuple[str, ...]]]  # each decision's deciding facts, the fields of their counts
    subjects: dict[tuple[Any, ...], Subject]
    _answers: dict[tuple[Any, ...], Determination] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, policy: str, version: str, digest: str, doc: dict[str, Any]) -> Table:
        """A table from its document (as covkb.compile_build makes it and the file keeps it)."""
        subjects = {}
        for what, rel, fields, keys in doc["subjects"]:
            subjects[tuple(what)] = Subject(frozenset(rel), tuple((n, None if t is None else tuple(t))
                                                                  for n, t in fields),
                                            {_key(k): (int(i), int(j)) for k, i, j in keys})
        return cls(policy, version, digest, tuple(doc["qualifiers"]), [_entry(e) for e in doc["entries"]],
                   [(d, tuple(sorted(set(_counted(d))))) for d in doc["deciding"]], subjects)

    def lookup(self, req: Any) -> tuple[int, int] | None:
        """The entry of a read request, or None (the engine decides it)."""
        subject = self.subjects.get(subject_of(req, self.qualifiers))
        return None if subject is None else subject.keys.get(project(subject, req))

    def key(self, req: Any) -> tuple[Any, ...] | None:
        """What a read request's answer from the table depends on, when the
        table holds its entry (else None): its subject and projection, and
        its own counts the entry's deciding facts quote (as determination reads them)."""
        what = subject_of(req, self.qualifiers)
        subject = self.subjects.get(what)
        if subject is None:
            return None
        seen = project(subject, req)
        found = subject.keys.get(seen)
        if found is None:
            return None
        return (what, seen, *(req.get(f) for f in self.deciding[found[1]][1]))

    def determination(self, req: Any, *, policy: str, data: VersionData, warnings: list[str],
                      engine: str) -> Determination | None:
        """The answer without explanation from the table, as the engine's would
        read (Determination.from_cases with explain=False); None on a miss."""
        found = self.lookup(req)
        if found is None:
            return None
        deciding, counts = self.deciding[found[1]]
        memo = (found, policy, tuple(warnings), engine, req.unlisted_findings, *(req.get(f) for f in counts))
        hit = self._answers.get(memo)
        if hit is None:
            from .determination import Determination

            # the request's own counts in its deciding facts
            raw = {**self.entries[found[0]], "deciding": _with_counts(deciding, req.get) if counts else deciding}
            hit = Determination._from_aggregate(raw, OMITTED, policy=policy, data=data, warnings=warnings,
                                                engine=engine, unlisted_findings=req.unlisted_findings)
            if len(self._answers) >= 4096:
                self._answers.clear()
            self._answers[memo] = hit
        return hit


def _entry(raw: list[Any]) -> dict[str, Any]:
    outcome, statement, met, missing, possible, referral, cites, notices = raw
    return {"outcome": outcome, "statement": statement, "criteria_met": met, "missing": missing,
            "possible_outcomes": possible, "referral": referral,
            "citations": {(s, q) for s, q in cites}, "notices": [tuple(n) for n in notices]}


def _row(raw: dict[str, Any]) -> list[Any]:
    """An aggregate (explain=False) as the table stores it: the decision, and
    its deciding facts without their counts (kept apart: many decisions share them)."""
    return [[raw["outcome"], raw["statement"], list(raw["criteria_met"]), list(raw["missing"]),
             list(raw["possible_outcomes"]), raw["referral"], sorted(list(c) for c in raw["citations"]),
             [list(n) for n in raw["notices"]]], _with_counts(raw["deciding"], lambda _: None)]


# a fact settled by a count (kb/derivation.pl's number and number_bound sources): its node names the
# field whose value it shows (number_bound: the bounding count's)
_COUNTED = frozenset(("number", "number_bound"))


def _counted(node: dict[str, Any]) -> Iterator[str]:
    """The fields whose counts the deciding facts show."""
    if node["kind"] == "fact" and node.get("source") in _COUNTED:
        yield node["field"]
    for c in node["children"]:
        yield from _counted(c)


def _with_counts(node: dict[str, Any], count: Any) -> dict[str, Any]:
    """The deciding facts with each count shown as count(field) gives it (None: left out of the table)."""
    kids = [_with_counts(c, count) for c in node["children"]]
    if node["kind"] == "fact" and node.get("source") in _COUNTED:
        return {**node, "number": count(node["field"]), "children": kids}
    return {**node, "children": kids}


def _key(raw: list[Any]) -> tuple[Any, ...]:
    return tuple(tuple(x) if isinstance(x, list) else x for x in raw)


def _trusted(path: Path) -> str | None:
    """Why a table file may not be trusted, or None: it must be the user's own, writable by no one else."""
    st = path.stat()
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "it belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "others may write it"
    return None


def load(data: VersionData) -> Table | None:
    """The version's table when present, current and intact; else None."""
    if data.version.knowledge == "draft" or os.environ.get("COVKB_COMPILED") == "0":
        return None
    digest = kb_digest(data)
    path = table_path(digest)
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        why = _trusted(path)
        if why is not None:
            raise ValueError(why)
        head_text, _, body = blob.partition(b"\n")
        head = json.loads(head_text)
        if head.get("format") != FORMAT or head.get("digest") != digest:
            return None  # another format or another knowledge base: stale, not wrong
        if hashlib.sha256(body).hexdigest() != head.get("sha256"):
            raise ValueError("its checksum does not match its contents")
        return Table.of(head["policy"], head["version"], digest, json.loads(body))
    except (ValueError, KeyError, TypeError, OSError) as exc:
        warnings.warn(f"covkb: the compiled table {path} is ignored: {exc}", TableIgnored, stacklevel=2)
        return None


def _write(path: Path, head: dict[str, Any], doc: dict[str, Any]) -> None:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    head = {**head, "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = os.umask(0o077)
    try:
        write_cache(path, json.dumps(head, sort_keys=True) + "\n" + body)
    finally:
        os.umask(old)


# -- building --------------------------------------------------------------------------------------------


def variants(req: dict[str, Any], relevant: frozenset[str]) -> Iterator[dict[str, Any]]:
    """A scenario as written (unlisted findings absent), and the same facts as
    requests usually write them: absent findings listed, unlisted ones unknown."""
    yield req
    listed = set(req.get("findings", ())) | set(req.get("unknown_findings", ()))
    open_ = {k: v for k, v in req.items() if k not in ("unknown_findings", "absent_findings", "unlisted_findings")}
    absent = sorted(relevant - listed)
    if absent:
        open_["absent_findings"] = absent
    yield open_


def current(data: VersionData) -> bool:
    """A table for this version is on disk with its digest (its contents are checked on load)."""
    path = table_path(kb_digest(data))
    try:
        with path.open("rb") as f:
            head = json.loads(f.readline())
        return head.get("format") == FORMAT and head.get("digest") == kb_digest(data)
    except (OSError, ValueError):
        return False


__all__ = ["FORMAT", "MAX_SCENARIOS", "Subject", "Table", "TableIgnored", "current", "load",
           "project", "reads", "subject_of", "table_path", "variants"]
