"""The command line as a user meets it: real process, real engines.

Bad input ends in one line and exit 2, never a traceback; with --format
json the error is a JSON object on stdout.
"""

from __future__ import annotations

import json
import os
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


# The command line that helps (issue 21 item 7): each case a command line, its exit status, and what
# its stdout must hold and stderr must not.
HELPFUL = [
    (["-h"], 0, ["Usage: covkb", "determine"]),
    (["--help"], 0, ["Usage: covkb", "determine"]),
    (["--version"], 0, ["covkb 0."]),
    ([], 0, ["Usage: covkb", "determine"]),  # covkb alone: its help, no error line
    (["determine", "--help"], 0,
     ["Request fields of cigna-0284", "--losses", "--pregnant", "--diagnosis", "--analyte", "--substance",
      "inhibin_b", "yes|no|unknown", "default: cigna-0284"]),
    (["determine", "-h"], 0, ["Request fields of cigna-0284", "--losses"]),
    (["determine", "--policy", "aetna-0348", "--help"], 0, ["Request fields of aetna-0348", "--losses", "--pregnant"]),
    (["vocab", "--help"], 0, ["aetna-0348, cigna-0284 are installed (default: cigna-0284)"]),
    (["draft", "-h"], 0, ["Usage: covkb draft"]),
    (["draft"], 0, ["Usage: covkb draft"]),  # a group alone: its help, no error line
]


