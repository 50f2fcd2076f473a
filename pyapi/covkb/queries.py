"""Named example queries (queries/<policy>/*.json, or queries/ in a policy
folder): a request, its expected outcome, and one sentence saying why.  The tests and `make run` run them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidRequest


def _default_folder() -> Path:
    from .policy import Policy

    return Policy().queries_dir


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    title: str
    request: dict[str, Any]
    expect: dict[str, Any]
    why: str
    path: Path
    version: str | None = None  # a version id or draft file (relative to the repository) to decide it by

    def version_ref(self) -> str | None:
        """The version to decide by, a draft's path made absolute."""
        if self.version is None or not self.version.endswith((".pl", ".toml")):
            return self.version
        from .paths import repo_dir

        return str(repo_dir() / self.version)

    def check(self, result: dict[str, Any]) -> list[str]:
        """Differences between a result (determination dict or {'error': {...}}) and the expectation."""
        problems = []
        for key, want in self.expect.items():
            got = result.get("error", {}).get("code") if key == "error" else result.get(key)
            if key == "notices":  # compared by id
                got = [n["id"] for n in got or ()]
            if isinstance(want, list):
                got = list(got or [])
            if got != want:
                problems.append(f"{key}: expected {want!r}, got {got!r}")
        return problems


def load_queries(folder: Path | None = None) -> list[NamedQuery]:
    folder = folder or _default_folder()
    return [_load(p) for p in sorted(folder.glob("*.json"))]


def load_query(name: str, folder: Path | None = None) -> NamedQuery:
    """The query named (a file stem in the queries folder, never a path:
    a file outside the folder is refused)."""
    folder = folder or _default_folder()
    stem = name[:-5] if name.endswith(".json") else name
    path = folder / f"{stem}.json"
    if ("/" in stem or "\\" in stem or stem in ("", ".", "..") or len(stem) > 200
            or not path.resolve().is_relative_to(folder.resolve())):
        raise InvalidRequest(f"{name[:200]!r} is not a query name: a query is named by its file stem in "
                             f"{folder.name}/ (`covkb query --list` lists them), never by a path")
    if not path.is_file():
        import difflib

        names = [p.stem for p in folder.glob("*.json")]
        near = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise InvalidRequest(f"no query named {name!r}{hint}; `covkb query --list` lists them")
    return _load(path)


def _load(path: Path) -> NamedQuery:
    d = json.loads(path.read_text(encoding="utf-8"))
    return NamedQuery(path.stem, d["title"], d["request"], d["expect"], d["why"], path, d.get("version"))


@dataclass(frozen=True)
class QuerySummary:
    """How every named query of every installed policy came out: per policy
    (the default one first), the count of each outcome (an error as
    ``error: CODE``); and each query not as expected, with its problems."""

    counts: dict[str, dict[str, int]]
    failures: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def summarize(engine: str = "prolog") -> QuerySummary:
    """Run every named query of every installed policy (``covkb query --summary``, the end of ``make run``)."""
    from collections import Counter

    from .errors import CovkbError
    from .installed import policy_folders
    from .kb import KnowledgeBase
    from .policy import Policy

    default = Policy().folder
    counts: dict[str, dict[str, int]] = {}
    failures = []
    for folder in sorted(policy_folders(), key=lambda f: f.resolve() != default):
        with KnowledgeBase(engine=engine, policy=folder) as kb:
            counts[kb.policy.number] = mine = Counter()
            for q in load_queries(kb.policy.queries_dir):
                try:
                    result = kb.determine(q.request, version=q.version_ref()).to_dict(explanation=False)
                except CovkbError as err:
                    result = {"error": err.to_dict()}
                mine[result.get("outcome") or f"error: {result['error']['code']}"] += 1
                problems = q.check(result)
                if problems:
                    failures.append(f"{kb.policy.number}: {q.name}: " + "; ".join(problems))
    return QuerySummary({p: dict(c) for p, c in counts.items()}, tuple(failures))
