"""Questionnaires generated from the policy (covkb.questionnaire): they ask
exactly what can still change the decision, and answering them decides.

* every named query that is ``insufficient_information`` (both engines): the
  questionnaire asks exactly the request fields and findings that settle its
  ``missing`` facts (no more), and every way of answering it leads to the
  determination covkb gives the completed request, decided; no item asked has
  every answer leading to the same outcome;
* the property over the scenarios (``exhaustive``: every scenario of every
  version, in shards like tests/test_engine_agreement.py; ``make test`` a
  sample, marked slow): a questionnaire made from the scenario's subject
  alone (its service, code and qualifiers), answered with the scenario's
  facts, gives the scenario's determination.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.determination import three_valued
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.questionnaire import Item, Plan, canonical_url, next_item, plan, questionnaire_id, request_of
from covkb.scenarios import scenarios, size

ENGINES = ("prolog", "asp")
TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")  # counts with several thresholds, code lists
POLICIES = [*(str(p) for p in policy_folders()), TEST_POLICY]
TARGETS = [(p, v.id) for p in POLICIES for v in Policy(policy=p).versions]
SHARD = 2_000  # scenarios per exhaustive test
SAMPLE = int(os.environ.get("COVKB_DTR_SAMPLE", "100"))


@functools.cache
def _kb(policy: str, engine: str) -> KnowledgeBase:
    return KnowledgeBase(engine=engine, policy=policy)


def _undecided() -> list[Any]:
    out = []
    for p in POLICIES:
        for q in load_queries(Policy(policy=p).queries_dir):
            if q.expect.get("outcome") == "insufficient_information":
                out += [pytest.param(p, q, e, id=f"{Path(p).name}-{q.name}-{e}") for e in ENGINES]
    return out


def paths(p: Plan, answers: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every way of answering the plan: the first enabled, unanswered item
    answered each way in turn, until none is enabled."""
    answers = answers or {}
    item = next((i for i in p.items if i.link_id not in answers and i.enabled(answers)), None)
    if item is None:
        return [answers]
    return [a for o in item.options for a in paths(p, {**answers, item.link_id: o.value})]


def _asked_facts(p: Plan) -> set[str]:
    return {f for i in p.items for f in i.facts}


@pytest.mark.parametrize(("policy", "query", "engine"), _undecided())
def test_the_questionnaire_asks_exactly_the_missing_facts(policy: str, query: Any, engine: str) -> None:
    kb = _kb(policy, engine)
    det = kb.determine(query.request, version=query.version_ref())
    p = plan(kb, query.request, query.version_ref())
    assert _asked_facts(p) | set(p.unaskable) == set(det.missing)
    assert not _asked_facts(p) & set(p.unaskable)
    # the only fact a request cannot state: that an open-ended code reports another service
    assert set(p.unaskable) <= {"service"} and (not p.unaskable or p.request.get("cpt"))
    assert len({i.link_id for i in p.items}) == len(p.items)
    assert (p.items or p.unaskable) and not (p.items and p.items[0].enable)  # the first question is always asked


@pytest.mark.slow  # every answer set of every undecided query: make test, not test-fast
@pytest.mark.parametrize(("policy", "query", "engine"), _undecided())
def test_answering_the_questionnaire_decides(policy: str, query: Any, engine: str) -> None:
    kb = _kb(policy, engine)
    p = plan(kb, query.request, query.version_ref())
    outcomes: dict[tuple[tuple[str, Any], ...], str] = {}
    for answers in paths(p):
        det = kb.determine(request_of(p, answers), version=query.version_ref())
        assert det.outcome != "insufficient_information" or p.unaskable, (answers, det.missing)
        assert next_item(kb, query.request, answers, query.version_ref()) is None
        outcomes[tuple(sorted(answers.items()))] = det.outcome
    assert set(outcomes.values()) <= set(p.possible_outcomes) | ({"insufficient_information"} if p.unaskable else set())
    _no_item_without_effect(p, outcomes)


