"""`covkb score`: a candidate encoding scored against the reference.

The worked examples of docs/research.md (docs/examples/candidates/): each
flawed candidate of Cigna 0284 is found with the right region kind and a
witness both engines confirm on both sides; a candidate that does not load
scores zero with a one-line reason (exit status 4).  The agreement counts
(every scenario of the reference) are in the exhaustive tier: the reference
scores 100 % against itself, a reworded-only candidate 100 % with grounding
below 100 %, each flawed one below 100 %, and the counts equal a decision
of every scenario one by one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from covkb.score import score

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = REPO / "docs" / "examples" / "candidates"
REFERENCE = "cigna_0284@2025-02-15"
PAP = REPO / "tests" / "policies" / "example_pap"

# The worked examples of docs/research.md, one row each: the candidate, the
# reference, the kind of region expected with the reference's outcome there
# and the candidate's (None: no region at all), whether the agreement is 100 %
# and whether every quote of the candidate is verbatim (grounding precision).
SCORES = [
    ("docs/examples/candidates/dropped_criterion.toml", REFERENCE,
     ("revoked", "medically_necessary", "criteria_not_met"), False, True),
    ("docs/examples/candidates/outcome_swapped.toml", REFERENCE,
     ("gained", "not_covered", "medically_necessary"), False, True),
    ("docs/examples/candidates/misread_scope.toml", REFERENCE,
     ("revoked", "medically_necessary", "not_addressed"), False, True),
    ("docs/examples/candidates/reworded.toml", REFERENCE, None, True, False),
    ("kb/policies/cigna_0284", REFERENCE, None, True, True),
    ("tests/policies/example_pap/drafts/tighten_threshold.toml", "tests/policies/example_pap@2026-01-01",
     ("revoked", "medically_necessary", "criteria_not_met"), False, False),  # its new quotes are proposed wording
]


def _ids(rows: list[tuple[object, ...]]) -> list[str]:
    return [Path(str(r[0])).stem for r in rows]


@pytest.mark.parametrize("candidate,reference,region,alike,verbatim", SCORES, ids=_ids(SCORES))
def test_worked_example_regions_and_grounding(candidate: str, reference: str, region: tuple[str, str, str] | None,
                                              alike: bool, verbatim: bool) -> None:
    """Each flawed candidate is found with the right region kind and a witness
    both engines confirm on both sides; the others have no region."""
    s = score(REPO / candidate, reference, agreement=False)
    assert s.loaded, s.reason
    if region is None:
        assert s.regions == ()
    else:
        kind, before, after = region
        found = [r for r in s.regions if (r["kind"], r["before"]["outcome"], r["after"]["outcome"]) == region]
        assert found, [(r["kind"], r["before"]["outcome"], r["after"]["outcome"]) for r in s.regions]
        assert all(r["witness_confirmed"] for r in found)
        assert all(set(r["witness_decided"]) == {"before", "after"} and
                   all(set(e) == {"prolog", "asp"} for e in r["witness_decided"].values()) for r in found)
    assert (s.grounding["precision"] == 1.0) is verbatim
    if not verbatim:
        assert s.grounding["interpretations"]["not_verbatim_unmarked"] >= 1


@pytest.mark.exhaustive
@pytest.mark.parametrize("candidate,reference,region,alike,verbatim", SCORES, ids=_ids(SCORES))
def test_worked_example_agreement(candidate: str, reference: str, region: tuple[str, str, str] | None,
                                  alike: bool, verbatim: bool) -> None:
    """Over every scenario of the reference: 100 % for the reference itself and
    the reworded candidate, below for each flawed one, whose region's
    outcomes show in the confusion matrix."""
    s = score(REPO / candidate, reference)
    assert s.scenarios > 0 and (s.agreement == 1.0) is alike
    if region is not None:
        assert s.confusion[region[1]].get(region[2], 0) > 0
    if alike:
        assert all(x["status"] == "encoded" for x in s.structure["statements"].values())
    assert json.loads(json.dumps(s.to_dict()))["agreement"] == round(s.agreement, 6)


BAD = {
    "syntax.pl": 'revision_of("2025-02-15").\nstatement(broken, treatment\n',
    "undeclared.toml": 'revision_of = "2025-02-15"\n[[drop]]\nstatement = "no_such_statement"\n',
    "include.pl": 'revision_of("2025-02-15").\n#include "/etc/passwd".\n',
    "directive.pl": 'revision_of("2025-02-15").\n:- shell("touch /tmp/covkb-owned").\n',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_candidate_that_does_not_load_scores_zero(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(BAD[name], encoding="utf-8")
    s = score(path, REFERENCE)
    assert not s.loaded and s.agreement == 0.0
    assert s.reason and "\n" not in s.reason and "Traceback" not in s.reason
    assert s.to_dict()["score"] == 0.0
    assert not Path("/tmp/covkb-owned").exists()


def test_a_cycle_scores_zero() -> None:
    s = score(REPO / "tests" / "drafts" / "cycle.toml", REFERENCE)
    assert not s.loaded and "cycle" in s.reason.lower()


def test_cli_exit_status_and_one_line_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.pl"
    path.write_text(BAD["syntax.pl"], encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "covkb.cli", "score", str(path), "--against", REFERENCE],
                         capture_output=True, text=True)
    assert run.returncode == 4, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[2].startswith("Score 0: the candidate does not load")


@pytest.mark.exhaustive
def test_counts_equal_every_scenario_decided_one_by_one() -> None:
    """The counting shortcut (a subject the diff finds alike counts as the
    reference's) against a decision of every scenario by both sides."""
    from covkb.kb import KnowledgeBase
    from covkb.scenarios import scenarios

    s = score(CANDIDATES / "dropped_criterion.toml", "cigna_0284@2025-02-15")
    kr, kc = KnowledgeBase("prolog"), KnowledgeBase("prolog")
    ref = kr.policy.version("2025-02-15")
    candidate = kc.policy.resolve(str(CANDIDATES / "dropped_criterion.toml"))  # compiled once
    got: dict[str, dict[str, int]] = {}
    for req in scenarios(kr.policy.data(ref)):
        a = _outcome(kr, req, ref)
        b = _outcome(kc, req, candidate)
        got.setdefault(a, {}).setdefault(b, 0)
        got[a][b] += 1
    assert got == s.confusion


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.exhaustive)])
def test_deciding_a_candidate_in_workers_once_per_projection_equals_one_by_one(workers: int, monkeypatch) -> None:
    """covkb.score_decide (the worker pool, one decision per relevant
    projection) gives each scenario the answer determine gives it alone: a
    sample of the subject the dropped criterion changes."""
    import itertools

    from covkb import score_decide
    from covkb.kb import KnowledgeBase
    from covkb.limits import CLOSED_READING
    from covkb.scenarios import _merge
    from covkb.score import _subject_dims, reference_side

    reference = reference_side(REFERENCE)
    fields, dims = next((f, d) for f, d in _subject_dims(reference.data) if f == {"service": "transabdominal_cerclage"})
    requests = [{**fields, **CLOSED_READING, **_merge(c)} for c in itertools.islice(itertools.product(*dims), 0, None, 22)]
    draft = str(CANDIDATES / "dropped_criterion.toml")
    monkeypatch.setattr(score_decide, "IN_PROCESS", 0)  # the pool even for a sample
    got = score_decide.decide_all(str(reference.policy.folder), draft, requests, workers)
    kb = KnowledgeBase("prolog")
    version = kb.policy.resolve(draft)
    assert got == [score_decide.answer(kb, r, version) for r in requests]
    assert len(set(got)) > 1


