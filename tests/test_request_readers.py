"""The two readers of a request agree: the plain one (covkb.untrusted,
no pydantic, what `covkb determine` uses) and the Request model.

Both are made from one declaration, the rules of covkb.request_rules (the
model runs them as its validators), so they agree by construction; these
tests check the construction: whatever a request holds, reading it plainly
gives the model's values, or the model's own error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covkb.errors import CovkbError
from covkb.policy import Policy, Vocabulary
from covkb.request import parse_request
from covkb.limits import _shown, check_untrusted
from covkb.untrusted import PlainRequest, read_request

TEST_POLICY = Path(__file__).parent / "policies" / "example_pap"


def vocabulary(ref: Path | None) -> Vocabulary:
    p = Policy(policy=ref)
    return p.data(p.latest()).vocabulary


VOCABULARIES = {"the installed policy": vocabulary(None), "the example policy": vocabulary(TEST_POLICY)}


def read(reader: Any, data: Any, vocab: Vocabulary) -> tuple[Any, ...]:
    """What a caller gets: the values read (the engines' view, the date and
    every field), or the error's kind and words."""
    try:
        r = reader(data, vocab)
    except CovkbError as err:
        return ("error", type(err).__name__, err.message)
    names = [*vocab.fields, *vocab.qualifiers, "service", "cpt", "findings", "unknown_findings", "absent_findings",
             "unlisted_findings"]
    return ("ok", r.engine_dict(), r.date_of_service, {n: r.get(n) for n in names})


def _odd_values() -> st.SearchStrategy[Any]:
    """Values a careless or hostile user sends: wrong types, near misses, limits."""
    text = st.text(st.characters(codec="utf-8"), max_size=12)
    return st.one_of(
        st.none(), st.booleans(), st.integers(-3, 10**6 + 2), st.sampled_from([10**15, -(10**15), 2.0, float("nan")]),
        text, st.sampled_from(["", " ", "N96", "n96", " n96 ", "O26.2\u0131", "5932\u0131", "59325 ", "59-325",
                                "2025-06-01", "2025-02-30", "2025-6-1", "x", "Yes", "true", "none", "\ufeffid",
                                "cone_biopsy\n", "e" * 300, "A\u0301"]),
        st.lists(text, max_size=3), st.dictionaries(text, text, max_size=2), st.tuples(text),
    )


def requests(vocab: Vocabulary) -> st.SearchStrategy[dict[str, Any]]:
    """Requests mixing values the vocabulary allows with odd ones, and unknown keys."""
    services, findings = sorted(vocab.services), sorted(vocab.findings)
    codes = sorted(vocab.codes) or ["99213"]
    good: dict[str, st.SearchStrategy[Any]] = {
        "date_of_service": st.sampled_from(["2025-06-01", "2024-05-01", "2026-01-31"]),
        "service": st.sampled_from(services),
        "cpt": st.sampled_from(codes + [c.lower() for c in codes] + [f" {codes[0]} "]),
        "findings": st.lists(st.sampled_from(findings), max_size=4),
        "unknown_findings": st.lists(st.sampled_from(findings), max_size=2),
        "absent_findings": st.lists(st.sampled_from(findings), max_size=2),
        "unlisted_findings": st.sampled_from(["unknown", "absent", None, "Absent"]),
    }
    for name, f in vocab.fields.items():
        if f.kind == "boolean":
            good[name] = st.booleans()
        elif f.kind == "choice":
            good[name] = st.sampled_from(list(f.values) or ["x"])
        elif f.numeric:
            lo = f.minimum if f.minimum is not None else 0
            hi = f.maximum if f.maximum is not None else 10**6
            good[name] = st.integers(lo - 1, min(hi + 1, lo + 40))
        else:
            good[name] = st.lists(st.sampled_from(["N96", "n96", "O26.20", "O2620", "U07.1", "Z3A.01", "E11.9"]),
                                  max_size=3)
    for q, values in ((q, vocab.qualifier_values.get(q, ())) for q in vocab.qualifiers):
        good[q] = st.sampled_from(list(values) + ["none", "not_a_value"])
    keys = sorted(good)
    base = st.fixed_dictionaries({k: good[k] for k in ("service", "cpt")}, optional={k: good[k] for k in keys if k not in ("service", "cpt")})
    spoil = st.one_of(st.just({}), st.just({}), st.builds(lambda k, v: {k: v}, st.sampled_from(keys), _odd_values()),
                      st.builds(lambda k, v: {k: v}, st.sampled_from(["losses", "Service", "extra", "get"]),
                                _odd_values()))
    drop = st.sets(st.sampled_from(["service", "cpt", "unknown_findings", "absent_findings", "unlisted_findings"]),
                   max_size=5)
    return st.builds(lambda a, b, d: {k: v for k, v in {**a, **b}.items() if k not in d}, base, spoil, drop)