@pytest.mark.parametrize("args,status,shown", HELPFUL, ids=[" ".join(a) or "(nothing)" for a, _, _ in HELPFUL])
def test_help_and_version_answer_without_an_error_line(args: list[str], status: int, shown: list[str]) -> None:
    r = subprocess.run([*COVKB, *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert r.returncode == status, r.stderr
    assert "error" not in r.stderr
    missing = [s for s in shown if s not in r.stdout]
    assert not missing, r.stdout


def test_determine_help_lists_only_the_chosen_policys_fields() -> None:
    r = covkb("determine", "--policy", "aetna-0348", "--help")
    assert "--analyte" not in r.stdout and "--substance" not in r.stdout


# A policy's boolean field as yes, no or unknown: each line with the outcome it gives (CPT 59325 is "during
# pregnancy": stating yes or unknown agrees with the code, no contradicts it).
BOOLEANS = [
    (["--pregnant", "yes"], "Medically necessary:"),
    (["--pregnant=yes"], "Medically necessary:"),
    (["--pregnant", "YES"], "Medically necessary:"),
    (["--pregnant"], "Medically necessary:"),
    (["--pregnant", "unknown"], "Medically necessary:"),
    (["--pregnant", "no"], "the request contradicts itself"),
    (["--not-pregnant"], "the request contradicts itself"),
    (["--pregnant", "maybe"], "'maybe' is not yes, no or unknown (write --pregnant, --not-pregnant or --pregnant unknown)"),
    (["--not-pregnant=yes"], "--not-pregnant takes no value"),
]


@pytest.mark.parametrize("args,answer", BOOLEANS, ids=[" ".join(a) for a, _ in BOOLEANS])
def test_a_boolean_field_takes_yes_no_or_unknown(args: list[str], answer: str) -> None:
    r = covkb("determine", "--cpt", "59325", "--losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01", *args)
    assert answer in (r.stdout.splitlines()[:1] or [""])[0] or answer in r.stderr, r.stdout[:300] + r.stderr


# Did you mean: ids written with dashes or capitals, and misspelt flags (determine's own and the policy's);
# the other commands: click's own suggestions, in one line too.
SUGGESTIONS = [
    (["determine", "--cpt", "59325", "--finding", "cone-biopsy"], "did you mean 'cone_biopsy'"),
    (["determine", "--cpt", "59325", "--finding", "Cone Biopsy"], "did you mean 'cone_biopsy'"),
    (["determine", "--service", "nk-cell-test"], "did you mean 'nk_cell_test'"),
    (["determine", "--cpt", "83520", "--analyte", "inhibin-b"], "did you mean 'inhibin_b'"),
    (["determine", "--cpt", "59325", "--findng", "cone_biopsy"], "unknown option --findng (did you mean '--finding'?)"),
    (["determine", "--cpt", "59325", "--losess", "3"], "unknown option --losess (did you mean '--losses'?)"),
    (["determine", "--cpt", "59325", "--pregnnt"], "unknown option --pregnnt (did you mean '--pregnant'?)"),
    (["vocab", "--fromat", "json"], "No such option: --fromat (Possible options: --draft, --format)"),
    (["determnie"], "No such command 'determnie'. Did you mean 'determine'?"),
]


@pytest.mark.parametrize("args,message", SUGGESTIONS, ids=[m for _, m in SUGGESTIONS])
def test_a_near_miss_gets_a_suggestion_in_one_line(args: list[str], message: str) -> None:
    r = covkb(*args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


def test_query_summary_fits_one_screen_and_counts_every_named_query() -> None:
    r = covkb("query", "--summary")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) <= 24 and lines[-1] == "failures: none"
    assert lines[0].startswith("named queries: ") and "as expected" in lines[0]
    head = lines[1].split()
    assert head[:3] == ["outcome", "cigna-0284", "aetna-0348"]  # the default policy first
    total = next(line for line in lines if line.strip().startswith("named queries "))
    assert lines[0].split()[4] == total.split()[-1]  # "named queries: N of TOTAL as expected"


def test_make_run_opens_with_the_default_policy_and_ends_with_the_summary() -> None:
    make = (Path(__file__).parents[1] / "Makefile").read_text()
    run = make[make.index("\nrun: setup"):make.index("\n\n", make.index("\nrun: setup"))]
    assert run.rstrip().endswith("covkb query --summary") and "n != d.name" in run


def test_a_draft_quote_not_in_the_source_names_the_closest_passage(tmp_path: Path) -> None:
    draft = tmp_path / "near.toml"
    draft.write_text('revision_of = "2025-02-15"\ntitle = "t"\n[[finding]]\nid = "cervical_length_under_25_mm"\n'
                     'label = "Cervical length under 25 mm"\n[[change]]\nstatement = "antenatal_transabdominal_cerclage"\n'
                     '[[change.criterion]]\nfinding = "cervical_length_under_25_mm"\n'
                     'quote = "cervical length less than 25 mm before 24 weeks gestation"\n')
    r = covkb("draft", "check", str(draft))
    assert r.returncode == 1
    assert ('the closest passage of the source text is "cervical length (less than 25 mm) before 24 weeks gestation"'
            in r.stdout), r.stdout


@pytest.mark.slow
def test_serve_says_where_it_listens_once_ready() -> None:
    import re
    import signal
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*COVKB, "serve", "--port", str(port), "--workers", "1"], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        # at once: what authentication it does (service/auth.py, and the web pages' login: web_auth.py)
        notices = [proc.stderr.readline(), proc.stderr.readline()]
        line = proc.stderr.readline()  # blocks until the server says it is ready (or exits)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert notices == ["covkb serve: no --trusted-issuers: every CDS Hooks call is refused (401)\n",
                       "covkb serve: no users: every web page asks for a login nobody has (covkb users add NAME)\n"], notices
    assert re.fullmatch(rf"covkb serve: listening on http://127\.0\.0\.1:{port} \(1 process, inline\)\n", line), line


def _every_policy_vocabulary() -> list:
    from covkb.installed import policy_folders
    from covkb.policy import Policy

    folders = [*policy_folders(), Path(__file__).parent / "policies" / "example_pap"]
    return [pytest.param(Policy(policy=f), id=f.name) for f in folders]


@pytest.mark.parametrize("policy", _every_policy_vocabulary())
def test_every_flag_determine_help_lists_is_one_determine_reads(policy) -> None:
    """The help's flags (policy_flags) and the reader (_policy_fields) come from the same request language."""
    from covkb.determine_command import _policy_fields, policy_flags

    vocabulary = policy.data(policy.latest()).vocabulary
    flags = policy_flags(vocabulary)
    assert len(flags) == len(vocabulary.fields) + len(vocabulary.qualifiers)
    for f in flags:
        value = {"N": "1", "[yes|no|unknown]": "yes", "CODE": "X"}.get(f.value, f.value.split("|")[0])
        assert len(_policy_fields([f.flags[0], value], vocabulary)) == 1, f
