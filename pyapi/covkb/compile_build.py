"""Building a version's compiled table (``covkb compile``; covkb.compiled
says what the table is): the scenarios projected, each distinct projection
decided by both engines in worker processes and checked equal as it is built."""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compiled import CHUNK, FORMAT, MAX_SCENARIOS, Subject, _row, _write, current, project, reads, \
    subject_of, table_path, variants
from .errors import CovkbError
from .kbdigest import kb_digest
from .policy import Policy, Version, VersionData
from .scenarios import by_subject, size
from .untrusted import read_request


@dataclass(frozen=True, slots=True)
class Built:
    """What ``build`` did for one version."""

    policy: str
    version: str
    path: Path | None
    scenarios: int
    projections: int       # distinct projections decided by both engines
    entries: int           # distinct decisions among them
    refused: int           # projections both engines refuse (no entry: the engine words the error)
    seconds: float
    skipped: str | None = None  # why no table was built
    deciding: int = 0      # distinct deciding facts among them (what the answers' summaries are read from)

    def line(self) -> str:
        if self.skipped:
            return f"{self.policy} {self.version}: not compiled ({self.skipped})"
        return (f"{self.policy} {self.version}: {self.scenarios:,} scenarios, {self.projections:,} projections "
                f"decided by both engines, {self.entries:,} distinct decisions ({self.deciding:,} distinct deciding "
                f"facts), {self.refused:,} refused; "
                f"{self.seconds:.1f} s -> {self.path}")


class CompileDisagreement(CovkbError):
    """The two engines answered one request of the table differently."""

    code = "engine_disagreement"


# -- in a worker: both engines on the policy, once per process -------------------------------------------

_kbs: tuple[Any, ...] = ()


def _init(policy_ref: str) -> None:
    global _kbs
    from .kb import KnowledgeBase

    _kbs = tuple(KnowledgeBase(engine=e, policy=policy_ref) for e in ("prolog", "asp"))


def _answer(kb: Any, what: str, req: dict[str, Any], version: str) -> Any:
    """One engine's relevant findings of a subject, or its decision without explanation (a table row);
    a refusal as its error."""
    from .determination import aggregate

    try:
        v = kb.policy.resolve(version)
        if what == "relevant":
            return sorted(kb.engine(v).relevant_findings(read_request(req, kb.policy.data(v).vocabulary).engine_dict()))
        cases, _, _, _ = kb.cases(req, False, version)
        return _row(aggregate(cases, explain=False))
    except CovkbError as err:
        return {"error": err.code, "message": err.message}


