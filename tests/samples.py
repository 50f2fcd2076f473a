"""A sample of the named queries for make test; the rest in the exhaustive tier.

Per-query sweeps that repeat what a sample already shows (a picture says
what the text tree says; both engines' JSON answers, sentences included,
are compared by test_engine_agreement.py) keep in make test the first
query (by name) of each policy and expected outcome, every kind of answer;
the other queries carry the ``exhaustive`` mark (make test-exhaustive).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest


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


__all__ = ["in_make_test", "sampled"]
