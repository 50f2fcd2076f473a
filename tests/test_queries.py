"""Every named query in queries/ gives its expected outcome, and together
the queries exercise every statement and every CPT code of the policy."""

from __future__ import annotations

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.queries import NamedQuery, load_queries

QUERIES = load_queries()


def run(kb: KnowledgeBase, q: NamedQuery) -> dict:
    try:
        return kb.determine(q.request, version=q.version_ref()).to_dict()
    except CovkbError as err:
        return {"error": err.to_dict()}


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_named_query_gives_expected_outcome(kb: KnowledgeBase, query: NamedQuery) -> None:
    assert query.check(run(kb, query)) == [], query.why


def test_every_statement_decides_some_named_query(kb: KnowledgeBase) -> None:
    decided = {run(kb, q).get("statement") for q in QUERIES}
    statements = set(kb.vocabulary.statements)
    assert statements - decided == set()


def test_every_listed_code_is_exercised_by_a_named_query(kb: KnowledgeBase) -> None:
    used = {q.request.get("cpt") for q in QUERIES}
    assert set(kb.vocabulary.codes) - used == set()


def test_every_outcome_of_the_vocabulary_is_reached(kb: KnowledgeBase) -> None:
    reached = {run(kb, q).get("outcome") for q in QUERIES}
    assert set(kb.vocabulary.outcomes) - reached == set()


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