def _no_item_without_effect(p: Plan, outcomes: dict[tuple[tuple[str, Any], ...], str]) -> None:
    """Wherever an item is asked, two of its answers lead to different outcomes."""
    for item in p.items:
        by_before: dict[tuple[Any, ...], dict[Any, set[str]]] = {}
        for key, outcome in outcomes.items():
            answers = dict(key)
            if item.link_id not in answers:
                continue
            before = tuple((k, v) for k, v in key if k != item.link_id and _earlier(p, k, item))
            by_before.setdefault(before, {}).setdefault(answers[item.link_id], set()).add(outcome)
        for before, leads in by_before.items():
            assert len(set().union(*leads.values())) > 1, (item.link_id, before, leads)


def _earlier(p: Plan, link_id: str, item: Item) -> bool:
    ids = [i.link_id for i in p.items]
    return ids.index(link_id) < ids.index(item.link_id)


def test_the_canonical_url_is_stable_and_names_what_was_known() -> None:
    kb = _kb(POLICIES[0], "prolog")
    query = next(q for q in load_queries(Policy(policy=POLICIES[0]).queries_dir)
                 if q.expect.get("outcome") == "insufficient_information")
    a, b = plan(kb, query.request), plan(kb, dict(reversed(list(query.request.items()))))
    assert canonical_url("http://x/", a) == canonical_url("http://x", b) == f"http://x/fhir/Questionnaire/{questionnaire_id(a)}"
    more = dict(query.request, date_of_service="2025-06-02")
    assert plan(kb, more).known_digest != a.known_digest
    assert len(questionnaire_id(a)) <= 64


def test_a_decided_request_needs_no_questionnaire() -> None:
    kb = _kb(POLICIES[0], "prolog")
    query = next(q for q in load_queries(Policy(policy=POLICIES[0]).queries_dir)
                 if q.expect.get("outcome") == "medically_necessary")
    p = plan(kb, query.request, query.version_ref())
    assert p.items == () and p.outcome == "medically_necessary"
    assert next_item(kb, query.request, {}, query.version_ref()) is None


# -- the property over the scenarios ----------------------------------------------------------

SUBJECT = ("service", "cpt", "date_of_service")


