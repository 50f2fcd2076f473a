"""The command line as a user meets it: real process, real engines.

Bad input ends in one line and exit 2, never a traceback; with --format
json the error is a JSON object on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

COVKB = [sys.executable, "-m", "covkb.cli"]


def covkb(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COVKB, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_determine_prints_outcome_and_explanation_tree() -> None:
    r = covkb("determine", "--cpt", "59325", "--losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Medically necessary: the patient is pregnant (CPT 59325) and had a cone biopsy")
    assert "the patient had a cone biopsy (stated in the request)" in r.stdout
    assert '"prior cervical trauma (e.g., cone biopsy' in r.stdout


def test_determine_json_has_the_documented_fields() -> None:
    r = covkb("determine", "--service", "nk_cell_test", "--losses", "2", "--date", "2025-06-01", "--format", "json")
    d = json.loads(r.stdout)
    assert {"outcome", "policy", "version", "statement", "criteria_met", "missing", "possible_outcomes",
            "referral", "citations", "explanation", "warnings"} <= set(d)
    assert (d["outcome"], d["policy"], d["version"]) == ("not_covered", "cigna-0284", "2025-02-15")


def test_determine_markdown_has_why_and_citations() -> None:
    r = covkb("determine", "--service", "medication", "--losses", "2", "--date", "2025-06-01", "--format", "markdown")
    assert r.returncode == 0
    assert r.stdout.startswith("## Referred to another coverage policy or benefit: the applicable pharmacy benefit")
    assert "### Why" in r.stdout and "### Citations" in r.stdout


def test_request_from_stdin() -> None:
    req = {"service": "inhibin_b_test", "prior_pregnancy_losses": 2, "date_of_service": "2025-06-01"}
    r = covkb("determine", "--request", "-", "--format", "json", stdin=json.dumps(req))
    assert json.loads(r.stdout)["outcome"] == "not_medically_necessary"


BAD = [
    (["--service", "tac"], "unknown service 'tac'"),
    (["--service", "transabdominal_cerclag"], "did you mean 'transabdominal_cerclage'"),
    (["--cpt", "59-325"], "is not a CPT or HCPCS code"),
    (["--cpt", "59325", "--not-pregnant"], "means pregnant = yes"),
    (["--service", "nk_cell_test", "--date", "2025-13-01"], "is not a date"),
    (["--service", "nk_cell_test", "--date", "2025-02-30"], "is not a date"),
    (["--service", "nk_cell_test", "--engine", "lisp"], "Invalid value for '--engine'"),
    (["--service", "nk_cell_test", "--diagnosis", "N96;halt"], "is not an ICD-10-CM code"),
    (["--service", "nk_cell_test", "--losses", "-1"], "prior_pregnancy_losses"),
    (["--losses", "2"], "needs a service or a cpt code"),
    (["--bogus"], "unknown option"),
    (["--request", "/nonexistent/req.json"], "cannot read request"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    r = covkb("determine", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_input_with_json_format_is_a_json_error_on_stdout() -> None:
    r = covkb("determine", "--service", "tac", "--format", "json")
    assert r.returncode == 2
    assert json.loads(r.stdout)["error"]["code"] == "unknown_id"


def test_bad_json_request_is_one_line() -> None:
    r = covkb("determine", "--request", "-", stdin='{"service": ')
    assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr


INJECTIONS = [
    ("findings", ["x), shell('touch {m}'), (y"]),
    ("service", "x), shell('touch {m}'), (y"),
    ("analyte", "inhibin_b), shell('touch {m}'"),
    ("cpt", "8352') :- shell('touch {m}"),
    ("diagnoses", ["N96\"). shell(\"touch {m}"]),
    ("substance", "#script (python) import os; os.system('touch {m}') #end"),
]


@pytest.mark.parametrize("engine", ["prolog", "asp"])
@pytest.mark.parametrize("field,value", INJECTIONS, ids=[f for f, _ in INJECTIONS])
@pytest.mark.slow
def test_injection_payloads_are_rejected_and_never_run(tmp_path: Path, engine: str, field: str, value) -> None:
    marker = tmp_path / "pwned"
    fill = (lambda v: [x.format(m=marker) for x in v]) if isinstance(value, list) else (lambda v: v.format(m=marker))
    req = {"service": "inhibin_b_test", "cpt": "83520", "prior_pregnancy_losses": 2, field: fill(value)}
    r = covkb("determine", "--request", "-", "--engine", engine, "--format", "json", stdin=json.dumps(req))
    assert r.returncode == 2, r.stdout
    assert json.loads(r.stdout)["error"]["code"] in ("invalid_request", "unknown_id")
    assert not marker.exists()


def test_vocab_lists_services_findings_and_codes() -> None:
    r = covkb("vocab", "--format", "json")
    d = json.loads(r.stdout)
    assert "transabdominal_cerclage" in d["services"] and "cone_biopsy" in d["findings"] and "59325" in d["cpt codes"]


def test_query_runs_a_named_query_and_reports_it_as_expected() -> None:
    r = covkb("query", "tac_pregnant_with_cone_biopsy_is_medically_necessary")
    assert r.returncode == 0 and "as expected" in r.stdout


def test_unknown_query_name_suggests_the_closest() -> None:
    r = covkb("query", "nk_cell_test_is_not_coverd")
    assert r.returncode == 2 and "did you mean 'nk_cell_test_is_not_covered'" in r.stderr
