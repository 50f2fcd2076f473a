"""Deciding one side's scenarios for ``covkb score``, in worker processes.

A score decides, one by one, the scenarios of every subject it cannot count
from the diff (covkb.score.tally), and, once per reference, every scenario
of the reference (the cache).  pyswip is one SWI-Prolog per process, so the
scenarios go, in chunks, to the batch's worker pool (``batch.WorkerPool``),
each worker loading the side once (a draft compiled once a process).  In
each worker, scenarios with the same relevant projection
(``KnowledgeBase.decision_key``, in the side's own vocabulary) are decided
once.  An answer is (outcome, deciding statement, criteria met), the
Prolog engine's determination without explanation; a request a side refuses
gets its error's code as outcome.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from .errors import CovkbError

Answer = tuple[str, "str | None", tuple[str, ...]]  # outcome, statement, criteria met (sorted)

CHUNK = 1000       # scenarios a worker decides per task
IN_PROCESS = 4000  # fewer scenarios than this are decided here: a worker's start costs more
MEMO_LIMIT = 200_000

_side: tuple[Any, Any] | None = None  # this process's (KnowledgeBase, version)
_memo: dict[tuple[Any, ...], Answer] = {}


def _init(folder: str, ref: str, in_worker: bool = True) -> None:
    """Load one side in this process: its knowledge base and version (once)."""
    global _side
    from .kb import KnowledgeBase

    if in_worker:  # the parent handles ^C
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    kb = KnowledgeBase("prolog", policy=folder)
    _side = (kb, kb.policy.resolve(ref))
    _memo.clear()


def answer(kb: Any, request: dict[str, Any], version: Any) -> Answer:
    """One scenario's answer by the Prolog engine (no explanation)."""
    try:
        d = kb.determine(request, explain=False, version=version)
    except CovkbError as exc:
        return (exc.code, None, ())
    return (d.outcome, d.statement, tuple(sorted(d.criteria_met)))


def _decide(requests: list[dict[str, Any]]) -> list[Answer]:
    """Answers for a chunk of scenarios (runs in a worker)."""
    assert _side is not None
    kb, version = _side
    out: list[Answer] = []
    for req in requests:
        try:
            key: tuple[Any, ...] | None = kb.decision_key(req, version)
        except CovkbError:
            key = None  # invalid: decided (refused) as determine refuses it
        hit = _memo.get(key) if key is not None else None
        if hit is None:
            hit = answer(kb, req, version)
            if key is not None and len(_memo) < MEMO_LIMIT:
                _memo[key] = hit
        out.append(hit)
    return out


def workers_default() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def decide_all(folder: str, ref: str, requests: list[dict[str, Any]], workers: int | None = None) -> list[Answer]:
    """Every request's answer by one side (a policy folder and a version id
    or draft path), in order: in `workers` processes when there are many."""
    workers = workers_default() if workers is None else workers
    if workers <= 1 or len(requests) < IN_PROCESS:
        global _side
        saved = _side
        _init(folder, ref, in_worker=False)
        try:
            return _decide(requests)
        finally:
            _side = saved
            _memo.clear()
    from .batch import WorkerPool

    pool = WorkerPool(workers, (folder, ref), initializer=_init, task=_decide)
    try:
        chunks = [requests[i:i + CHUNK] for i in range(0, len(requests), CHUNK)]
        return [a for part in pool.submit(chunks)() for a in part]
    finally:
        pool.stop(abort=False)
