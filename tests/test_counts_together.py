"""Counts that reason together (issue 22 item 1).

A shared vocabulary declares that one count never exceeds another
(field_at_most/3: a spontaneous abortion is a failed pregnancy).  Request
validation refuses a request that breaks it; both engines read the same
declaration as a source of a settled fact (trace_source number_bound/5):
a number rule on the larger count is met when the smaller count already
meets it, and a number rule on the smaller count fails when the larger
count already falls short.  The fact node shows the step and the bound's
reason as its interpretation; a direct source, where there is one, is shown
before it.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy
from covkb.scenarios import scenarios

TODAY = dt.date(2025, 6, 1)
ENGINES = ("prolog", "asp")
WHY = ("a spontaneous abortion is a failed pregnancy, so there cannot be more consecutive "
       "spontaneous abortions than failed pregnancies")


@functools.cache
def _kb(policy: str, engine: str) -> KnowledgeBase:
    return KnowledgeBase(policy=policy, engine=engine, today=TODAY)


def _decide(policy: str, engine: str, request: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    try:
        return _kb(policy, engine).determine({"date_of_service": "2025-06-01", **request},
                                             version=version).to_dict()
    except CovkbError as err:
        return {"error": err.to_dict()}


def _fact_nodes(answer: dict[str, Any], fact: str) -> list[dict[str, Any]]:
    out, stack = [], [answer["explanation"]]
    while stack:
        n = stack.pop()
        if n.get("kind") == "fact" and n.get("id") == fact:
            out.append(n)
        stack.extend(n.get("children") or ())
    return out


def _only(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The fact's node (it is shown once per case, the same each time)."""
    assert nodes
    first = {k: v for k, v in nodes[0].items() if k != "children"}
    assert all({k: v for k, v in n.items() if k != "children"} == first for n in nodes)
    return first


@pytest.mark.parametrize("engine", ENGINES)
def test_two_consecutive_spontaneous_abortions_are_two_failed_pregnancies(engine: str) -> None:
    """Cigna 0284: recurrent pregnancy loss is 'two or more failed pregnancies'."""
    a = _decide("cigna_0284", engine, {"service": "nk_cell_test", "consecutive_spontaneous_abortions": 2})
    assert (a["outcome"], a["statement"], a["missing"]) == ("not_covered", "nk_cell_testing_not_covered", [])
    node = _only(_fact_nodes(a, "recurrent_pregnancy_loss"))
    assert node == {"kind": "fact", "id": "recurrent_pregnancy_loss", "value": "yes", "source": "number_bound",
                    "field": "consecutive_spontaneous_abortions", "number": 2, "rule": "at_least",
                    "threshold": 2, "bounds": "prior_pregnancy_losses", "section": node["section"],
                    "quote": node["quote"], "interpretation": WHY}
    assert "two or more failed pregnancies" in node["quote"]


