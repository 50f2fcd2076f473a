"""kb/derivation.pl is the contract between the engines and the rest of
covkb: every node either engine builds is of a declared kind, with declared
attributes of declared types.  KnowledgeBase checks each case against it
when COVKB_CHECK_CONTRACT is set; these tests show the check passes on every
named query of every policy and catches each kind of break."""

from __future__ import annotations

from pathlib import Path

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.derivation import contract
from covkb.installed import policy_folders
from covkb.policy import Policy
from covkb.queries import load_queries

TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")
POLICIES = [*(str(p) for p in policy_folders()), TEST_POLICY]
OUTCOMES = Policy().data(Policy().latest()).outcomes


@pytest.mark.parametrize("engine", ["prolog", "asp"])
@pytest.mark.parametrize("policy_ref", POLICIES, ids=[Path(p).name for p in POLICIES])
def test_every_named_query_keeps_the_contract(monkeypatch, engine: str, policy_ref: str) -> None:
    monkeypatch.setenv("COVKB_CHECK_CONTRACT", "1")
    kb = KnowledgeBase(engine=engine, policy=policy_ref)
    kinds = set()
    for q in load_queries(kb.policy.queries_dir):
        try:
            det = kb.determine(q.request, version=q.version_ref())
        except CovkbError as exc:
            assert exc.code != "engine", exc.message  # an engine error here is a broken contract
            continue
        kinds |= {n.kind for n in det.explanation.walk()}
    assert len(kinds) >= 8


STATEMENT = {"kind": "statement", "id": "s", "section": "x", "quotes": ["q"], "decides": "medically_necessary",
             "applies": True, "outcome": "medically_necessary", "criteria_met": [], "referral": None,
             "interpretation": None, "children": []}


@pytest.mark.parametrize("outcome, proof, found", [
    ("medically_necessary", STATEMENT, None),
    ("granted", STATEMENT, "case outcome 'granted' is not declared"),
    ("medically_necessary", {**STATEMENT, "kind": "rule"}, "node kind 'rule' is not declared"),
    ("medically_necessary", {**STATEMENT, "weight": 1}, "statement has no attribute 'weight'"),
    ("medically_necessary", {k: v for k, v in STATEMENT.items() if k != "applies"}, "statement lacks 'applies'"),
    ("medically_necessary", {**STATEMENT, "applies": "yes"}, "statement.applies = 'yes' is not a bool"),
    ("medically_necessary", {**STATEMENT, "quotes": "q"}, "statement.quotes = 'q' is not a list of text"),
    ("medically_necessary", {**STATEMENT, "id": None}, "statement.id = None is not a id"),
    ("medically_necessary", {**STATEMENT, "children": [{"kind": "fact", "id": "f", "value": "yes",
                                                        "source": "rumour", "children": []}]},
     "proof/0: fact.source = 'rumour' is not a id"),
])
def test_the_contract_names_each_break(outcome: str, proof: dict, found: str | None) -> None:
    got = contract().violations(outcome, proof, OUTCOMES)
    assert (got == []) if found is None else any(found in g for g in got), got


def test_every_declared_kind_is_drawn_by_the_text_renderer() -> None:
    from covkb.determination import Node
    from covkb.render import label

    for kind in contract().kinds.values():
        attrs = {a.name: ("x" if a.type in ("id", "text") else [] if a.type in ("list", "assumptions") else True
                     if a.type == "bool" else 1) for a in kind.attributes.values()}
        assert label(Node.from_dict({"kind": kind.name, **attrs, "children": []}))


@pytest.mark.parametrize("atom, found", [
    (("shown", "s", True, "medically_necessary"), None),
    (("settled", "f", "yes", ("field", "x")), None),
    (("settled", "f", "no", "closed_world"), None),
    (["settled", "f", 3, ["number", "x", "at_least", 2, 3]], None),  # as evaluator.pl sends it (JSON)
    (("verdict", "s"), "trace atom"),
    (("holds", "s"), "trace atom"),
    (("settled", "f", "yes", ("rumour", "x")), "trace source"),
    (("settled", "f", "yes", ("field",)), "trace source"),
    (("settled", "f", "yes", "rumour"), "trace source"),
])
def test_the_contract_names_each_break_of_a_trace(atom, found: str | None) -> None:
    """kb/derivation.pl declares the trace both engines return (trace_atom/3, trace_source/2)."""
    got = contract().trace_violations([atom])
    assert (got == []) if found is None else any(found in g for g in got), got
