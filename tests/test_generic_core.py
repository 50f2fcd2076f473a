"""The core is policy-generic: kb/engine/ and pyapi/covkb/ name no policy's
terms, and a second policy written only for the tests (a different condition,
a scope by measurement or diagnosis code, number thresholds, ALL within ANY,
a code implying a non-boolean fact) runs through check, determine on both
engines, scenarios and diff with no change to either."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.check import check
from covkb.policy import Policy
from covkb.queries import NamedQuery, load_queries
from covkb.scenarios import scenarios, size

REPO = Path(__file__).parents[1]
TEST_POLICY = Path(__file__).parent / "policies" / "example_pap"
WEB = REPO / "pyapi" / "covkb" / "web"
CORE = sorted((REPO / "kb" / "engine").glob("*")) + sorted((REPO / "pyapi" / "covkb").rglob("*.py")) + \
    sorted(p for ext in ("html", "css", "js") for p in WEB.rglob(f"*.{ext}") if "vendor" not in p.parts)
# the issue's own list, plus every id either policy declares
ISSUE_TERMS = r"recurrent_pregnancy|rpl_|pregnan|prior_pregnancy_losses|all-inclusive|N96|O26|cerclage|0284"


def _policy_terms() -> set[str]:
    terms: set[str] = set()
    for ref in (None, TEST_POLICY):
        p = Policy(policy=ref)
        for v in p.versions:
            voc = p.data(v).vocabulary
            terms |= set(voc.services) | set(voc.findings) | set(voc.patient_facts) | set(voc.fields)
            terms |= set(voc.qualifiers) | set(voc.codes) | set(voc.statements)
            terms |= {x for f in voc.fields.values() for x in (f.alias,) if x}
    return terms


@pytest.mark.slow
def test_the_core_names_no_term_of_any_policy() -> None:
    words = _policy_terms()
    assert len(words) > 60
    found = []
    for path in CORE:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(ISSUE_TERMS, text, re.I)]
        found += [f"{path.name}: {w}" for w in sorted(words) if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", text)]
    assert found == []


TEST_QUERIES = load_queries(TEST_POLICY / "queries")


@pytest.fixture(scope="module", params=["prolog", "asp"])
def test_kb(request) -> KnowledgeBase:
    return KnowledgeBase(engine=request.param, policy=TEST_POLICY)


@pytest.mark.parametrize("query", TEST_QUERIES, ids=[q.name for q in TEST_QUERIES])
def test_test_policy_named_query_gives_expected_outcome(test_kb: KnowledgeBase, query: NamedQuery) -> None:
    try:
        result = test_kb.determine(query.request, version=query.version_ref()).to_dict()
    except CovkbError as err:
        result = {"error": err.to_dict()}
    assert query.check(result) == [], query.why


def test_test_policy_queries_reach_every_statement_code_and_its_outcomes() -> None:
    kb = KnowledgeBase(policy=TEST_POLICY)
    results = []
    for q in TEST_QUERIES:
        try:
            results.append(kb.determine(q.request, version=q.version_ref()).to_dict())
        except CovkbError:
            continue
    voc = kb.vocabulary
    assert set(voc.statements) <= {r["statement"] for r in results}
    assert set(voc.codes) <= {q.request.get("cpt") for q in TEST_QUERIES}
    # one complete version, and no statement of it says experimental and investigational
    assert set(voc.outcomes) - {r["outcome"] for r in results} == {"unknown", "experimental_and_investigational"}


@pytest.mark.parametrize("ref", ["2026-01-01", str(TEST_POLICY / "drafts" / "tighten_threshold.pl")])
def test_test_policy_checks_clean(ref: str) -> None:
    p = Policy(policy=TEST_POLICY)
    report = check(p.data(p.resolve(ref)))
    assert report.errors == 0, [f.message for f in report.findings if f.severity == "error"]
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "check", "--policy", str(TEST_POLICY), ref],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_test_policy_scenarios_are_distinct_and_counted() -> None:
    p = Policy(policy=TEST_POLICY)
    data = p.data(p.latest())
    keys = [repr(sorted(r.items())) for r in scenarios(data)]
    assert len(keys) == size(data) == len(set(keys))


def test_the_request_language_comes_from_the_policy() -> None:
    """The CLI reads the test policy's own fields: a measurement by its alias,
    a choice, a code list; a field of another policy is refused."""
    base = [sys.executable, "-m", "covkb.cli", "determine", "--policy", str(TEST_POLICY), "--date", "2026-06-01"]
    ok = subprocess.run(base + ["--cpt", "E0601", "--ahi", "20", "--diagnosis", "G47.33", "--format", "json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and '"outcome": "medically_necessary"' in ok.stdout, ok.stderr
    bad = subprocess.run(base + ["--cpt", "E0601", "--losses", "3"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown option --losses" in bad.stderr


def test_covkb_policies_lists_each_policy_with_its_versions() -> None:
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "policies"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "cigna_0284" in r.stdout and "before-2024-04-15" in r.stdout and "partial" in r.stdout


def test_an_outcome_the_test_policy_adds_is_read_by_what_it_means() -> None:
    """convenience_item is declared only in the test policy's vocabulary
    (outcome/2, outcome_favour/2, outcome_means/2): every surface reads it
    as the denial it is declared to be, with no change to pyapi/covkb."""
    from covkb.compare import classify as compare_class
    from covkb.pictures import ADVERSE, determination_dot
    from covkb.web.views import tone

    p = Policy(policy=TEST_POLICY)
    meanings = p.data(p.latest()).outcomes
    meant = meanings["convenience_item"]
    assert (meant.meaning, meant.crd_covered, meant.crd_info_needed, meant.tone) == \
        ("denied", "not-covered", None, "adverse")
    assert compare_class("convenience_item", "medically_necessary", meanings) == "covers_vs_denies"
    assert compare_class("convenience_item", "not_covered", meanings) == "denies_differently"
    assert tone("convenience_item", meanings) == "adverse"
    [query] = [q for q in TEST_QUERIES if q.expect.get("outcome") == "convenience_item"]
    det = KnowledgeBase(policy=TEST_POLICY).determine(query.request)
    root = next(line for line in determination_dot(det).splitlines() if line.strip().startswith("n0 "))
    assert ADVERSE.border in root


def test_an_outcome_without_its_meaning_is_refused_at_load(tmp_path: Path) -> None:
    import shutil

    from covkb.errors import KnowledgeBaseError

    copy = tmp_path / "example_pap"
    shutil.copytree(TEST_POLICY, copy)
    voc = copy / "vocabulary.pl"
    voc.write_text(voc.read_text(encoding="utf-8").replace("outcome_means(convenience_item, denied).", ""),
                   encoding="utf-8")
    p = Policy(policy=copy)
    with pytest.raises(KnowledgeBaseError, match="outcome convenience_item has no outcome_means/2"):
        p.data(p.latest())
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "determine", "--policy", str(copy), "--date", "2026-06-01",
                        "--service", "pap_cleaning_machine"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "outcome convenience_item has no outcome_means/2" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
