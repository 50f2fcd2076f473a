"""`covkb compare`: Cigna 0284 beside Aetna 0348.

The differences the issue names are found, each with a witness that both
engines decide as reported on both policies; no region is reported where
the two decide alike; every service on which a grid of requests shows a
difference is reported.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.compare import CompareReport, classify, compare, parse_ref

A, B = "cigna-0284@2025-02-15", "aetna-0348@undated"
_report: list[CompareReport] = []


def report() -> CompareReport:
    if not _report:
        _report.append(compare("cigna-0284", "aetna-0348"))
    return _report[0]


# (service, class, Cigna's outcome, Aetna's outcome, why)
EXPECTED = [
    ("nk_cell_percentage_test", "denies_differently", "not_covered", "experimental_and_investigational",
     "Cigna: NK cell testing is not covered or reimbursable; Aetna: the percentage of circulating NK cells is experimental and investigational"),
    ("parental_karyotyping", "refers_elsewhere", "refer_to_other_policy", "medically_necessary",
     "Cigna refers karyotyping to its genetic-testing policy; Aetna calls parental karyotype medically necessary"),
    ("parental_karyotyping", "not_addressed_by_one", "refer_to_other_policy", "not_addressed",
     "two failed pregnancies that are not consecutive spontaneous abortions: in Cigna's scope, not Aetna's"),
    ("hysteroscopy", "not_addressed_by_one", "not_addressed", "medically_necessary",
     "only Aetna's known text addresses hysteroscopy"),
    ("transabdominal_cerclage", "unknown_on_one_side", "medically_necessary", "unknown",
     "only Cigna's text addresses cerclage; Aetna's treatment statements are in the part that is lost"),
]


@pytest.mark.parametrize("service,kind,cigna,aetna,why", EXPECTED, ids=[e[4] for e in EXPECTED])
@pytest.mark.slow
def test_the_known_differences_are_reported_with_a_witness(service: str, kind: str, cigna: str, aetna: str,
                                                           why: str) -> None:
    r = report()
    found = [i for i, reg in enumerate(r.regions)
             if reg.root["service"] == service and reg.kind == kind
             and (reg.before["outcome"], reg.after["outcome"]) == (cigna, aetna)]
    assert found, why
    assert all(r.witness_ok(i) for i in found)


def test_two_non_consecutive_losses_are_one_difference_across_every_cigna_service() -> None:
    (g,) = [g for g in report().groups() if g["class"] == "not_addressed_by_one" and g["outcomes"][B] == ["not_addressed"]]
    assert "consecutive spontaneous abortions" in g["difference"]
    assert {"parental_karyotyping", "transabdominal_cerclage", "nk_cell_percentage_test"} <= set(g["services"])
    assert g["witness"]["prior_pregnancy_losses"] >= 2 > g["witness"]["consecutive_spontaneous_abortions"]


def test_every_witness_reproduces_on_both_engines_and_both_policies() -> None:
    r = report()
    assert r.regions
    bad = [(r.regions[i].witness, r.confirmed[i]) for i in range(len(r.regions)) if not r.witness_ok(i)]
    assert bad == []
    assert all(set(c) == {A, B} and set(c[A]) == {"prolog", "asp"} for c in r.confirmed.values())


def test_no_region_is_reported_where_the_two_decide_alike() -> None:
    r = report()
    for i, reg in enumerate(r.regions):
        got = r.confirmed[i]
        assert got[A]["asp"] != got[B]["asp"], reg.witness
        meanings = parse_ref(A)[0].data(parse_ref(A)[1]).outcomes.merged(parse_ref(B)[0].data(parse_ref(B)[1]).outcomes)
        assert classify(got[A]["asp"], got[B]["asp"], meanings) == reg.kind


def _grid(service: str):
    """Requests over the facts both policies read (counts on either side of
    both definitions, pregnancy, each finding alone)."""
    findings = [None, "cone_biopsy", "shortened_cervical_length", "subsequent_spontaneous_abortion",
                "partner_balanced_translocation_or_inversion"]
    for losses, consecutive, pregnant, finding in itertools.product((1, 2, 3), (1, 2), (True, False), findings):
        if consecutive > losses:
            continue  # no patient has more consecutive spontaneous abortions than failed pregnancies
        req = {"service": service, "prior_pregnancy_losses": losses, "consecutive_spontaneous_abortions": consecutive,
               "pregnant": pregnant, "date_of_service": "2025-06-01"}
        if finding:
            req["findings"] = [finding]
        yield req


@pytest.mark.slow
def test_every_service_where_a_grid_of_requests_differs_is_reported() -> None:
    r = report()
    kbs = [KnowledgeBase(engine="asp", policy=p) for p in ("cigna-0284", "aetna-0348")]
    differing = set()
    for svc in r.matrix:
        for req in _grid(svc):
            a, b = (kb.determine(req, explain=False, version=v).outcome for kb, v in zip(kbs, ("2025-02-15", "undated")))
            if a != b:
                differing.add(svc)
                break
    assert differing == {reg.root["service"] for reg in r.regions}


def test_the_matrix_gives_each_payer_its_own_denial_class() -> None:
    cell = report().matrix["nk_cell_percentage_test"]
    assert [o["outcome"] for o in cell[A].outcomes] == ["not_covered"]
    assert [o["outcome"] for o in cell[B].outcomes] == ["experimental_and_investigational"]


@pytest.mark.parametrize("a,b,message", [
    ("cigna-0284", "cigna-0284", "another policy or version"),
    ("cigna-0284@1999-01-01", "aetna-0348", "no version '1999-01-01'"),
    ("blue-0001", "aetna-0348", "no policy 'blue-0001'"),
])
def test_a_comparison_that_cannot_be_made_is_refused(a: str, b: str, message: str) -> None:
    with pytest.raises(CovkbError, match=message):
        compare(a, b, confirm=False)


@pytest.mark.slow
def test_cli_prints_markdown_with_the_matrix_and_json_with_every_region() -> None:
    run = lambda *args: subprocess.run([sys.executable, "-m", "covkb.cli", "compare", "cigna-0284", "aetna-0348", *args],  # noqa: E731
                                       capture_output=True, text=True, timeout=600)
    md = run("--format", "markdown")
    assert md.returncode == 0, md.stderr
    assert "| Service | cigna-0284@2025-02-15 | aetna-0348@undated |" in md.stdout
    assert "witnesses all reproduced" in md.stdout
    js = run("--format", "json")
    d = json.loads(js.stdout)
    assert d["all_witnesses_reproduce"] and d["differing_regions"] == len(d["regions"]) > 0


@pytest.mark.parametrize("ref", ["aetna-0348", "aetna-0348@undated"])
@pytest.mark.slow
def test_aetna_checks_clean_named_as_a_policy(ref: str) -> None:
    r = subprocess.run([sys.executable, "-m", "covkb.cli", "check", ref], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("covkb check aetna-0348@undated: ok: 0 error(s), 0 warning(s)")


@pytest.mark.parametrize("version", [None, "undated"], ids=["by the date of service", "asked for by name"])
def test_every_aetna_answer_says_its_dates_are_unknown(version: str | None) -> None:
    kb = KnowledgeBase(policy="aetna-0348")
    d = kb.determine({"service": "tsh_test", "consecutive_spontaneous_abortions": 2, "date_of_service": "2025-06-01"},
                     version=version)
    assert d.outcome == "medically_necessary"
    assert any("dates of version undated are not known" in w for w in d.warnings)
    assert any("only partly known" in w for w in d.warnings)
