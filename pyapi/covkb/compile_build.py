"""Building a version's compiled table (``covkb compile``; covkb.compiled
says what the table is): the scenarios projected, each distinct projection
decided by both engines in worker processes and checked equal as it is built."""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .compiled import CHUNK, FORMAT, MAX_SCENARIOS, Built, Subject, _row, _write, current, project, reads, \
    subject_of, table_path, variants
from .errors import CovkbError
from .kbdigest import kb_digest
from .policy import Policy, Version
from .scenarios import by_subject, size
from .untrusted import read_request


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


def _run(pool: ProcessPoolExecutor, what: str, policy: Policy, version: Version,
         requests: list[dict[str, Any]], progress: bool) -> list[Any]:
    """Answers for every request (None where both refuse); a disagreement raises, naming the request."""
    chunks = [requests[i:i + CHUNK] for i in range(0, len(requests), CHUNK)]
    out: list[Any] = []
    start, done = time.perf_counter(), 0
    for chunk, answers in zip(chunks, pool.map(_both, [what] * len(chunks), [version.id] * len(chunks), chunks)):
        for req, (kind, answer) in zip(chunk, answers):
            if kind == "disagree":
                raise CompileDisagreement(
                    f"{policy.number} {version.id}: the engines disagree on {what} for the request "
                    f"{json.dumps(req, sort_keys=True)}: {json.dumps(answer, sort_keys=True)}")
            out.append(answer if kind == "ok" else None)
        done += len(chunk)
        if progress and what == "decisions" and (done // CHUNK) % 25 == 0:
            rate = done / max(time.perf_counter() - start, 1e-9)
            print(f"  {policy.number} {version.id}: {done:,} / {len(requests):,} projections, {rate:,.0f}/s, "
                  f"{(len(requests) - done) / rate:,.0f} s left", file=sys.stderr, flush=True)
    return out


def _subjects(policy: Policy, version: Version, pool: ProcessPoolExecutor, progress: bool
              ) -> dict[tuple[Any, ...], tuple[Subject, list[str]]]:
    """Each subject the engines can name relevant findings for: its Subject (no keys yet)."""
    data = policy.data(version)
    quals = tuple(sorted(data.vocabulary.qualifiers))
    found = []
    for fields, facts, _ in by_subject(data):
        try:
            found.append((subject_of(read_request(fields, data.vocabulary), quals), fields, facts))
        except CovkbError:
            continue  # a subject no request can name: nothing to compile
    rel = _run(pool, "relevant", policy, version, [f for _, f, _ in found], progress)
    return {what: (Subject(frozenset(r), reads(data, facts)), facts)
            for (what, _, facts), r in zip(found, rel) if r is not None}


def build_version(policy: Policy, version: Version, *, workers: int = 2, force: bool = False,
                  progress: bool = True) -> Built:
    """Compile one version's table (see covkb.compiled)."""
    data = policy.data(version)
    n = size(data)
    name = (policy.number, version.id)
    if version.knowledge == "draft":
        return Built(*name, None, n, 0, 0, 0, 0.0, "a draft is decided by the engine")
    if n > MAX_SCENARIOS:
        return Built(*name, None, n, 0, 0, 0, 0.0, f"{n:,} scenarios, over the bound of {MAX_SCENARIOS:,}")
    if not force and current(data):
        return Built(*name, table_path(kb_digest(data)), n, 0, 0, 0, 0.0, "already current")
    start = time.perf_counter()
    quals = tuple(sorted(data.vocabulary.qualifiers))
    ctx = multiprocessing.get_context("spawn")  # pyswip: each worker its own SWI-Prolog
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx, initializer=_init,
                             initargs=(str(policy.folder),)) as pool:
        subjects = _subjects(policy, version, pool, progress)
        todo: list[tuple[Subject, tuple[Any, ...]]] = []
        reps: list[dict[str, Any]] = []
        for fields, _, requests in by_subject(data):
            try:
                what = subject_of(read_request(fields, data.vocabulary), quals)
            except CovkbError:
                continue
            if what not in subjects:
                continue
            subject = subjects[what][0]
            for scenario in requests:
                for req in variants(scenario, subject.relevant):
                    try:
                        r = read_request(req, data.vocabulary)
                    except CovkbError:
                        continue  # refused before any engine: nothing to compile
                    key = project(subject, r)
                    if subject_of(r, quals) == what and key not in subject.keys:
                        subject.keys[key] = -1
                        todo.append((subject, key))
                        reps.append(req)
        rows = _run(pool, "decisions", policy, version, reps, progress)
    entries: dict[str, int] = {}
    refused = 0
    for (subject, key), row in zip(todo, rows):
        if row is None:
            del subject.keys[key]
            refused += 1
            continue
        subject.keys[key] = entries.setdefault(json.dumps(row, ensure_ascii=False), len(entries))
    doc = {"qualifiers": list(quals), "entries": [json.loads(e) for e in entries],
           "subjects": [[list(what), sorted(s.relevant), [[f, None if t is None else list(t)] for f, t in s.fields],
                         [[list(k), i] for k, i in s.keys.items()]] for what, (s, _) in subjects.items()]}
    digest = kb_digest(data)
    path = table_path(digest)
    seconds = time.perf_counter() - start
    _write(path, {"format": FORMAT, "policy": policy.number, "version": version.id, "digest": digest,
                  "scenarios": n, "projections": len(reps), "seconds": round(seconds, 1)}, doc)
    return Built(*name, path, n, len(reps), len(entries), refused, seconds)