def _outcome(kb: object, req: dict, ref: object) -> str:
    from covkb.errors import CovkbError

    try:
        return kb.determine(req, explain=False, version=ref).outcome  # type: ignore[attr-defined]
    except CovkbError as exc:
        return exc.code


@pytest.mark.exhaustive
def test_the_readme_score_example_prints_what_it_shows() -> None:
    """README's researchers section: its `covkb score` example, marked not run
    there (the first score of a version decides every scenario of the
    reference once), run here as written, prints the lines it shows."""
    from test_readme_examples import blocks, commands

    shown = [(cmd, out) for b in blocks("README.md") if b.lang == "console" and "covkb score" in b.text
             for cmd, out, _, _ in commands(b)]
    assert shown, "README.md shows a `covkb score` example"
    for cmd, out in shown:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        run = subprocess.run(["bash", "-o", "pipefail", "-c", cmd.replace("$ ", "")], cwd=REPO, env=env,
                             capture_output=True, text=True)
        assert run.stdout.splitlines() == out, run.stderr


def test_a_claims_mix_weighs_each_request(tmp_path: Path) -> None:
    mix = tmp_path / "mix.jsonl"
    nk = {"service": "nk_cell_test", "date_of_service": "2025-06-01", "prior_pregnancy_losses": 2}
    other = {"service": "inhibin_b_test", "date_of_service": "2025-06-01", "prior_pregnancy_losses": 2}
    mix.write_text("\n".join(json.dumps(r) for r in (nk, nk, nk, other)) + "\n", encoding="utf-8")
    s = score(CANDIDATES / "outcome_swapped.toml", REFERENCE, mix=mix, agreement=False)
    assert s.weighted is not None and s.weighted["requests"] == 4
    assert s.weighted["agreeing"] == 1
    assert s.weighted["confusion"]["not_covered"]["medically_necessary"] == 3