@pytest.mark.parametrize("engine", ENGINES)
def test_one_failed_pregnancy_is_fewer_than_two_consecutive_spontaneous_abortions(engine: str) -> None:
    """Aetna 0348: recurrent pregnancy loss is '2 or more consecutive spontaneous abortions'."""
    a = _decide("aetna_0348", engine, {"service": "hysterosalpingography", "prior_pregnancy_losses": 1})
    assert (a["outcome"], a["missing"], a["possible_outcomes"]) == ("not_addressed", [], [])
    node = _only(_fact_nodes(a, "rpl_consecutive_spontaneous_abortions"))
    assert (node["value"], node["source"], node["field"], node["number"], node["bounds"], node["interpretation"]) == \
        ("no", "number_bound", "prior_pregnancy_losses", 1, "consecutive_spontaneous_abortions", WHY)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("policy,request_,fact,source,value", [
    # both counts given and agreeing: the direct source is shown
    ("cigna_0284", {"prior_pregnancy_losses": 2, "consecutive_spontaneous_abortions": 2},
     "recurrent_pregnancy_loss", "number", "yes"),
    ("aetna_0348", {"prior_pregnancy_losses": 1, "consecutive_spontaneous_abortions": 1},
     "rpl_consecutive_spontaneous_abortions", "number", "no"),
    # a bound that settles nothing is no source: no contradiction with the direct one
    ("cigna_0284", {"prior_pregnancy_losses": 3, "consecutive_spontaneous_abortions": 1},
     "recurrent_pregnancy_loss", "number", "yes"),
    ("aetna_0348", {"prior_pregnancy_losses": 3, "consecutive_spontaneous_abortions": 2},
     "rpl_consecutive_spontaneous_abortions", "number", "yes"),
    ("aetna_0348", {"prior_pregnancy_losses": 1, "consecutive_spontaneous_abortions": 0},
     "rpl_consecutive_spontaneous_abortions", "number", "no"),
])
def test_the_direct_source_is_shown_before_the_bound(engine: str, policy: str, request_: dict[str, Any],
                                                     fact: str, source: str, value: str) -> None:
    service = "nk_cell_test" if policy == "cigna_0284" else "hysterosalpingography"
    a = _decide(policy, engine, {"service": service, **request_})
    assert "error" not in a
    node = _only(_fact_nodes(a, fact))
    assert (node["source"], node["value"], node["field"]) == (source, value, node["field"])
    assert "bounds" not in node


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("policy,request_,missing", [
    ("cigna_0284", {"service": "nk_cell_test", "consecutive_spontaneous_abortions": 1}, ["recurrent_pregnancy_loss"]),
    ("aetna_0348", {"service": "hysterosalpingography", "prior_pregnancy_losses": 2},
     ["rpl_consecutive_spontaneous_abortions"]),
])
def test_a_bound_on_the_wrong_side_settles_nothing(engine: str, policy: str, request_: dict[str, Any],
                                                   missing: list[str]) -> None:
    a = _decide(policy, engine, request_)
    assert (a["outcome"], a["missing"]) == ("insufficient_information", missing)


@pytest.mark.parametrize("engine", ENGINES)
def test_counts_that_break_the_bound_are_still_refused(engine: str) -> None:
    a = _decide("cigna_0284", engine, {"service": "nk_cell_test", "prior_pregnancy_losses": 1,
                                        "consecutive_spontaneous_abortions": 2})
    assert "error" in a and "a spontaneous abortion is a failed pregnancy" in a["error"]["message"]


def _bound_variants(policy: str, version: str, at_most: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(scenario, the scenario with the rule's count replaced by the count that bounds it) for the
    scenarios that give a rule's count on the side a bound can reach (at_most of them, spread evenly)."""
    data = Policy(policy=policy).data(version)
    rules = [(r[1], r[2]) for name in ("number_at_least", "number_below") for r in data.rows(name)]
    swaps = {}
    for small, large, _ in data.vocabulary.bounds:
        for fd, t in rules:
            fd = getattr(fd, "name", fd)
            if fd == large:
                swaps[(large, t)] = small        # small = t reaches large >= t
            if fd == small:
                swaps[(small, t - 1)] = large    # large = t - 1 reaches small < t
    out = []
    for s in scenarios(data):
        for (fd, n), other in swaps.items():
            if s.get(fd) == n and other not in s:
                out.append((s, {**{k: v for k, v in s.items() if k != fd}, other: n}))
    return out[::max(1, len(out) // at_most)]


VERSIONS = [(p, v.id) for p in ("cigna_0284", "aetna_0348") for v in Policy(policy=p).versions]


@pytest.mark.slow
@pytest.mark.parametrize("policy,version", VERSIONS)
def test_a_count_read_through_its_bound_decides_as_the_count(policy: str, version: str) -> None:
    """The installed policies read each count by one threshold: a scenario whose rule's count is
    replaced by the count that bounds it decides alike, on both engines, which agree."""
    pairs = _bound_variants(policy, version, at_most=300)
    assert pairs
    keys = ("outcome", "statement", "possible_outcomes", "missing", "criteria_met", "error")
    for s, v in pairs:
        answers = [_decide(policy, e, v, version) for e in ENGINES]
        assert answers[0] == answers[1], v
        direct = _decide(policy, "prolog", s, version)
        assert {k: direct.get(k) for k in keys} == {k: answers[0].get(k) for k in keys}, (s, v)
