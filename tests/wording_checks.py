"""Checks on output meant for a person, for every surface's tests to reuse
(CLI text and Markdown here; CDS cards, web pages, letters elsewhere).

- ``ids_shown(text, words)``: the snake_case ids in the text that have a
  label or a template (covkb.wording): a person should read their words,
  never the id.  Empty when the text is in words.
- ``states_decision_first(text, det)``: the first line opens with the
  decision in words (the outcome's outcome_reads/2, else its label).
"""

from __future__ import annotations

import re

from covkb.determination import Determination
from covkb.wording import Words

SNAKE_CASE = re.compile(r"(?<![\w./#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")


def ids_shown(text: str, words: Words) -> list[str]:
    """Every snake_case id in ``text`` for which a label or template exists."""
    return sorted({m for m in SNAKE_CASE.findall(text) if words.labelled(m)})


def first_line(text: str) -> str:
    """The first line a person reads, Markdown's heading marks taken off."""
    line = next((x for x in text.splitlines() if x.strip()), "")
    return line.lstrip("#").strip()


def states_decision_first(text: str, det: Determination) -> bool:
    """The first line opens with the decision, in words."""
    words = det.words or Words()
    return first_line(text).startswith(words.outcome(det.outcome))


__all__ = ["SNAKE_CASE", "first_line", "ids_shown", "states_decision_first"]
