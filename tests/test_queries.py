"""Every named query in queries/ gives its expected outcome, and together
the queries exercise every statement and every CPT code of the policy."""

from __future__ import annotations

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.queries import NamedQuery, load_queries

QUERIES = load_queries()


def run(kb: KnowledgeBase, q: NamedQuery) -> dict:
    try:
        return kb.determine(q.request).to_dict()
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
