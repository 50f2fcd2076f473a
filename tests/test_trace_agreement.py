"""Both engines return the same trace: for every case of a request, the same
assignment and the same trace atoms (kb/derivation.pl, trace_atom/3), from
which covkb.explain builds the one derivation.  The engine-agreement test
compares the built answers; this compares what they are built from, so that
two traces cannot differ where the tree happens not to show it.

On every named query of every policy (and, marked slow, on the frozen
corpus of the engine-agreement test: the part make test checks; the rest,
tests/samples.py's frozen_corpus says which, in the exhaustive tier)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.installed import policy_folders
from covkb.policy import Policy
from covkb.queries import load_queries
from covkb.untrusted import read_request
from samples import frozen_corpus

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 6, 1)
TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")
POLICIES = [*(str(p) for p in policy_folders()), TEST_POLICY]


@functools.cache
def _engines(policy_ref: str) -> tuple[KnowledgeBase, KnowledgeBase]:
    return tuple(KnowledgeBase(engine=e, policy=policy_ref, today=TODAY) for e in ("prolog", "asp"))


def _traces(kb: KnowledgeBase, request: dict[str, Any], version: str | None) -> Any:
    """Each case's (assignment, trace atoms), sorted; or the error's code."""
    try:
        if version is None:
            v, _ = kb.version_for(read_request(request, kb.vocabulary))
        else:
            v = kb.policy.resolve(version)
        req = read_request(request, kb.policy.data(v).vocabulary)
        return sorted(kb.engine(v).traces(req.engine_dict()), key=repr)
    except CovkbError as exc:
        return exc.code


def _disagree(policy_ref: str, items: list[tuple[str | None, dict[str, Any]]]) -> list[str]:
    out = []
    for version, request in items:
        a, b = (_traces(kb, request, version) for kb in _engines(policy_ref))
        if a != b:
            out.append(json.dumps({"version": version, "request": request}))
    return out


@pytest.mark.parametrize("policy_ref", POLICIES, ids=[Path(p).name for p in POLICIES])
def test_engines_return_the_same_trace_for_every_named_query(policy_ref: str) -> None:
    queries = load_queries(Policy(policy=policy_ref).queries_dir)
    assert queries
    bad = _disagree(policy_ref, [(q.version_ref(), q.request) for q in queries])
    assert not bad, "\n".join(bad[:10])


@pytest.mark.parametrize("in_make_test", [pytest.param(True, marks=pytest.mark.slow, id="make-test"),
                                          pytest.param(False, marks=pytest.mark.exhaustive, id="finer")])
def test_engines_return_the_same_trace_on_the_corpus(in_make_test: bool) -> None:
    groups: dict[str, list[tuple[str | None, dict[str, Any]]]] = {}
    for line, checked in frozen_corpus():
        if checked != in_make_test:
            continue
        version = line.get("version")
        if version is not None and (version.endswith((".pl", ".toml")) or "/" in version):
            version = str(REPO / version)
        groups.setdefault(str(REPO / line["policy"]), []).append((version, line["request"]))
    bad = [d for p, items in groups.items() for d in _disagree(p, items)]
    assert not bad, f"{len(bad)} requests: " + "\n".join(bad[:10])
