"""Explanations, rendered, against reviewed golden files in tests/golden/.

Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from covkb import KnowledgeBase
from covkb.queries import load_query
from covkb.render import to_markdown, to_text

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    ("tac_pregnant_with_cone_biopsy_is_medically_necessary", "txt"),      # why: ontology step
    ("tac_pregnant_without_any_condition_criteria_not_met", "txt"),       # why not: every criterion
    ("tac_pregnant_failed_cerclage_of_unstated_indication_needs_more_information", "txt"),  # cases
    ("transvaginal_cerclage_during_pregnancy_is_not_addressed", "txt"),   # no statement applies
    ("cpt_96365_ivig_is_referred_to_the_immune_globulin_policy", "md"),   # code, referral
]


@pytest.mark.parametrize("name,ext", CASES, ids=[n for n, _ in CASES])
def test_explanation_matches_golden_file(kb: KnowledgeBase, section_path, name: str, ext: str) -> None:
    d = kb.determine(load_query(name).request)
    got = to_text(d, section_path) if ext == "txt" else to_markdown(d, section_path)
    path = GOLDEN / f"{name}.{ext}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_every_explanation_cites_only_words_of_the_policy(kb: KnowledgeBase) -> None:
    d = kb.determine(load_query("tac_pregnant_with_cone_biopsy_is_medically_necessary").request)
    data = kb.policy.data(kb.policy.latest())
    quotes = [n.get("quote") for n in d.explanation.walk() if n.get("quote")]
    quotes += [q for n in d.explanation.walk() for q in (n.get("quotes") or ())]
    assert quotes and all(data.quote_position(q) >= 0 for q in quotes)
    assert all(data.quote_position(c.quote) >= 0 for c in d.citations)
