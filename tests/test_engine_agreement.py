"""The Prolog and the ASP engine agree on every scenario of every version of
every policy: each installed in kb/policies (Cigna 0284, all its versions;
Aetna 0348) and the fictional test policy of tests/policies/example_pap.

covkb.scenarios enumerates every distinct relevant request of a version; each
runs through KnowledgeBase(engine="prolog") and KnowledgeBase(engine="asp"),
decided by that version, and the two answers must be equal: the same
Determination.comparable(), or the same error code and message.  On a
disagreement the request and both answers are printed.  comparable() leaves
the derivation out, so the engines are asked without it (explain=False).

The explanations are compared too, on every named query of both policies:
the same tree up to the order of siblings and of list items, which
evaluator.pl takes from the order of facts in the files and evaluator.lp from
ids.

The work is split over worker processes (pyswip runs one SWI-Prolog per
process), interleaved so each gets its share of the expensive requests.
COVKB_AGREEMENT_WORKERS sets their number (default: the CPUs, at most 2).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.scenarios import scenarios

TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")
POLICIES = [*(str(p) for p in policy_folders()), TEST_POLICY]
TARGETS = [(p, v.id) for p in POLICIES for v in Policy(policy=p).versions]
SHOWN = 20  # disagreements printed in full


def _answer(kb: KnowledgeBase, request: dict[str, Any], version: str) -> dict[str, Any]:
    try:
        return {"determination": kb.determine(request, explain=False, version=version).comparable()}
    except CovkbError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}


def run_shard(policy_ref: str, version: str, shard: int, shards: int) -> dict[str, Any]:
    """Every shards-th scenario of one version from shard on, through both engines."""
    policy = Policy(policy=policy_ref)
    data = policy.data(version)
    engines = [KnowledgeBase(engine=e, policy=policy_ref) for e in ("prolog", "asp")]
    seconds = [0.0, 0.0]
    n, bad = 0, []
    for i, req in enumerate(scenarios(data)):
        if i % shards != shard:
            continue
        answers = []
        for j, kb in enumerate(engines):
            t = time.perf_counter()
            answers.append(_answer(kb, req, version))
            seconds[j] += time.perf_counter() - t
        n += 1
        if answers[0] != answers[1]:
            bad.append({"version": version, "request": req, "prolog": answers[0], "asp": answers[1]})
    return {"n": n, "disagreements": len(bad), "shown": bad[:SHOWN], "prolog_s": seconds[0], "asp_s": seconds[1]}


@pytest.mark.parametrize("policy_ref,version", TARGETS,
                         ids=[f"{Path(p).name}@{v}" for p, v in TARGETS])
def test_engines_agree_on_every_scenario(policy_ref: str, version: str) -> None:
    workers = int(os.environ.get("COVKB_AGREEMENT_WORKERS", min(2, os.cpu_count() or 1)))
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(run_shard, [policy_ref] * workers, [version] * workers, range(workers),
                                [workers] * workers))
    n = sum(r["n"] for r in results)
    bad = sum(r["disagreements"] for r in results)
    print(
        f"\n{n} scenarios, {bad} disagreements, agreement {100 * (n - bad) / n:.3f}%, "
        f"{time.perf_counter() - start:.0f}s wall on {workers} workers "
        f"(engine time: prolog {sum(r['prolog_s'] for r in results):.0f}s, asp {sum(r['asp_s'] for r in results):.0f}s)"
    )
    for d in [d for r in results for d in r["shown"]][:SHOWN]:
        print(json.dumps(d, indent=1, ensure_ascii=False))
    assert n > 0
    assert bad == 0, f"{bad} of {n} scenarios disagree (first {min(bad, SHOWN)} printed above)"


def _canonical(x: Any) -> Any:
    """x with every list sorted (siblings, would_suffice, quotes, ...)."""
    if isinstance(x, dict):
        return {k: _canonical(v) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((_canonical(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x


def _difference(a: Any, b: Any, where: str = "explanation") -> tuple[str, Any, Any]:
    """The first place two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _difference(a.get(k), b.get(k), f"{where}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _difference(x, y, f"{where}[{i}]")
    return where, a, b


@pytest.mark.parametrize("policy_ref", POLICIES, ids=[Path(p).name for p in POLICIES])
def test_engines_explain_the_named_queries_alike(policy_ref: str) -> None:
    engines = [KnowledgeBase(engine=e, policy=policy_ref) for e in ("prolog", "asp")]
    bad = []
    queries = load_queries(engines[0].policy.queries_dir)
    assert queries
    for q in queries:
        trees = []
        for kb in engines:
            try:
                trees.append(_canonical(kb.determine(q.request, version=q.version_ref()).explanation.to_dict()))
            except CovkbError as exc:
                trees.append({"error": exc.code, "message": exc.message})
        if trees[0] != trees[1]:
            bad.append(q.name)
            where, p, a = _difference(trees[0], trees[1])
            print(f"{q.name} {json.dumps(q.request)}\n  at {where}\n  prolog: {p}\n  asp:    {a}")
    assert not bad, f"explanations differ for {bad}"


@pytest.mark.parametrize("policy_ref,version", TARGETS,
                         ids=[f"{Path(p).name}@{v}" for p, v in TARGETS])
def test_engines_name_the_same_relevant_findings(policy_ref: str, version: str) -> None:
    """The findings that can matter (batch decision keys) for every service,
    code and qualifier of the scenario space."""
    engines = [KnowledgeBase(engine=e, policy=policy_ref) for e in ("prolog", "asp")]
    policy = engines[0].policy
    version = policy.resolve(version)
    keys = ("service", "cpt", *sorted(policy.data(version).vocabulary.qualifiers))
    subjects = {}
    for req in scenarios(policy.data(version)):
        subjects.setdefault(tuple(req.get(k) for k in keys), req)
    bad = []
    for req in subjects.values():
        answers = []
        for kb in engines:
            try:
                answers.append(sorted(kb.engine(version).relevant_findings(kb.parse(req).engine_dict())))
            except CovkbError as exc:
                answers.append([exc.code, exc.message])
        if answers[0] != answers[1]:
            bad.append(req)
            print(json.dumps(req), *answers, sep="\n  ")
    assert not bad, f"{len(bad)} of {len(subjects)} subjects differ"
