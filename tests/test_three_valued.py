"""Three-valued reasoning, checked against its definition.

An outcome is reported only when it is the outcome of every completion of
the unknown facts; otherwise the answer is insufficient_information and the
possible outcomes are exactly those of the completions.  Hypothesis draws
requests; each completion is asked of the same engine as a fully known
request.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covkb import InvalidRequest, KnowledgeBase
from covkb.facts import atom
from covkb.policy import Policy

_DATA = Policy().data(Policy().latest())
_GENERAL = {atom(r[1]) for r in _DATA.rows("finding_example") + _DATA.rows("finding_is_a")}
# Completions are written as requests, so only findings without more specific
# forms are drawn: a listed general finding leaves its specific forms open,
# and no request can say "general present, every specific form absent".
LEAF_FINDINGS = sorted(set(_DATA.vocabulary.findings) - _GENERAL)
SERVICES = sorted(_DATA.vocabulary.services)
LEAVES = {atom(g): sorted(atom(s) for s, g2 in _DATA.rows("service_is_a") if g2 == g) for _, g in _DATA.rows("service_is_a")}


@st.composite
def requests(draw):
    findings = draw(st.sets(st.sampled_from(LEAF_FINDINGS), max_size=3))
    unknown = draw(st.sets(st.sampled_from(sorted(set(LEAF_FINDINGS) - findings)), max_size=3))
    return {
        "date_of_service": "2025-06-01",
        "service": draw(st.sampled_from(SERVICES)),
        "pregnant": draw(st.sampled_from([True, False, None])),
        "prior_pregnancy_losses": draw(st.sampled_from([None, 0, 1, 2, 4])),
        "findings": sorted(findings),
        "unknown_findings": sorted(unknown),
        "unlisted_findings": "absent",  # completions are fully known requests: the closed reading
    }


def completions(req: dict):
    services = LEAVES.get(req["service"], [req["service"]])
    pregnant = [True, False] if req["pregnant"] is None else [req["pregnant"]]
    losses = [1, 2] if req["prior_pregnancy_losses"] is None else [req["prior_pregnancy_losses"]]
    open_ = req["unknown_findings"]
    for svc, preg, loss, present in itertools.product(
        services, pregnant, losses, itertools.product([True, False], repeat=len(open_))
    ):
        yield {**req, "service": svc, "pregnant": preg, "prior_pregnancy_losses": loss,
               "findings": sorted(req["findings"] + [f for f, p in zip(open_, present) if p]),
               "unknown_findings": []}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=requests())
def test_outcome_is_what_every_completion_agrees_on(kb: KnowledgeBase, req: dict) -> None:
    try:
        d = kb.determine(req)
    except InvalidRequest:
        return
    outcomes = {kb.determine(c).outcome for c in completions(req)}
    assert "insufficient_information" not in outcomes, "a completion is fully known"
    if d.outcome == "insufficient_information":
        assert len(outcomes) > 1 and set(d.possible_outcomes) == outcomes and d.missing
    else:
        assert outcomes == {d.outcome} and d.missing == () and d.possible_outcomes == ()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=requests(), extra=st.sets(st.sampled_from(sorted(_DATA.vocabulary.findings)), max_size=4))
def test_findings_outside_the_decision_key_do_not_change_the_answer(kb: KnowledgeBase, req: dict, extra: set) -> None:
    """Batch memoises by decision_key; that is sound only if the findings it
    drops cannot change any field of the answer."""
    more = {**req, "findings": sorted(set(req["findings"]) | (extra - set(req["unknown_findings"])))}
    try:
        same_key = kb.decision_key(req) == kb.decision_key(more)
        a, b = kb.determine(req), kb.determine(more)
    except InvalidRequest:
        return
    if same_key:
        assert a.comparable() == b.comparable()
