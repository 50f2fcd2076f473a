"""Every named query of every installed policy (queries/<policy>/) gives its
expected outcome, and together each policy's queries exercise every
statement and every CPT code of its latest version; all of them together
reach every outcome of the vocabulary."""

from __future__ import annotations

import functools

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import policy_folders
from covkb.queries import NamedQuery, load_queries

POLICIES = [p.name for p in policy_folders()]
QUERIES = [(p, q) for p in POLICIES for q in load_queries(KnowledgeBase(policy=p).policy.queries_dir)]


@functools.cache
def _kb(policy: str) -> KnowledgeBase:
    return KnowledgeBase(policy=policy)


def run(q: NamedQuery, policy: str) -> dict:
    try:
        return _kb(policy).determine(q.request, version=q.version_ref()).to_dict()
    except CovkbError as err:
        return {"error": err.to_dict()}


@pytest.mark.parametrize("policy,query", QUERIES, ids=[f"{p}:{q.name}" for p, q in QUERIES])
def test_named_query_gives_expected_outcome(policy: str, query: NamedQuery) -> None:
    assert query.check(run(query, policy)) == [], query.why


@pytest.mark.parametrize("policy", POLICIES)
def test_every_statement_decides_some_named_query(policy: str) -> None:
    decided = {run(q, policy).get("statement") for p, q in QUERIES if p == policy}
    assert set(_kb(policy).vocabulary.statements) - decided == set()


@pytest.mark.parametrize("policy", POLICIES)
def test_every_listed_code_is_exercised_by_a_named_query(policy: str) -> None:
    used = {q.request.get("cpt") for p, q in QUERIES if p == policy}
    assert set(_kb(policy).vocabulary.codes) - used == set()


def test_every_outcome_of_the_vocabulary_is_reached() -> None:
    reached = {run(q, p).get("outcome") for p, q in QUERIES}
    assert set(_kb(POLICIES[0]).vocabulary.outcomes) - reached == set()


def test_a_code_resolved_through_its_coding_note_cites_the_note(kb: KnowledgeBase) -> None:
    """58578 counts only 'when used to represent' transabdominal cerclage (its † note)."""
    d = kb.determine({"cpt": "58578", "service": "transabdominal_cerclage", "pregnant": True,
                      "prior_pregnancy_losses": 2, "findings": ["cone_biopsy"], "date_of_service": "2025-06-01"})
    note = "When used to represent laparoscopic approach for transabdominal cerclage, during pregnancy or for non-pregnant uterus."
    assert note in [c.quote for c in d.citations]


def test_a_code_the_table_does_not_list_cites_the_coding_note_and_the_claims_rule(kb: KnowledgeBase) -> None:
    d = kb.determine({"cpt": "86356", "service": "nk_cell_test", "prior_pregnancy_losses": 2,
                      "date_of_service": "2025-06-01"}).to_dict()
    quotes = [c["quote"] for c in d["citations"]]
    assert any(q.startswith("This list of codes may not be all-inclusive") for q in quotes)
    assert any(q.startswith("Claims submitted for services that are not accompanied by covered code(s)") for q in quotes)
    assert [n["code"] for n in d["notices"]] == ["86356", "86356"]


def test_the_cut_aetna_item_is_cited_by_all_the_copy_has_of_it() -> None:
    """Item 2.5 used to be cited only by its cut-off words '(as a biomarker for r', not by its name."""
    det = _kb("aetna-0348").determine({"date_of_service": "2025-06-01", "service": "iti_h4_test",
                                       "consecutive_spontaneous_abortions": 2})
    assert det.outcome == "unknown"
    quotes = [c.quote for c in det.citations]
    assert "Inter-α trypsin inhibitor-heavy chain 4 (ITI-H4) (as a biomarker for r" in quotes
    assert "(as a biomarker for r" not in quotes
