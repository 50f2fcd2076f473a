"""The service's answer path (``KnowledgeBase.determine_dict``) writes the
derivation straight from the engine's cases, without the typed tree; its
JSON must be ``determine(...).to_dict()``'s, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from covkb import CovkbError, KnowledgeBase
from covkb.determination import Node
from covkb.queries import load_queries

QUERIES = [q for q in load_queries() if not q.version]


@pytest.fixture(scope="module", params=["prolog", "asp"])
def engine_kb(request) -> KnowledgeBase:
    return KnowledgeBase(engine=request.param)


@pytest.mark.parametrize("explain", [True, False])
def test_every_named_query_gets_the_same_json_with_or_without_the_typed_tree(engine_kb: KnowledgeBase,
                                                                              explain: bool) -> None:
    compared = 0
    for q in QUERIES:
        try:
            typed = engine_kb.determine(q.request, explain=explain).to_dict(explanation=explain)
        except CovkbError:
            continue
        direct = engine_kb.determine_dict(q.request, explain=explain)
        assert json.dumps(direct) == json.dumps(typed), q.name
        compared += 1
    assert compared > 40


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.lists(st.tuples(st.text(max_size=3), inner).map(list), max_size=2)), max_leaves=8)
_trees = st.recursive(
    st.fixed_dictionaries({"kind": st.sampled_from(["a", "b"])}, optional={"x": _values, "quote": st.text(max_size=5)}),
    lambda kids: st.fixed_dictionaries({"kind": st.sampled_from(["c", "d"]), "children": st.lists(kids, max_size=3)},
                                       optional={"z": _values, "a": _values}),
    max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_a_derivation_written_in_one_pass_is_the_tree_written_out(tree: dict) -> None:
    assert json.dumps(Node.normalised(tree)) == json.dumps(Node.from_dict(tree).to_dict())
