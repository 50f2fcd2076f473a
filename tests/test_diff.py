"""`covkb diff`: the documented changes between versions, the example drafts,
and regions that are what they say (checked against the Prolog engine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from covkb import KnowledgeBase
from covkb.diff import DiffReport, diff
from covkb.policy import Policy

DRAFTS = Path(__file__).parents[1] / "queries" / "drafts"
POLICY = Policy()
_cache: dict[tuple[str, str], DiffReport] = {}


def report(a: str, b: str) -> DiffReport:
    if (a, b) not in _cache:
        _cache[(a, b)] = diff(POLICY, a, b)
    return _cache[(a, b)]


def regions(a: str, b: str, kind: str, **root: str) -> list:
    return [r for r in report(a, b).regions if r.kind == kind and all(r.root.get(k) == v for k, v in root.items())]


@pytest.mark.slow
def test_documented_change_of_2024_is_a_revoked_region() -> None:
    (r,) = [r for r in regions("before-2024-04-15", "2024-04-15", "revoked", service="transabdominal_cerclage")
            if r.fixed.get("prior_failed_ultrasound_indicated_transvaginal_cerclage") == "yes"]
    assert r.fixed["pregnant"] == "yes"
    assert (r.before["outcome"], r.after["outcome"]) == ("medically_necessary", "criteria_not_met")
    assert r.before["statement"] == "antenatal_transabdominal_cerclage_before_2024"
    assert any("prior failed or contraindication" in c["quote"] for c in r.citations_before)


@pytest.mark.slow
def test_cerclage_statements_unchanged_from_2024_to_2025() -> None:
    changed = {r.root.get("service") for r in report("2024-04-15", "2025-02-15").regions if r.kind != "maybe_changed"}
    assert changed == set()
    assert regions("2024-04-15", "2025-02-15", "maybe_changed", service="other_nk_cell_test")


@pytest.mark.slow
def test_a_pure_rewording_shows_no_change() -> None:
    assert report("2025-02-15", str(DRAFTS / "reword_nk_cell_testing.toml")).regions == []


DRAFT_CASES = [
    ("intralipid_not_medically_necessary.toml", "restricted", {"service": "intralipid_infusion"},
     ("not_addressed", "not_medically_necessary")),
    ("drop_non_pregnant_cerclage.toml", "revoked", {"service": "transvaginal_cerclage"},
     ("medically_necessary", "not_addressed")),
    ("cervical_length_threshold.toml", "revoked", {"service": "transabdominal_cerclage"},
     ("medically_necessary", "criteria_not_met")),
    ("cervical_length_threshold.toml", "gained", {"service": "transvaginal_cerclage"},
     ("criteria_not_met", "medically_necessary")),
]


@pytest.mark.parametrize("draft,kind,root,outcomes", DRAFT_CASES, ids=[f"{d}:{k}" for d, k, _, _ in DRAFT_CASES])
@pytest.mark.slow
def test_example_draft_changes_what_it_says(draft: str, kind: str, root: dict, outcomes: tuple[str, str]) -> None:
    found = regions("2025-02-15", str(DRAFTS / draft), kind, **root)
    assert any((r.before["outcome"], r.after["outcome"]) == outcomes for r in found), [r.to_dict() for r in found]


TEST_POLICY = Path(__file__).parent / "policies" / "example_pap"
WITNESS_PAIRS = [
    (None, "before-2024-04-15", "2024-04-15"),
    (None, "2025-02-15", str(DRAFTS / "drop_non_pregnant_cerclage.toml")),
    (str(TEST_POLICY), "2026-01-01", str(TEST_POLICY / "drafts" / "tighten_threshold.pl")),
]


@pytest.mark.parametrize("policy_ref,a,b", WITNESS_PAIRS, ids=["2024", "drop_non_pregnant", "example_pap"])
@pytest.mark.slow
def test_every_region_witness_gets_the_reported_outcomes_from_both_engines(policy_ref, a: str, b: str) -> None:
    """The diff runs on clingo's consequences; its witnesses are re-decided,
    one request at a time, by SWI-Prolog and by clingo."""
    policy = Policy(policy=policy_ref)
    found = diff(policy, a, b).regions
    assert found
    engines = [KnowledgeBase(engine=e, policy=policy_ref) for e in ("prolog", "asp")]
    for r in found:  # every kind: a conditional region's witness leaves open what it needs
        for side, ref, want in (("before", a, r.before["outcome"]), ("after", b, r.after["outcome"])):
            for kb in engines:
                got = kb.determine(r.witness_reads.get(side, r.witness), explain=False, version=ref).outcome
                assert got == want, (r.describe(), ref, r.witness, kb.engine_name)


@pytest.mark.slow
def test_diff_cli_formats() -> None:
    out = subprocess.run([sys.executable, "-m", "covkb.cli", "diff", "before-2024-04-15", "2024-04-15", "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    d = json.loads(out.stdout)
    assert out.returncode == 0 and d["by_kind"]["revoked"] >= 1
    md = subprocess.run([sys.executable, "-m", "covkb.cli", "diff", "2025-02-15", str(DRAFTS / "intralipid_not_medically_necessary.toml"),
                         "--format", "markdown"], capture_output=True, text=True, timeout=300)
    assert md.returncode == 0 and md.stdout.startswith("# covkb diff") and "## restricted" in md.stdout
