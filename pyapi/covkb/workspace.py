"""Drafts kept in the workspace (covkb.store), read as versions of their policy.

A stored draft is TOML text in the draft language (covkb.draft): it is
compiled to facts by ``Policy.draft_text`` and nothing it holds ever runs.
This module is policy-generic and knows nothing of HTTP or FHIR; the service's
worker operations (covkb.service.ops: draft_save, draft_get, draft_list,
draft_review, draft_export) and the command line use it.

- ``version_of``: the draft as a Version of its policy (id ``draft:ID``).
- ``findings``: what checking it finds (``covkb check``), or its one-line
  error when it does not compile: kept with the draft on each save.
- ``review``: the check, the diff against its base (covkb.diff's JSON), and
  each test request decided: pass or fail, the actual answer, and for a
  failing one the diff's regions that hold its request (the change that
  broke it).
- ``export``: the files that would make it a version in kb/ (its facts, the
  version's entry in policy.pl, its source with the proposed wording) and
  its test requests as named queries.
- ``recheck``: a draft whose base changed in the knowledge base (its kb
  digest differs) is checked again and its findings kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import CovkbError, InvalidRequest
from .facts import atom, fact_text
from .policy import Policy, Version, VersionData
from .store.drafts import StoredDraft


@dataclass(frozen=True)
class TestResult:
    """One test request of a draft, decided by it."""

    name: str
    request: dict[str, Any]
    expect: dict[str, Any]
    why: str
    passed: bool | None          # None: the draft does not compile, nothing was decided
    actual: dict[str, Any]       # the outcome and statement decided (or {"error": {code, message}})
    problems: tuple[str, ...] = ()
    regions: tuple[int, ...] = ()  # a failing test's diff regions (indices of the diff's "regions")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "request": self.request, "expect": self.expect, "why": self.why,
                "passed": self.passed, "actual": self.actual, "problems": list(self.problems),
                "regions": list(self.regions)}


@dataclass(frozen=True)
class DraftReview:
    """A draft reviewed: its check, its diff against its base, its tests decided."""

    draft: StoredDraft
    error: dict[str, str] | None           # why it does not compile (code, one-line message), else None
    check: dict[str, Any] | None = None    # covkb.check's JSON
    diff: dict[str, Any] | None = None     # covkb.diff's JSON, base -> draft
    tests: tuple[TestResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """It compiles, its check finds no error and every test passes."""
        return self.error is None and bool(self.check and self.check["ok"]) and all(t.passed for t in self.tests)

    def to_dict(self) -> dict[str, Any]:
        passed = sum(t.passed is True for t in self.tests)
        return {"draft": self.draft.to_dict(), "version": self.draft.version_id, "base": self.draft.revision_of,
                "ok": self.ok, "error": self.error, "check": self.check, "diff": self.diff,
                "tests": [t.to_dict() for t in self.tests],
                "tests_summary": {"passed": passed, "failed": sum(t.passed is False for t in self.tests),
                                  "total": len(self.tests)}}


def version_of(policy: Policy, stored: StoredDraft) -> Version:
    """The stored draft compiled as a version of ``policy`` (id ``draft:ID``);
    a draft that does not compile raises its DraftError (code invalid_draft)."""
    if stored.policy != policy.id:
        raise InvalidRequest(f"draft {stored.id} revises {stored.policy}, not {policy.id}")
    return policy.draft_text(stored.text, stored.id)


def base_digest(policy: Policy, stored: StoredDraft) -> str:
    """The kb digest of the version the draft revises ("" when it names none that exists)."""
    from .store import kb_digest

    try:
        return kb_digest(policy.data(policy.version(stored.revision_of)))
    except CovkbError:
        return ""


def findings(policy: Policy, stored: StoredDraft, *, decide: Decide | None = None) -> dict[str, Any]:
    """What checking the draft finds, as kept with it: {"compiles", "error",
    "check", "tests"}: covkb check's report and each test request decided
    (passed, actual, problems; a review adds the diff regions of a failing one)."""
    from .check import check

    policy = policy.fork()  # the draft is read into a policy of its own: the one given keeps no trace of it
    try:
        v = version_of(policy, stored)
        data = policy.data(v)
    except CovkbError as err:
        return {"compiles": False, "error": err.to_dict(), "check": None, "tests": []}
    decide = decide or _prolog(policy)
    tests = [{k: t[k] for k in ("name", "passed", "actual", "problems")}
             for t in (_run_test(x, v, data, None, decide).to_dict() for x in stored.tests)]
    return {"compiles": True, "error": None, "check": check(data).to_dict(), "tests": tests}


def save(store: Any, policy: Policy, **draft: Any) -> StoredDraft:
    """Save a draft (Store.save_draft's arguments), checked: its findings and its
    base's kb digest kept with the revision saved.  A draft that does not
    compile is kept all the same, its one-line error its finding."""
    saved = store.save_draft(policy.id, **draft)
    found, digest = findings(policy, saved), base_digest(policy, saved)
    store.record_check(saved.id, saved.revision, kb_digest=digest, findings=found)
    return _with(saved, digest, found)


def recheck(store: Any, policy: Policy, stored: StoredDraft) -> StoredDraft:
    """The draft, checked again when the knowledge base it revises changed
    since its last check (its base's kb digest differs), its findings kept."""
    digest = base_digest(policy, stored)
    if digest == stored.kb_digest and stored.findings:
        return stored
    found = findings(policy, stored)
    store.record_check(stored.id, stored.revision, kb_digest=digest, findings=found)
    return _with(stored, digest, found)


def _with(stored: StoredDraft, digest: str, found: dict[str, Any]) -> StoredDraft:
    from dataclasses import replace

    return replace(stored, kb_digest=digest, findings=found)


Decide = Callable[[dict[str, Any], Version], dict[str, Any]]


def review(policy: Policy, stored: StoredDraft, *, decide: Decide | None = None) -> DraftReview:
    """The draft's check, its diff against its base, and its test requests
    decided (by ``decide(request, version)``, a determination's dict; by
    default the Prolog engine over ``policy``)."""
    from .check import check
    from .diff import diff

    try:
        v = version_of(policy, stored)
        data = policy.data(v)
    except CovkbError as err:
        tests = tuple(TestResult(t["name"], t["request"], t["expect"], t.get("why", ""), None, {}) for t in stored.tests)
        return DraftReview(stored, err.to_dict(), tests=tests)
    report = diff(policy, stored.revision_of, v.id)
    out = report.to_dict()
    decide = decide or _prolog(policy)
    tests = tuple(_run_test(t, v, data, report, decide) for t in stored.tests)
    return DraftReview(stored, None, check(data).to_dict(), out, tests)


def _prolog(policy: Policy) -> Decide:
    from .kb import KnowledgeBase

    kb = KnowledgeBase("prolog", policy=policy)

    def decide(request: dict[str, Any], version: Version) -> dict[str, Any]:
        return kb.determine(request, explain=False, version=version).to_dict(explanation=False)
    return decide


def _run_test(test: dict[str, Any], v: Version, data: VersionData, report: Any, decide: Decide) -> TestResult:
    from .queries import NamedQuery

    query = NamedQuery(test["name"], test.get("title", ""), test["request"], test["expect"], test.get("why", ""),
                       Path(f"{test['name']}.json"))
    try:
        got = decide(test["request"], v)
        actual = {k: got.get(k) for k in ("outcome", "statement") if k in got}
    except CovkbError as err:
        got = actual = {"error": err.to_dict()}
    problems = tuple(query.check(got))
    regions = _breaking(report.regions, test["request"], data, actual.get("outcome")) if problems and report else ()
    return TestResult(test["name"], test["request"], test["expect"], test.get("why", ""), not problems, actual,
                      problems, regions)


def _breaking(regions: list[Any], request: dict[str, Any], data: VersionData, outcome: str | None) -> tuple[int, ...]:
    """The diff regions that hold a failing test's request (their indices):
    about its service or code, deciding on the draft's side what the draft
    decided for it, no fact they fix contradicting what the request states;
    of those, the ones that fix most of what it states (the region it is in,
    where the request states every fact the region fixes)."""
    stated = stated_facts(data, request)
    found: dict[int, int] = {}
    for i, r in enumerate(regions):
        if any(r.root.get(k) not in (None, request.get(k)) for k in ("service", "cpt")):
            continue
        if outcome is not None and r.after.get("outcome") != outcome:
            continue
        if all(stated.get(k, v) == v for k, v in r.fixed.items()):
            found[i] = sum(k in stated for k in r.fixed)
    best = max(found.values(), default=0)
    return tuple(i for i, n in found.items() if n == best)


def stated_facts(data: VersionData, request: dict[str, Any]) -> dict[str, str]:
    """The patient facts and findings a request states outright, as the
    version reads its fields (a finding listed, a boolean or choice field,
    a number against the version's thresholds, a code listed); what it does
    not state is left out (never read as "no")."""
    out: dict[str, str] = {}
    for f in request.get("findings", ()) or ():
        out[str(f)] = "yes"
    for f in request.get("absent_findings", ()) or ():
        out[str(f)] = "no"
    for f in request.get("unknown_findings", ()) or ():
        out[str(f)] = "unknown"
    vocab = data.vocabulary
    for name, fld in vocab.fields.items():
        if name in request and fld.states_fact and fld.fact:
            out[fld.fact] = str(fld.engine_value(request[name]))
    for fact, fld, n, *_ in data.rows("number_at_least"):
        value = request.get(atom(fld))
        if isinstance(value, int) and not isinstance(value, bool):
            out[atom(fact)] = "yes" if value >= n else "no"
    for fact, fld, n, *_ in data.rows("number_below"):
        value = request.get(atom(fld))
        if isinstance(value, int) and not isinstance(value, bool):
            out[atom(fact)] = "yes" if value < n else "no"
    for fld, code, fact, value in data.rows("listed_code_implies"):
        if code in (request.get(atom(fld)) or ()):
            out[atom(fact)] = atom(value)
    return out


# -- export ----------------------------------------------------------------------------
def export_version_id(stored: StoredDraft) -> str:
    """The version id an exported draft gets (the analyst renames it when it takes effect)."""
    return f"draft-{stored.id}"


def export(policy: Policy, stored: StoredDraft, version_id: str | None = None) -> dict[str, str]:
    """The files that would make the draft a version, by path relative to the
    folder that holds kb/ (and queries/): its facts, policy.pl with the
    version's entry (undated: its dates are set when it takes effect), its
    source with the proposed wording, and its test requests as named queries."""
    from .draft import compile_text

    vid = version_id or export_version_id(stored)
    if vid in {v.id for v in policy.versions}:
        raise InvalidRequest(f"{policy.number} has a version {vid!r} already")
    compiled = compile_text(stored.text, policy, f"{stored.id}.toml")
    base = policy.version(compiled.base)
    home = policy.root.parent
    folder = _relative(policy.folder, home, Path("kb") / "policies" / policy.folder.name)
    files: dict[str, str] = {}
    head = [f"%## Draft {stored.id}, revision {stored.revision}" + (f": {_one_line(compiled.title)}" if compiled.title
                                                                     else ""),
            f"% Exported from covkb's workspace (draft:{stored.id}); it revises version {base.id}."]
    if stored.note:
        head.append(f"% Note: {_one_line(stored.note)}")
    files[f"{folder}/{vid}/draft.pl"] = "\n".join(head) + "\n\n" + fact_text(compiled.facts)
    source = base.source.relative_to(policy.folder).as_posix()
    if compiled.wording:
        source = f"source/{vid}.txt"
        files[f"{folder}/{source}"] = base.source.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + \
            compiled.wording.strip("\n") + "\n"
    files[f"{folder}/policy.pl"] = _policy_pl(policy, base, vid, source)
    queries = _relative(policy.queries_dir, home, Path("queries") / policy.folder.name)
    for t in stored.tests:
        files[f"{queries}/{t['name']}.json"] = json.dumps(
            {"title": t.get("title") or t["name"].replace("_", " ").capitalize(), "version": vid,
             "request": t["request"], "expect": t["expect"], "why": t.get("why", "")},
            ensure_ascii=False, indent=2) + "\n"
    return files


def _policy_pl(policy: Policy, base: Version, vid: str, source: str) -> str:
    """policy.pl with the exported version's entry: undated, listed before
    the others (undated versions are in force only where no dated one is,
    the last listed first), its knowledge as its base's."""
    text = (policy.folder / "policy.pl").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("version(")), len(lines))
    entry = (f"% {vid}: a draft exported from covkb's workspace; set its dates when it takes effect\n"
             f"version({json.dumps(vid)}, unknown, unknown, {base.knowledge}).\n")
    lines.insert(first, entry)
    text = "".join(lines)
    return text.rstrip("\n") + f"\n\nversion_source({json.dumps(vid)}, {json.dumps(source)}).\n"


def _relative(path: Path, home: Path, otherwise: Path) -> str:
    try:
        return path.resolve().relative_to(home.resolve()).as_posix()
    except ValueError:
        return otherwise.as_posix()


def _one_line(text: str) -> str:
    return " ".join(text.split())


__all__ = ["DraftReview", "TestResult", "base_digest", "export", "export_version_id", "findings", "recheck",
           "review", "save", "stated_facts", "version_of"]