def subject_of(kb: KnowledgeBase, scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario's subject alone: its service, code and qualifiers; every fact left unknown."""
    quals = set(kb.vocabulary.qualifiers)
    return {k: v for k, v in scenario.items() if k in SUBJECT or k in quals}


def scenario_answers(cases: list[Any], scenario: dict[str, Any], p: Plan) -> dict[str, Any]:
    """The scenario's facts as answers: each enabled item answered with the
    value the scenario's derivation (its cases) gives its facts (unanswered
    where the scenario leaves them unknown)."""
    open_ = {v for c in cases for v, _, _ in c.assign}
    told: dict[str, Any] = {}
    for c in cases:
        for n in _walk(c.proof):
            if n.get("kind") == "service" and n.get("source") != "assumed" and n.get("id") != "other":
                told.setdefault("service", n["id"])
            if n.get("kind") == "fact" and n.get("value") != "unknown" and n.get("source") != "assumed":
                told.setdefault(n["id"], n["value"])
    answers: dict[str, Any] = {}
    for item in p.items:
        if not item.enabled(answers):
            continue
        if item.source == "qualifier":
            value = scenario.get(item.link_id)
            known = {o.value for o in item.options}
            answers[item.link_id] = value if value in known else "other" if value is not None else None
        elif item.source == "field" and item.link_id in scenario:  # as the scenario states it
            answers[item.link_id] = scenario[item.link_id]
        elif item.source == "finding" and item.link_id in scenario.get("findings", ()):
            answers[item.link_id] = True
        elif not any(f in open_ for f in item.facts) and all(f in told for f in item.facts):
            answers[item.link_id] = _option_for(item, {f: told[f] for f in item.facts})
        answers = {k: v for k, v in answers.items() if v is not None}
    return answers


def _option_for(item: Item, values: dict[str, Any]) -> Any:
    return item.option_for(values)


def _walk(node: dict[str, Any]):
    yield node
    for c in node.get("children", ()):
        yield from _walk(c)


def property_failures(policy: str, version: str, requests: list[dict[str, Any]], engine: str = "prolog") -> list[str]:
    kb = _kb(policy, engine)
    failures = []
    for scenario in requests:
        try:
            cases, _, _, _ = kb.cases(scenario, True, version)  # its determination, and its derivation
        except CovkbError:
            continue
        want, _ = three_valued(c.outcome for c in cases)
        subject = tuple(sorted(subject_of(kb, scenario).items()))
        p = _subject_plan(policy, engine, version, subject)
        answers = scenario_answers(cases, scenario, p)
        got = _answered(policy, engine, version, subject, tuple(sorted(answers.items())))
        if got != want:
            failures.append(f"{scenario} answered {answers}: {got}, the scenario {want}")
    return failures


@functools.cache
def _answered(policy: str, engine: str, version: str, subject: tuple[tuple[str, Any], ...],
              answers: tuple[tuple[str, Any], ...]) -> str:
    """The outcome of a subject's questionnaire answered so (once: many scenarios answer it alike)."""
    p = _subject_plan(policy, engine, version, subject)
    return _kb(policy, engine).determine(request_of(p, dict(answers)), version=version, explain=False).outcome


@functools.cache
def _subject_plan(policy: str, engine: str, version: str, subject: tuple[tuple[str, Any], ...]) -> Plan:
    """The plan of a subject (once), checked: every way of answering it decides, as the plan's
    cases foresaw, and no item asked has every answer leading to the same outcome."""
    kb = _kb(policy, engine)
    p = plan(kb, dict(subject), version)
    outcomes = {}
    for answers in paths(p) if p.items else ():
        det = kb.determine(request_of(p, answers), version=version, explain=False)
        # what no answer can state stays open, and nothing else
        assert det.missing == () or set(det.missing) <= set(p.unaskable), (subject, answers, det.missing)
        outcomes[tuple(sorted(answers.items()))] = det.outcome
    if not p.unaskable:  # (with a fact left open the outcomes cannot show what an item changes)
        _no_item_without_effect(p, outcomes)
    return p


def _sample(policy: str, version: str, n: int, seed: int) -> list[dict[str, Any]]:
    data = Policy(policy=policy).data(version)
    total = size(data)
    keep = set(random.Random(seed).sample(range(total), min(n, total)))
    return [s for i, s in enumerate(scenarios(data)) if i in keep]


@pytest.mark.slow
@pytest.mark.parametrize(("policy", "version"), TARGETS, ids=[f"{Path(p).name}-{v}" for p, v in TARGETS])
def test_answering_with_a_scenarios_facts_gives_its_determination_sample(policy: str, version: str) -> None:
    seed = int(os.environ.get("COVKB_SAMPLE_SEED", "23"))
    failures = property_failures(policy, version, _sample(policy, version, SAMPLE, seed))
    assert not failures, f"seed {seed}: " + "\n".join(failures[:10])


def _shards() -> list[Any]:
    out = []
    for p, v in TARGETS:
        n = size(Policy(policy=p).data(v))
        out += [pytest.param(p, v, k, id=f"{Path(p).name}-{v}-{k}") for k in range(math.ceil(n / SHARD))]
    return out


@pytest.mark.exhaustive
@pytest.mark.parametrize(("policy", "version", "shard"), _shards())
def test_answering_with_a_scenarios_facts_gives_its_determination(policy: str, version: str, shard: int) -> None:
    data = Policy(policy=policy).data(version)
    part = list(itertools.islice(scenarios(data), shard * SHARD, (shard + 1) * SHARD))
    failures = property_failures(policy, version, part)
    assert not failures, "\n".join(failures[:10])
