"""The Prolog and the ASP engine agree: each installed policy of kb/policies
(Cigna 0284, all its versions; Aetna 0348) and the fictional test policy of
tests/policies/example_pap.

Every check goes through one function, ``disagreement``: a request runs
through KnowledgeBase(engine="prolog") and KnowledgeBase(engine="asp"),
decided by the version given (or, with none, by the request's date of service
or the tests' today), and the two answers must be equal: the whole JSON
answer, the derivation included and no list sorted, or the same error code
and message.  A disagreement is printed as one JSON line (policy, version,
request, where the answers first differ, both answers), ready to be added to
tests/agreement/disagreements.jsonl.

The requests, in three tiers (covkb.scenarios enumerates every distinct
relevant request of a version: its scenarios):

* the frozen corpus (`make test`): tests/agreement/corpus.jsonl, written by
  tests/agreement/make_corpus.py (every named query; for every version, one
  scenario for each distinct answer, with its outcome, statement, criteria
  met, CPT code and error code, that the version's scenarios get), the
  requests that ever disagreed (tests/agreement/disagreements.jsonl), and
  the named queries as they are now; make test checks, of each version's
  cover, the cheapest request of each (outcome, statement, criteria met,
  CPT code, error code), and the exhaustive tier the rest ("…:finer";
  tests/samples.py, frozen_corpus);
* a fresh random sample (`make test`): COVKB_SAMPLE_SIZE scenarios of every
  version (default 300; every scenario is in the exhaustive tier), drawn
  with the seed COVKB_SAMPLE_SEED (random when unset; tests/conftest.py
  prints it, and a failure names it);
* every scenario of every version (`make test-exhaustive`, marked
  exhaustive): about half a million requests, split into shards of at most
  SHARD scenarios that pytest-xdist spreads over the CPUs.

`make test-fast` keeps the named queries' groups of the corpus (marked slow:
the other groups, the sample, the relevant findings).

The relevant findings (batch decision keys) are compared too, for every
service, code and qualifier of each version.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.scenarios import scenarios, size
from samples import frozen_corpus

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 6, 1)  # the tests' today (conftest.py)
TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")
POLICIES = [*(str(p) for p in policy_folders()), TEST_POLICY]
TARGETS = [(p, v.id) for p in POLICIES for v in Policy(policy=p).versions]
SHOWN = 20  # disagreements printed in full
SHARD = 20_000  # scenarios per exhaustive test
SAMPLE = int(os.environ.get("COVKB_SAMPLE_SIZE", "300"))


def _rel(path: str | Path) -> str:
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def _name(policy_ref: str) -> str:
    return Path(policy_ref).name


@functools.cache
def _engines(policy_ref: str) -> tuple[KnowledgeBase, KnowledgeBase]:
    """Both engines on one policy, once per process (pyswip: one SWI-Prolog per process)."""
    return tuple(KnowledgeBase(engine=e, policy=policy_ref, today=TODAY) for e in ("prolog", "asp"))


def _answer(kb: KnowledgeBase, request: dict[str, Any], version: str | None) -> dict[str, Any]:
    try:
        return {"determination": kb.determine(request, version=version).to_dict()}
    except CovkbError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}


def disagreement(policy_ref: str, version: str | None, request: dict[str, Any],
                 seconds: list[float] | None = None) -> dict[str, Any] | None:
    """THE comparison of the two engines, for every agreement check (corpus,
    sample, exhaustive): None when they answer one request alike, else the
    request with both answers.  seconds: each engine's time is added to it."""
    answers = []
    for j, kb in enumerate(_engines(policy_ref)):
        t = time.perf_counter()
        answers.append(_answer(kb, request, version))
        if seconds is not None:
            seconds[j] += time.perf_counter() - t
    if answers[0] == answers[1]:
        return None
    if version is not None and "/" in version:  # a draft: its path relative to the repository
        version = _rel(version)
    return {"policy": _rel(policy_ref), "version": version, "request": request,
            "first_difference": _difference(answers[0], answers[1])[0], "prolog": answers[0], "asp": answers[1]}


def _check(what: str, requests: Iterable[tuple[str, str | None, dict[str, Any]]], hint: str = "") -> None:
    """Every (policy, version, request) through disagreement(); fails on any disagreement or on none compared."""
    start = time.perf_counter()
    seconds = [0.0, 0.0]
    n, bad = 0, []
    for policy_ref, version, request in requests:
        n += 1
        if (d := disagreement(policy_ref, version, request, seconds)) is not None:
            bad.append(d)
    print(f"\n{what}: {n} requests, {len(bad)} disagreements, {time.perf_counter() - start:.1f}s "
          f"(engine time: prolog {seconds[0]:.1f}s, asp {seconds[1]:.1f}s){hint}")
    for d in bad[:SHOWN]:
        print(json.dumps(d, ensure_ascii=False, sort_keys=True))
    assert n > 0, f"{what}: no request to compare"
    assert not bad, (f"{what}: {len(bad)} of {n} requests disagree{hint}; the first {min(len(bad), SHOWN)} "
                     f"are printed above, one JSON line each: add them to tests/agreement/disagreements.jsonl")


