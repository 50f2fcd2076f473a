"""Where several errors apply to one request, both engines return every one
and the one reported is chosen once, by kb/derivation.pl's
error_precedence/2: the least rank, then the least arguments."""

from __future__ import annotations

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.derivation import contract

DAY = "2025-06-01"
CONTRADICTIONS = {"pregnant": True, "prior_pregnancy_losses": 1, "diagnoses": ["N96"]}

# (what the request does wrong, the request, the words of the error reported)
CASES = [
    ("two facts contradicted: the least fact by id is reported",
     {"cpt": "57700", **CONTRADICTIONS},
     "the request's pregnant means pregnant = yes, but cpt 57700 means pregnant = no"),
    ("a code that does not report the service comes before a contradiction",
     {"cpt": "57700", "service": "nk_cell_test", **CONTRADICTIONS},
     "cpt 57700 does not report service nk_cell_test"),
    ("no service comes before a contradiction",
     CONTRADICTIONS,
     "a request needs a service or a cpt code"),
]


@pytest.fixture(scope="module", params=["prolog", "asp"])
def engine_kb(request: pytest.FixtureRequest) -> KnowledgeBase:
    return KnowledgeBase(engine=request.param)


@pytest.mark.parametrize(("wrong", "request_", "words"), CASES, ids=[c[0] for c in CASES])
def test_the_error_reported_is_the_declared_first(engine_kb: KnowledgeBase, wrong: str,
                                                  request_: dict, words: str) -> None:
    with pytest.raises(CovkbError) as exc:
        engine_kb.determine({"date_of_service": DAY, **request_})
    assert exc.value.code == "invalid_request"
    assert words in exc.value.message


RANKED = [
    ("contradiction", {"fact": "b"}), ("policy_conflict", {"statements": ["a"]}),
    ("contradiction", {"fact": "a"}), ("code_service", {"code": "1", "service": "x"}),
]


def test_rank_first_then_arguments() -> None:
    errors = [("invalid_request" if k != "policy_conflict" else k, k, a) for k, a in RANKED]
    assert contract().reported(errors)[1] == "code_service"
    assert contract().reported(errors[:3])[2] == {"fact": "a"}
    assert contract().reported(errors[1:2])[1] == "policy_conflict"


def test_an_error_with_no_declared_rank_is_refused() -> None:
    with pytest.raises(ValueError, match="no error_precedence"):
        contract().reported([("invalid_request", "made_up", {})])
