"""What make test samples; the rest in the exhaustive tier.

The named queries (``sampled``), and the frozen agreement corpus
(``frozen_corpus``).

Per-query sweeps that repeat what a sample already shows (a picture says
what the text tree says; both engines' JSON answers, sentences included,
are compared by test_engine_agreement.py) keep in make test the first
query (by name) of each policy and expected outcome, every kind of answer;
the other queries carry the ``exhaustive`` mark (make test-exhaustive).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

AGREEMENT = Path(__file__).parent / "agreement"
CORPUS_FILES = (AGREEMENT / "corpus.jsonl", AGREEMENT / "disagreements.jsonl")


def sampled(rows: Sequence[tuple[Any, Any]], policy_id: Callable[[Any], str] = str) -> list[Any]:
    """(policy, named query) rows as test parameters, the unsampled ones marked exhaustive."""
    first: dict[tuple[str, str], str] = {}
    for p, q in sorted(rows, key=lambda r: r[1].name):
        first.setdefault((policy_id(p), q.expect.get("outcome", "")), q.name)
    return [pytest.param(p, q, id=f"{policy_id(p).rsplit('/', 1)[-1]}:{q.name}",
                         marks=() if first[(policy_id(p), q.expect.get("outcome", ""))] == q.name
                         else pytest.mark.exhaustive)
            for p, q in rows]


def in_make_test(params: list[Any]) -> list[Any]:
    """The sampled parameters: those make test runs."""
    return [x for x in params if not x.marks]


def _cost(request: dict[str, Any]) -> tuple[int, int]:
    """How much a request leaves unknown (tests/agreement/make_corpus.py's order of choice)."""
    return (len(request.get("unknown_findings", ())), -len(request))


def frozen_corpus() -> list[tuple[dict[str, Any], bool]]:
    """The frozen corpus's lines (tests/agreement/make_corpus.py, then the
    requests that ever disagreed), each with whether make test checks it.

    make test checks every named query, every request that ever disagreed,
    and of each version's cover the cheapest request of every (outcome,
    statement, criteria met, CPT code, error code): the cover's other
    requests, each a further distinct whole answer within one of those
    (its missing facts, possible outcomes, citations), are in the exhaustive
    tier, which decides every scenario anyway.  The test policy's cover holds
    598 requests, many leaving several findings unknown (every completion
    decided and explained), for 66 such combinations: 70 s of make test."""
    lines: list[dict[str, Any]] = []
    for path in CORPUS_FILES:
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if text.strip() and not text.lstrip().startswith("#"):
                try:
                    lines.append(json.loads(text))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path.name}:{i}: not a JSON line: {exc}") from None
    cheapest: dict[tuple[Any, ...], int] = {}
    for i, line in enumerate(lines):
        if "chosen_for" in line:
            key = (line["policy"], line.get("version"), json.dumps(line["chosen_for"], sort_keys=True))
            if key not in cheapest or _cost(line["request"]) < _cost(lines[cheapest[key]]["request"]):
                cheapest[key] = i
    kept = set(cheapest.values())
    return [(line, "chosen_for" not in line or i in kept) for i, line in enumerate(lines)]


__all__ = ["frozen_corpus", "in_make_test", "sampled"]