# -- the frozen corpus --------------------------------------------------------------------------------------


def _version_ref(version: str | None) -> str | None:
    """A version id as it is; a draft's path (relative to the repository) made absolute."""
    if version is not None and (version.endswith((".pl", ".toml")) or "/" in version):
        return str(REPO / version)
    return version


def _corpus() -> dict[str, list[tuple[str, str | None, dict[str, Any]]]]:
    """The corpus files' requests and the named queries as they are now,
    grouped by policy and version (the named queries by policy), without
    repeats; the cover's requests make test leaves out (tests/samples.py,
    frozen_corpus) in a group of their own, "…:finer"."""
    lines: list[tuple[dict[str, Any], bool]] = frozen_corpus()
    for p in POLICIES:
        for q in load_queries(Policy(policy=p).queries_dir):
            lines.append(({"policy": _rel(p), "version": q.version, "request": q.request, "source": "query"}, True))
    groups: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {}
    seen: set[tuple[str, str | None, str]] = set()
    for line, in_make_test in lines:
        policy_ref, version, request = str(REPO / line["policy"]), line.get("version"), line["request"]
        key = (policy_ref, version, json.dumps(request, sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        named = line.get("source", "").startswith("query") or version is None or "/" in version
        group = f"{_name(policy_ref)}:queries" if named else f"{_name(policy_ref)}@{version}"
        groups.setdefault(group if in_make_test else f"{group}:finer", []).append(
            (policy_ref, _version_ref(version), request))
    return groups


CORPUS_GROUPS = _corpus()


def _corpus_marks(group: str) -> tuple[pytest.MarkDecorator, ...]:
    if group.endswith(":finer"):
        return (pytest.mark.exhaustive,)
    return () if group.endswith(":queries") else (pytest.mark.slow,)


@pytest.mark.parametrize("group", [pytest.param(g, marks=_corpus_marks(g)) for g in sorted(CORPUS_GROUPS)])
def test_engines_agree_on_the_corpus(group: str) -> None:
    _check(f"corpus {group}", CORPUS_GROUPS[group])


def test_the_corpus_covers_every_version() -> None:
    for p, v in TARGETS:
        assert f"{_name(p)}@{v}" in CORPUS_GROUPS, \
            f"no corpus request for {_name(p)}@{v}: run tests/agreement/make_corpus.py and commit the corpus"


# -- a fresh random sample ----------------------------------------------------------------------------------


def sample_seed() -> str:
    """COVKB_SAMPLE_SEED (tests/conftest.py sets it at random when unset, for every xdist worker alike)."""
    return os.environ.setdefault("COVKB_SAMPLE_SEED", str(random.SystemRandom().randrange(10**9)))


def _sample(policy_ref: str, version: str, seed: str, k: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    data = Policy(policy=policy_ref).data(version)
    total = size(data)
    rng = random.Random(f"{seed}/{_name(policy_ref)}/{version}")
    chosen = set(rng.sample(range(total), min(k, total)))
    for i, req in enumerate(scenarios(data)):
        if i in chosen:
            yield policy_ref, version, req


@pytest.mark.slow
@pytest.mark.parametrize("policy_ref,version", TARGETS, ids=[f"{_name(p)}@{v}" for p, v in TARGETS])
def test_engines_agree_on_a_random_sample(policy_ref: str, version: str) -> None:
    seed = sample_seed()
    _check(f"random sample of {_name(policy_ref)}@{version}", _sample(policy_ref, version, seed, SAMPLE),
           hint=f" (COVKB_SAMPLE_SEED={seed} COVKB_SAMPLE_SIZE={SAMPLE} draws this sample again)")


# -- every scenario -----------------------------------------------------------------------------------------


def _shards() -> list[tuple[str, str, int, int]]:
    out = []
    for p, v in TARGETS:
        shards = max(1, math.ceil(size(Policy(policy=p).data(v)) / SHARD))
        out += [(p, v, k, shards) for k in range(shards)]
    return out


SHARDS = _shards()


@pytest.mark.exhaustive
@pytest.mark.parametrize("policy_ref,version,shard,shards", SHARDS,
                         ids=[f"{_name(p)}@{v}-{k + 1}of{n}" for p, v, k, n in SHARDS])
def test_engines_agree_on_every_scenario(policy_ref: str, version: str, shard: int, shards: int) -> None:
    """Every shards-th scenario of one version from shard on (interleaved, so
    each shard gets its share of the expensive requests)."""
    requests = ((policy_ref, version, req) for i, req in enumerate(scenarios(Policy(policy=policy_ref).data(version)))
                if i % shards == shard)
    _check(f"scenarios of {_name(policy_ref)}@{version}, shard {shard + 1} of {shards}", requests)


# -- where two answers differ, and relevant findings ----------------------------------------------------------


def _difference(a: Any, b: Any, where: str = "answer") -> tuple[str, Any, Any]:
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


@pytest.mark.slow
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
