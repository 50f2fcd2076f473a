"""A batch line read in one pass equals the reference reading, errors included.

Every request is read by ``covkb.untrusted.read_planned``: each field's
value checked (``check_untrusted``) and read by its rule once per distinct
value, remembered per vocabulary (a batch's lines repeat their values, not
their lines).  The reference is the reading without the plan:
``check_untrusted`` over the whole request, then ``read_plain`` or the
Request model.  These are
differential tests, as Cedar checks its engine against its reference: random
and hostile lines through both, the same value or the same error; each
minimised failure is kept in tests/data/reading_corpus.jsonl, which runs
every time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covkb.errors import CovkbError
from covkb.limits import check_untrusted, request_json
from covkb.request import parse_request
from covkb.untrusted import _layout, read_plain, read_request
from test_request_readers import VOCABULARIES, _odd_values, requests

CORPUS = Path(__file__).parent / "data" / "reading_corpus.jsonl"


def reference(text: str, vocab: Any) -> Any:
    """The reading before the plan: request_json, check_untrusted, read_plain or the model."""
    data = request_json(text)
    layout = _layout(vocab)
    if layout is not None:
        check_untrusted(data)
        plain = read_plain(data, vocab, layout)
        if plain is not None:
            return plain
    return parse_request(data, vocab)


def planned(text: str, vocab: Any) -> Any:
    return read_request(request_json(text), vocab)


def outcome(reader: Any, text: str, vocab: Any) -> tuple[Any, ...]:
    """The values read (the engines' view, the date, the unlisted reading), or the error's kind and words."""
    try:
        r = reader(text, vocab)
    except CovkbError as err:
        return ("error", type(err).__name__, err.code, err.message)
    return ("ok", r.engine_dict(), r.date_of_service, r.to_json_dict())


def _hostile(text: str, draw: Any) -> str:
    """A line as a careless or hostile writer leaves it."""
    how = draw(st.sampled_from(["as is", "as is", "dup", "nan", "big", "float", "bom", "cut", "nest", "array",
                                "space", "inf", "neg"]))
    body = text[1:-1]
    return {
        "as is": text,
        "dup": text[:-1] + (',' if body else '') + (body.split(",")[0] if body else '"a":1') + "}",
        "nan": text[:-1] + (',' if body else '') + '"prior_pregnancy_losses":NaN}',
        "big": text[:-1] + (',' if body else '') + '"prior_pregnancy_losses":' + "9" * draw(st.integers(14, 17)) + "}",
        "float": text[:-1] + (',' if body else '') + '"prior_pregnancy_losses":2.0}',
        "bom": "\ufeff" + text,
        "cut": text[: draw(st.integers(0, max(len(text) - 1, 0)))],
        "nest": text[:-1] + (',' if body else '') + '"findings":{"a":{"b":[1,{"c":2}]}}}',
        "array": "[" + text + "]",
        "space": "  " + text + "\t ",
        "inf": text[:-1] + (',' if body else '') + '"prior_pregnancy_losses":-Infinity}',
        "neg": text[:-1] + (',' if body else '') + '"prior_pregnancy_losses":-' + "1" * draw(st.integers(14, 16)) + "}",
    }[how]


@st.composite
def lines(draw: Any, vocab: Any) -> str:
    req = draw(requests(vocab) | st.dictionaries(st.text(max_size=6), _odd_values(), max_size=4))
    return _hostile(json.dumps(req, ensure_ascii=draw(st.booleans()), default=str), draw)


@pytest.mark.parametrize("name", list(VOCABULARIES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_line_read_in_one_pass_equals_the_reference(name: str, data: st.DataObject) -> None:
    vocab = VOCABULARIES[name]
    text = data.draw(lines(vocab))
    # twice: the second reading takes every value from the plan's memo
    assert outcome(planned, text, vocab) == outcome(reference, text, vocab)
    assert outcome(planned, text, vocab) == outcome(reference, text, vocab)


@pytest.mark.exhaustive
@pytest.mark.parametrize("name", list(VOCABULARIES))
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_many_lines_read_in_one_pass_equal_the_reference(name: str, data: st.DataObject) -> None:
    vocab = VOCABULARIES[name]
    text = data.draw(lines(vocab))
    assert outcome(planned, text, vocab) == outcome(reference, text, vocab)


def _corpus() -> list[str]:
    return [json.loads(x)["line"] for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.mark.parametrize("name", list(VOCABULARIES))
@pytest.mark.parametrize("text", _corpus())
def test_the_corpus_reads_alike(name: str, text: str) -> None:
    vocab = VOCABULARIES[name]
    assert outcome(planned, text, vocab) == outcome(reference, text, vocab)
    assert outcome(planned, text, vocab) == outcome(reference, text, vocab)