def _both(what: str, version: str, requests: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each request through both engines: ("ok", answer), ("refused", error) or ("disagree", both answers)."""
    out = []
    for req in requests:
        a, b = (_answer(kb, what, req, version) for kb in _kbs)
        if a != b:
            out.append(("disagree", {"prolog": a, "asp": b}))
        else:
            out.append(("refused" if isinstance(a, dict) else "ok", a))
    return out


# -- in the parent -------------------------------------------------------------------------------------------


class _Engines:
    """Both engines over requests: in worker processes (spawned: each its own
    SWI-Prolog), or with workers=0 in this process."""

    def __init__(self, policy: Policy, workers: int) -> None:
        self.pool = None
        if workers > 0:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init, initargs=(str(policy.folder),))
        else:
            _init(str(policy.folder))

    def map(self, what: str, version: str, chunks: list[list[dict[str, Any]]]) -> Iterator[list[tuple[str, Any]]]:
        n = len(chunks)
        return (self.pool.map if self.pool is not None else map)(_both, [what] * n, [version] * n, chunks)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _run(engines: _Engines, what: str, policy: Policy, version: Version,
         requests: list[dict[str, Any]], progress: bool) -> list[Any]:
    """Answers for every request (None where both refuse); a disagreement raises, naming the request."""
    chunks = [requests[i:i + CHUNK] for i in range(0, len(requests), CHUNK)]
    out: list[Any] = []
    start, done = time.perf_counter(), 0
    for chunk, answers in zip(chunks, engines.map(what, version.id, chunks)):
        for req, (kind, answer) in zip(chunk, answers):
            if kind == "disagree":
                raise CompileDisagreement(
                    f"{policy.number} {version.id}: the engines disagree on {what} for the request "
                    f"{json.dumps(req, sort_keys=True)}: {json.dumps(answer, sort_keys=True)}")
            out.append(answer if kind == "ok" else None)
        done += len(chunk)
        if progress and what == "decisions" and (done // CHUNK) % 10 == 0:
            rate = done / max(time.perf_counter() - start, 1e-9)
            print(f"  {policy.number} {version.id}: {done:,} / {len(requests):,} projections, {rate:,.0f}/s, "
                  f"{(len(requests) - done) / rate:,.0f} s left", file=sys.stderr, flush=True)
    return out


def _subjects(policy: Policy, version: Version, engines: _Engines, chosen: set[int], progress: bool
              ) -> dict[tuple[Any, ...], Subject]:
    """Each chosen subject (by its place in by_subject) the engines name relevant findings for: its Subject."""
    data = policy.data(version)
    quals = tuple(sorted(data.vocabulary.qualifiers))
    found = []
    for j, (fields, facts, _) in enumerate(by_subject(data)):
        if j in chosen:
            try:
                found.append((subject_of(read_request(fields, data.vocabulary), quals), fields, facts))
            except CovkbError:
                continue  # a subject no request can name: nothing to compile
    rel = _run(engines, "relevant", policy, version, [f for _, f, _ in found], progress)
    return {what: Subject(frozenset(r), reads(data, facts)) for (what, _, facts), r in zip(found, rel) if r is not None}


@dataclass
class Compiled:
    """A table's document, and what building it took."""

    doc: dict[str, Any]
    scenarios: int
    projections: int
    entries: int
    refused: int
    seconds: float


def _given(data: VersionData, requests: list[dict[str, Any]]) -> Callable[[int, dict[str, Any], Iterator[dict[str, Any]]],
                                                                      Iterator[dict[str, Any]]]:
    """In place of each subject's scenarios, the given requests of that subject."""
    quals = tuple(sorted(data.vocabulary.qualifiers))
    mine: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for req in requests:
        try:
            mine.setdefault(subject_of(read_request(req, data.vocabulary), quals), []).append(req)
        except CovkbError:
            continue

    def of(_: int, fields: dict[str, Any], scenarios: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        try:
            return iter(mine.get(subject_of(read_request(fields, data.vocabulary), quals), ()))
        except CovkbError:
            return iter(())
    return of


def compile_version(policy: Policy, version: Version, *, workers: int = 2, select: Callable[[int], bool] | None = None,
                    given: list[dict[str, Any]] | None = None, progress: bool = False) -> Compiled:
    """Decide every projection of the version's scenarios (those select() takes
    by their index in scenarios(), by default all) by both engines: the table's
    document.  given: project these requests as they are instead of the scenarios (a partial
    table, for a benchmark's requests)."""
    start = time.perf_counter()
    data = policy.data(version)
    quals = tuple(sorted(data.vocabulary.qualifiers))
    spaces = _given(data, given) if given is not None else lambda j, f, s: s
    chosen, i = set(), 0
    for j, (fields, _, reqs) in enumerate(by_subject(data)):
        for _ in spaces(j, fields, reqs):
            if select is None or select(i):
                chosen.add(j)
            i += 1
    engines = _Engines(policy, workers)
    try:
        subjects = _subjects(policy, version, engines, chosen, progress)
        todo: list[tuple[Subject, tuple[Any, ...]]] = []
        reps: list[dict[str, Any]] = []
        i = 0
        for j, (fields, _, scenarios) in enumerate(by_subject(data)):
            requests = spaces(j, fields, scenarios)
            try:
                subject = subjects.get(what := subject_of(read_request(fields, data.vocabulary), quals))
            except CovkbError:
                subject = None
            for scenario in requests:
                i += 1
                if subject is None or (select is not None and not select(i - 1)):
                    continue
                for req in variants(scenario, subject.relevant) if given is None else (scenario,):
                    try:
                        r = read_request(req, data.vocabulary)
                    except CovkbError:
                        continue  # refused before any engine: nothing to compile
                    key = project(subject, r)
                    if subject_of(r, quals) == what and key not in subject.keys:
                        subject.keys[key] = (-1, -1)
                        todo.append((subject, key))
                        reps.append(req)
        if progress:
            print(f"  {policy.number} {version.id}: {i:,} scenarios, {len(reps):,} distinct projections",
                  file=sys.stderr, flush=True)
        rows = _run(engines, "decisions", policy, version, reps, progress)
    finally:
        engines.close()
    entries: dict[str, int] = {}
    deciding: dict[str, int] = {}
    refused = 0
    for (subject, key), row in zip(todo, rows):
        if row is None:
            del subject.keys[key]
            refused += 1
            continue
        decision, facts = (json.dumps(x, ensure_ascii=False) for x in row)
        subject.keys[key] = (entries.setdefault(decision, len(entries)), deciding.setdefault(facts, len(deciding)))
    doc = {"qualifiers": list(quals), "entries": [json.loads(e) for e in entries],
           "deciding": [json.loads(d) for d in deciding],
           "subjects": [[list(what), sorted(s.relevant), [[f, None if t is None else list(t)] for f, t in s.fields],
                         [[list(k), i, j] for k, (i, j) in s.keys.items()]] for what, s in subjects.items()]}
    return Compiled(doc, i, len(reps), len(entries), refused, time.perf_counter() - start)


def build_version(policy: Policy, version: Version, *, workers: int = 2, force: bool = False,
                  progress: bool = True, bound: int = MAX_SCENARIOS) -> Built:
    """Compile one version's table and write it (see covkb.compiled)."""
    data = policy.data(version)
    n = size(data)
    name = (policy.number, version.id)
    if version.knowledge == "draft":
        return Built(*name, None, n, 0, 0, 0, 0.0, "a draft is decided by the engine")
    if n > min(bound, MAX_SCENARIOS):
        return Built(*name, None, n, 0, 0, 0, 0.0, f"{n:,} scenarios, over the bound of {min(bound, MAX_SCENARIOS):,}")
    digest = kb_digest(data)
    path = table_path(digest)
    if not force and current(data):
        return Built(*name, path, n, 0, 0, 0, 0.0, "already current")
    c = compile_version(policy, version, workers=workers, progress=progress)
    _write(path, {"format": FORMAT, "policy": policy.number, "version": version.id, "digest": digest,
                  "scenarios": n, "projections": c.projections, "seconds": round(c.seconds, 1)}, c.doc)
    return Built(*name, path, n, c.projections, c.entries, c.refused, c.seconds, deciding=len(c.doc["deciding"]))


def build(policy_ref: str, versions: list[str] | None = None, *, workers: int = 2, force: bool = False,
          progress: bool = True, bound: int = MAX_SCENARIOS) -> list[Built]:
    """Compile the tables of a policy's versions (all by default); a table
    already current is kept unless force.  Raises CompileDisagreement when the
    engines differ on a request."""
    policy = Policy(policy=policy_ref)
    chosen = [policy.resolve(v) for v in versions] if versions else list(policy.versions)
    out = []
    for v in chosen:
        out.append(build_version(policy, v, workers=workers, force=force, progress=progress, bound=bound))
        if progress:
            print(out[-1].line(), file=sys.stderr, flush=True)
    return out