@pytest.mark.parametrize("name", list(VOCABULARIES))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.slow
def test_the_plain_reader_gives_the_models_values_or_its_error(name: str, data: st.DataObject) -> None:
    vocab = VOCABULARIES[name]
    req = data.draw(requests(vocab))
    assert read(read_request, req, vocab) == read(parse_request, req, vocab)


PLAIN = [
    ("a plain request of codes, counts and findings", {"cpt": "59325", "prior_pregnancy_losses": 3,
                                                       "findings": ["cone_biopsy"], "date_of_service": "2025-06-01"}),
    ("a lower-case CPT code and a diagnosis written without its dot",
     {"cpt": " 59325", "diagnoses": ["n96", "O2620", "O26.20"]}),
    ("repeated findings are read once", {"service": "nk_cell_test", "findings": ["cone_biopsy", "cone_biopsy"]}),
    ("a qualifier value no code names is still an id", {"cpt": "83520", "analyte": "none"}),
    ("a date given as a date object (from Python)", {"cpt": "59325", "date_of_service": dt.date(2025, 6, 1)}),
]


@pytest.mark.parametrize("req", [r for _, r in PLAIN], ids=[n for n, _ in PLAIN])
def test_a_plainly_valid_request_is_read_without_the_model(req: dict[str, Any]) -> None:
    vocab = VOCABULARIES["the installed policy"]
    plain = read_request(req, vocab)
    assert isinstance(plain, PlainRequest) and read_request(plain, vocab) is plain
    assert read(read_request, req, vocab) == read(parse_request, req, vocab)
    assert read(read_request, plain.to_json_dict(), vocab) == read(parse_request, req, vocab)


LEFT_TO_THE_MODEL = [
    ("a count given as a boolean", {"cpt": "59325", "prior_pregnancy_losses": True}),
    ("a count given as text", {"cpt": "59325", "prior_pregnancy_losses": "3"}),
    ("an unknown field", {"cpt": "59325", "losses": 3}),
    ("no service and no code", {"prior_pregnancy_losses": 3}),
    ("a finding both present and unknown", {"cpt": "59325", "findings": ["cone_biopsy"],
                                             "unknown_findings": ["cone_biopsy"]}),
    ("a malformed diagnosis", {"cpt": "59325", "diagnoses": ["N96;halt"]}),
    ("a finding both present and absent", {"cpt": "59325", "findings": ["cone_biopsy"],
                                            "absent_findings": ["cone_biopsy"]}),
    ("a specific form present under a general one absent", {"cpt": "59325", "findings": ["cone_biopsy"],
                                                            "absent_findings": ["prior_cervical_trauma"]}),
    ("a reading that is neither unknown nor absent", {"cpt": "59325", "unlisted_findings": "closed"}),
]


@pytest.mark.parametrize("req", [r for _, r in LEFT_TO_THE_MODEL], ids=[n for n, _ in LEFT_TO_THE_MODEL])
def test_anything_not_plainly_valid_is_left_to_the_model(req: dict[str, Any]) -> None:
    vocab = VOCABULARIES["the installed policy"]
    assert read(read_request, req, vocab) == read(parse_request, req, vocab)
    assert read(read_request, req, vocab)[0] == "error" or not isinstance(read_request(req, vocab), PlainRequest)


def _text_check_by_category(text: str) -> str | None:
    """The text rule as first written: the first character of category C,
    then NFC (the reference the ASCII shortcut of check_untrusted must equal)."""
    import unicodedata

    bad = next((c for c in text if unicodedata.category(c)[0] == "C"), None)
    if bad is not None:
        return f"{_shown(text)} contains the control character U+{ord(bad):04X}"
    return None if unicodedata.is_normalized("NFC", text) else f"{_shown(text)} is not in Unicode NFC form"


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=20) | st.text(st.characters(max_codepoint=127), max_size=20))
def test_a_text_is_refused_for_control_characters_and_nfc_as_by_unicode_category(text: str) -> None:
    try:
        check_untrusted(text)
        got = None
    except CovkbError as err:
        got = err.message
    assert got == _text_check_by_category(text)
