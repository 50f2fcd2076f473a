"""`covkb check`: the shipped versions pass; each faulty draft in
tests/drafts/ shows the fault it was written to show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from covkb.check import check
from covkb.policy import Policy

DRAFTS = Path(__file__).parent / "drafts"
POLICY = Policy()

FAULTS = [
    ("conflict.pl", "policy_conflict", "error", ("antenatal_transabdominal_cerclage", "tac_during_pregnancy_not_medically_necessary")),
    ("unreachable.pl", "unreachable_statement", "error", ("cerclage_pregnant_and_not",)),
    ("subsumed.pl", "subsumed_statement", "warning", ("nk_cell_testing_during_pregnancy_not_covered", "nk_cell_testing_not_covered")),
    ("code_gap.pl", "code_gap", "warning", ()),
    ("code_gap.pl", "statement_without_code", "warning", ("nk_cell_testing_not_covered",)),
    ("ambiguous_code.pl", "ambiguous_code", "warning", ()),
    ("citation.pl", "citation", "error", ("medication_not_covered",)),
    ("vocabulary.pl", "vocabulary", "error", ()),
]


@pytest.mark.parametrize("draft,kind,severity,statements", FAULTS, ids=[f"{d}:{k}" for d, k, _, _ in FAULTS])
@pytest.mark.slow
def test_faulty_draft_is_flagged(draft: str, kind: str, severity: str, statements: tuple[str, ...]) -> None:
    report = check(POLICY.data(POLICY.draft(DRAFTS / draft)))
    hits = [f for f in report.findings if f.kind == kind and f.severity == severity]
    assert hits, [f.to_dict() for f in report.findings]
    if statements:
        assert any(set(statements) <= set(f.statements) for f in hits)


def test_a_conflict_comes_with_a_witness_request_that_really_conflicts(kb) -> None:
    report = check(POLICY.data(POLICY.draft(DRAFTS / "conflict.pl")))
    (conflict,) = [f for f in report.findings if f.kind == "policy_conflict"]
    assert conflict.witness["service"] == "transabdominal_cerclage" and conflict.witness["pregnant"] is True


@pytest.mark.parametrize("version", [v.id for v in POLICY.versions] + sorted(str(p) for p in (Path(__file__).parents[1] / "queries" / "drafts").glob("*.toml")))
@pytest.mark.slow
def test_shipped_versions_and_example_drafts_pass(version: str) -> None:
    report = check(POLICY.data(POLICY.resolve(version)))
    assert report.errors == 0, [f.to_dict() for f in report.findings if f.severity == "error"]


@pytest.mark.slow
def test_check_cli_exit_status_gates_a_draft() -> None:
    ok = subprocess.run([sys.executable, "-m", "covkb.cli", "check", "2025-02-15", "--format", "json"],
                        capture_output=True, text=True, timeout=120)
    bad = subprocess.run([sys.executable, "-m", "covkb.cli", "check", str(DRAFTS / "conflict.pl")],
                         capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    assert bad.returncode == 1 and "conflict" in bad.stdout and "witness" in bad.stdout


def test_a_draft_with_an_ontology_cycle_is_refused_at_load_naming_the_cycle() -> None:
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "check", str(DRAFTS / "cycle.pl")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "prior_cervical_trauma -> cone_biopsy -> prior_cervical_trauma" in r.stderr
