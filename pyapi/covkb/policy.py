"""The policy as Python sees it: versions, vocabulary and section titles.

Read from the same fact files the engines load (``facts.read_facts``); used
to validate requests against the vocabulary, to pick the version in force,
and to render section paths.  The reasoning itself stays in the engines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import KnowledgeBaseError, VersionNotAvailable
from .facts import Fact, Term, atom, read_facts
from .paths import kb_dir

POLICY_DIR = "policies/cigna_0284"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _date(yyyymmdd: int) -> dt.date:
    s = str(yyyymmdd)
    return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    effective: dt.date
    next_review: dt.date
    knowledge: str
    source: Path
    folder: Path


@dataclass(frozen=True)
class VersionData:
    """The facts of one version, plus the vocabulary files, indexed."""

    version: Version
    files: tuple[Path, ...]
    facts: tuple[Fact, ...]

    def rows(self, name: str) -> list[tuple]:
        return [f.args for f in self.facts if f.name == name]

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
    def source_text(self) -> str:
        return self.version.source.read_text(encoding="utf-8")

    @cached_property
    def normalised_source(self) -> str:
        return normalise_quote(self.source_text)

    def quote_position(self, quote: str) -> int:
        """Where the quote starts in the source (for document order); -1 if absent."""
        return self.normalised_source.find(normalise_quote(quote))

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
        )


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


def normalise_quote(text: str) -> str:
    """Collapse whitespace and drop markdown bold, as quotes are checked."""
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


class Policy:
    """Cigna 0284 as encoded in kb/: its versions and their facts."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or kb_dir()).resolve()
        self.folder = self.root / POLICY_DIR
        meta = read_facts([self.folder / "policy.pl"])
        rows = lambda n: [f.args for f in meta if f.name == n]  # noqa: E731
        (pid, number, title), = rows("policy")
        self.id, self.number, self.title = atom(pid), number, title
        sources = dict(rows("version_source"))
        self.versions = sorted(
            (
                Version(vid, _date(eff), _date(nxt), atom(k), self.folder / sources[vid], self.folder / vid)
                for vid, eff, nxt, k in rows("version")
            ),
            key=lambda v: v.effective,
        )
        self._data: dict[str, VersionData] = {}

    def vocabulary_files(self) -> list[Path]:
        return [self.root / "vocabulary.pl", self.folder / "vocabulary.pl"]

    def version_files(self, version: Version) -> list[Path]:
        files = sorted(version.folder.glob("*.pl"))
        if not files:
            raise KnowledgeBaseError(f"version {version.id} has no fact files in {version.folder}")
        return self.vocabulary_files() + files

    def data(self, version: Version) -> VersionData:
        if version.id not in self._data:
            files = tuple(self.version_files(version))
            self._data[version.id] = VersionData(version, files, tuple(read_facts(files)))
        return self._data[version.id]

    def version_in_force(self, on: dt.date) -> tuple[Version, list[str]]:
        """The version for a date of service, with any warnings."""
        in_force = [v for v in self.versions if v.effective <= on]
        if not in_force:
            first = self.versions[0]
            raise VersionNotAvailable(
                f"no version of {self.number} is encoded for {on.isoformat()}: "
                f"the earliest encoded version takes effect {first.effective.isoformat()}"
            )
        v = in_force[-1]
        warnings = []
        if on > v.next_review and v is self.versions[-1]:
            warnings.append(
                f"date of service {on.isoformat()} is after version {v.id}'s next review date "
                f"{v.next_review.isoformat()}; a newer version may be in force but is not encoded"
            )
        return v, warnings

    def version(self, vid: str) -> Version:
        for v in self.versions:
            if v.id == vid:
                return v
        raise VersionNotAvailable(f"no version {vid!r}; known: {', '.join(v.id for v in self.versions)}")

    def latest(self) -> Version:
        return self.versions[-1]


__all__ = ["Policy", "Version", "VersionData", "Vocabulary", "Term", "normalise_quote", "ID_RE"]
