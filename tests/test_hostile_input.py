"""Hostile input (issue 10): nothing lost, nothing crashes.

Each case is one input, one expected result and, in its test id, one
sentence of why.  Real engines and real processes throughout; bad input is
a one-line invalid-request error (exit 2), never `internal` (exit 3), and a
batch keeps one record per input line whatever the line holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, EngineError, InvalidRequest, KnowledgeBase, KnowledgeBaseClosed
from covkb.batch import run_batch
from covkb.request import MAX_REQUEST_BYTES, MAX_TEXT, request_json

from conftest import TODAY

COVKB = [sys.executable, "-m", "covkb.cli"]
DATE = "2025-06-01"
BASE = {"prior_pregnancy_losses": 2, "date_of_service": DATE}


def covkb(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*COVKB, *args], input=stdin, capture_output=True, timeout=timeout)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode("utf-8", "replace"),
                                       r.stderr.decode("utf-8", "replace"))


def assert_one_line_exit_2(r: subprocess.CompletedProcess[str], message: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-300:], r.stderr[-300:])
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr[-300:]
    assert "Traceback" not in r.stderr and "internal" not in r.stderr


@pytest.fixture(scope="module")
def asp_kb() -> KnowledgeBase:
    return KnowledgeBase(engine="asp", today=TODAY)


def answer(kb: KnowledgeBase, req: dict[str, Any]) -> tuple[str, ...]:
    """What a user is told: the outcome and its main fields, or the error code."""
    try:
        d = kb.determine(req, explain=False)
    except CovkbError as err:
        return ("error", err.code)
    return (d.outcome, str(d.statement), tuple(d.missing), tuple(d.possible_outcomes))


# -- one validation for every request, both engines alike -------------------------

BIG = "a" * (45 << 20)
REJECTED = [
    ("a 45 MiB analyte is over the string size limit", {"cpt": "83520", "analyte": BIG}, "longer than the limit"),
    ("a 45 MiB substance is over the string size limit", {"cpt": "96365", "substance": BIG}, "longer than the limit"),
    ("a 300-character finding is over the string size limit",
     {"service": "nk_cell_test", "findings": ["f" * 300]}, "longer than the limit"),
    ("a control character in a qualifier is not text a request may hold",
     {"cpt": "83520", "analyte": "inhibin_b\x00"}, "control character U+0000"),
    ("a newline after an id would pass a $-anchored id pattern", {"cpt": "83520", "analyte": "inhibin_b\n"},
     "control character U+000A"),
    ("decomposed Unicode (not NFC) is refused", {"service": "nk_cell_test", "findings": ["cafe\u0301"]},
     "NFC"),
    ("a dotless i makes a CPT code non-ASCII", {"cpt": "5932\u0131"}, "not a CPT or HCPCS code"),
    ("a dotless i makes an ICD-10-CM code non-ASCII", {"cpt": "59325", "diagnoses": ["O26.2\u0131"]},
     "not an ICD-10-CM code"),
    ("a full-width digit in a CPT code is not an ASCII digit", {"cpt": "5932\uff15"}, "not a CPT or HCPCS code"),
    ("a count with 5,000 digits is out of range", {"cpt": "59325", "prior_pregnancy_losses": 10**5000},
     "out of range"),
    ("a count given as a string is not a number (strict)", {"cpt": "59325", "prior_pregnancy_losses": "\uff13"},
     "prior_pregnancy_losses"),
    ("201 findings are over the list limit", {"service": "nk_cell_test", "findings": ["cone_biopsy"] * 201},
     "longer than the limit"),
    ("a list nested in a list is not a finding", {"service": "nk_cell_test", "findings": [["cone_biopsy"]]},
     "findings"),
]


@pytest.mark.parametrize("engine", ["prolog", "asp"])
@pytest.mark.parametrize("why,req,message", REJECTED, ids=[w for w, _, _ in REJECTED])
def test_bad_requests_are_refused_by_validation_on_both_engines(
        kb: KnowledgeBase, asp_kb: KnowledgeBase, engine: str, why: str, req: dict, message: str) -> None:
    k = kb if engine == "prolog" else asp_kb
    with pytest.raises(InvalidRequest) as exc:
        k.determine({**BASE, **req})
    assert message in exc.value.message
    assert len(exc.value.message) < 400 and "\n" not in exc.value.message


def test_an_icd10_code_outside_the_policy_is_accepted_and_changes_nothing(kb: KnowledgeBase) -> None:
    """U07.1 has the shape of an ICD-10-CM code; the policy does not list it, so it cannot matter."""
    req = {**BASE, "cpt": "59325", "findings": ["cone_biopsy"]}
    assert answer(kb, {**req, "diagnoses": ["U07.1"]}) == answer(kb, req)
    assert answer(kb, {**req, "diagnoses": ["U07.1"]})[0] == "medically_necessary"


# Values outside the scenario space; `none` once collided with evaluator.pl's "no value".
ODD_QUALIFIER_VALUES = ["none", "null", "other", "unlisted_code", "service", "true", "yes", "inhibin_b_test"]


@pytest.mark.parametrize("cpt,qualifier", [("83520", "analyte"), ("96365", "substance")])
@pytest.mark.parametrize("value", ODD_QUALIFIER_VALUES)
def test_both_engines_agree_on_qualifier_values_no_code_names(
        kb: KnowledgeBase, asp_kb: KnowledgeBase, cpt: str, qualifier: str, value: str) -> None:
    for extra in ({}, {"service": "inhibin_b_test" if cpt == "83520" else "ivig"}):
        req = {**BASE, "cpt": cpt, qualifier: value, **extra}
        got = answer(kb, req)
        assert got == answer(asp_kb, req), req
        if not extra:  # a value no code names reports no listed service
            assert got[0] == "not_addressed", (req, got)


# -- untrusted JSON text ------------------------------------------------------------

JSON_TEXTS = [
    ("duplicate keys would silently keep the last value",
     b'{"cpt": "59325", "pregnant": true, "pregnant": false}', "'pregnant' is given twice"),
    ("a 5,000-digit number would hit Python's int limit", b'{"prior_pregnancy_losses": ' + b"9" * 5000 + b"}",
     "5,000 digits is out of range"),
    ("100,000 levels of nesting would exhaust the stack", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("NaN is not JSON", b'{"prior_pregnancy_losses": NaN}', "NaN is not a JSON number"),
    ("UTF-16 is not UTF-8", '{"cpt": "59325"}'.encode("utf-16"), "UTF-16"),
    ("Latin-1 bytes are not UTF-8", b'{"cpt": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at position 12)"),
    ("a request over 1 MiB is refused unparsed", b'{"cpt": "' + b"1" * MAX_REQUEST_BYTES + b'"}', "larger than"),
    ("an empty request says so", b"  \n", "empty request"),
]


@pytest.mark.parametrize("why,text,message", JSON_TEXTS, ids=[w for w, _, _ in JSON_TEXTS])
def test_untrusted_json_is_refused_with_one_line(why: str, text: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        request_json(text)
    assert message in exc.value.message and "\n" not in exc.value.message


def test_a_utf8_bom_is_not_part_of_the_request() -> None:
    assert request_json(b'\xef\xbb\xbf{"cpt": "59325"}') == {"cpt": "59325"}


# -- the command line: exit 2, one line, never internal --------------------------------

def test_cli_hostile_request_files(tmp_path: Path) -> None:
    """Each request file is refused with one line and exit 2 (one process per file)."""
    cases = {
        "big.json": (b'{"cpt": "59325", "prior_pregnancy_losses": ' + b"9" * 5000 + b"}", "out of range"),
        "deep.json": (b'{"cpt": "59325", "findings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        "utf16.json": ('{"cpt": "59325"}'.encode("utf-16"), "UTF-16"),
        "latin1.json": (b'{"cpt": "59325", "service": "caf\xe9"}', "not UTF-8 text"),
        "dup.json": (b'{"cpt": "59325", "pregnant": true, "pregnant": false}', "given twice"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert_one_line_exit_2(covkb("determine", "--request", str(tmp_path / name)), message)


def test_cli_request_from_dev_zero_is_refused_after_a_bounded_read() -> None:
    """/dev/zero never ends: at most MAX_REQUEST_BYTES are read, then refused (no memory growth)."""
    t = time.perf_counter()
    r = covkb("determine", "--request", "/dev/zero", timeout=30)
    assert_one_line_exit_2(r, "larger than 1,048,576 bytes")
    assert time.perf_counter() - t < 20


CLI_BAD = [
    ("a file name too long for the OS is a user error", ["check", "a" * 300 + ".pl"], "File name too long"),
    ("a count flag that is not a number", ["determine", "--cpt", "59325", "--losses", "abc"], "not a whole number"),
    ("a full-width digit is not an ASCII digit", ["determine", "--cpt", "59325", "--losses", "\uff13"],
     "not a whole number"),
    ("a superscript two is a digit to str.isdigit, not to covkb",
     ["determine", "--cpt", "59325", "--losses", "\u00b2"], "not a whole number"),
    ("a 5,000-digit count flag", ["determine", "--cpt", "59325", "--losses", "9" * 5000], "not a whole number"),
    ("a dotless i in a CPT flag", ["determine", "--cpt", "5932\u0131"], "not a CPT or HCPCS code"),
    ("a dotless i in a diagnosis flag", ["determine", "--cpt", "59325", "--diagnosis", "O26.2\u0131"],
     "not an ICD-10-CM code"),
    ("more than 64 workers", ["batch", "in.jsonl", "-o", "out.jsonl", "--workers", "65"], "less than or equal to 64"),
    ("a query given as a path outside queries/", ["query", "/etc/passwd"], "is not a query name"),
    ("a query name climbing out of queries/", ["query", "../../README"], "is not a query name"),
]


@pytest.mark.parametrize("why,args,message", CLI_BAD, ids=[w for w, _, _ in CLI_BAD])
@pytest.mark.slow
def test_cli_bad_input_is_one_line_and_exit_2(why: str, args: list[str], message: str) -> None:
    assert_one_line_exit_2(covkb(*args), message)


def test_cli_bad_count_with_json_format_prints_a_json_error() -> None:
    r = covkb("determine", "--cpt", "59325", "--losses", "abc", "--format", "json")
    assert r.returncode == 2 and r.stderr == ""
    assert json.loads(r.stdout)["error"] == {"code": "invalid_request",
                                             "message": "--losses: 'abc' is not a whole number"}


def test_cli_draft_whose_text_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A draft's proposed wording (.txt beside it) is user input: Latin-1 bytes are an error, not a crash."""
    draft = Path(__file__).parents[1] / "queries" / "drafts" / "reword_nk_cell_testing.toml"
    (tmp_path / draft.name).write_bytes(draft.read_bytes())
    (tmp_path / "reword_nk_cell_testing.txt").write_bytes(b"caf\xe9 au lait\n")
    assert_one_line_exit_2(covkb("check", str(tmp_path / draft.name)), "not UTF-8 text")


def test_cli_summary_json_into_a_missing_directory_is_refused_before_the_run(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({**BASE, "service": "nk_cell_test"}) + "\n")
    r = covkb("batch", str(src), "-o", str(tmp_path / "out.jsonl"), "--summary-json", str(tmp_path / "no" / "s.json"))
    assert_one_line_exit_2(r, "no directory")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("how", ["same path", "symlink to the input", "hard link to the input"])
@pytest.mark.slow
def test_batch_refuses_an_output_that_is_its_input(tmp_path: Path, how: str) -> None:
    """`covkb batch IN -o IN` used to truncate the input to nothing and exit 0."""
    src = tmp_path / "in.jsonl"
    text = "".join(json.dumps({**BASE, "service": "nk_cell_test", "prior_pregnancy_losses": 2 + i % 5}) + "\n"
                   for i in range(3000))
    src.write_text(text)
    out = src
    if how != "same path":
        out = tmp_path / "out.jsonl"
        (out.symlink_to if how.startswith("symlink") else out.hardlink_to)(src)
    r = covkb("batch", str(src), "-o", str(out))
    assert_one_line_exit_2(r, "is the input")
    assert src.read_text() == text
    assert not list(tmp_path.glob("*.partial*"))


def test_batch_output_to_a_device_is_written_through_and_a_directory_is_refused(tmp_path: Path) -> None:
    """/dev/null must stay a device (no OUT.partial renamed over it); a directory is no output file."""
    src = tmp_path / "in.jsonl"
    src.write_text(NK.decode() + "\n")
    assert run_batch(str(src), os.devnull).lines == 1
    assert Path(os.devnull).is_char_device() and not Path(os.devnull + ".partial").exists()
    with pytest.raises(InvalidRequest, match="is a directory"):
        run_batch(str(src), str(tmp_path))


# -- batch: every input line is one record, with its line number ------------------------

def records(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def got(rec: dict) -> str:
    if "error_code" in rec:  # a CSV record
        return rec["outcome"] or rec["error_code"]
    return rec["error"]["code"] if "error" in rec else rec["outcome"]


NK = json.dumps({**BASE, "service": "nk_cell_test"}).encode()
JSONL_LINES = [
    ("a UTF-8 BOM before the first request is not part of it", b"\xef\xbb\xbf" + NK, "not_covered", ""),
    ("a CRLF line end is a line end", NK + b"\r", "not_covered", ""),
    ("an invalid UTF-8 byte spoils its own line only", b'{"service": "nk\xff_cell_test"}', "invalid_request",
     "not UTF-8"),
    ("a blank line is a record too", b"", "invalid_request", "empty"),
    ("a line over 1 MiB is an error record, not an abort", b'{"cpt": "' + b"9" * (MAX_REQUEST_BYTES + 10) + b'"}',
     "invalid_request", "longer than"),
    ("a string over the size limit is a validation error",
     json.dumps({**BASE, "cpt": "83520", "analyte": "a" * 200_000}).encode(), "invalid_request", "longer than"),
    ("a 5,000-digit number is an invalid request, not an internal error",
     b'{"cpt": "59325", "prior_pregnancy_losses": ' + b"9" * 5000 + b"}", "invalid_request", "out of range"),
    ("duplicate keys are an invalid request", b'{"cpt": "59325", "pregnant": true, "pregnant": false}',
     "invalid_request", "given twice"),
    ("JSON nested 100,000 deep is an invalid request", b"[" * 100_000 + b"]" * 100_000, "invalid_request",
     "nested too deeply"),
    ("the line after all of these is still decided", NK, "not_covered", ""),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_jsonl_batch_keeps_one_record_per_hostile_line(tmp_path: Path, workers: int) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\n".join(line for _, line, _, _ in JSONL_LINES))  # the last line has no line end
    summary = run_batch(str(src), str(dst), workers=workers)
    recs = records(dst)
    assert summary.lines == len(recs) == len(JSONL_LINES)
    assert [r["line"] for r in recs] == list(range(1, len(JSONL_LINES) + 1))
    for (why, _, want, message), rec in zip(JSONL_LINES, recs):
        assert got(rec) == want, why
        assert message in rec.get("error", {}).get("message", ""), why
    assert not list(tmp_path.glob("*.partial*"))


HEADER = "service,cpt,prior_pregnancy_losses,findings,date_of_service"
CSV_ROWS = [
    ("a plain row is decided", "nk_cell_test,,2,,2025-06-01", "not_covered", ""),
    ("a blank line between rows is one record, not skipped", "", "invalid_request", "blank line"),
    ("an unterminated quote spoils its own line, not the rows after it", 'nk_cell_test,"83520,2,,2025-06-01',
     "invalid_request", "unterminated quote"),
    ("the row after a broken quote is still its own row", "inhibin_b_test,,2,,2025-06-01",
     "not_medically_necessary", ""),
    ("a 200,000-character cell is an error record for its row", "nk_cell_test,,2," + "x" * 200_000 + ",2025-06-01",
     "invalid_request", "longer than"),
    ("a superscript two is no count", "nk_cell_test,,\u00b2,,2025-06-01", "invalid_request", "not a whole number"),
    ("a full-width three is no count", "nk_cell_test,,\uff13,,2025-06-01", "invalid_request", "not a whole number"),
    ("a 5,000-digit count is no count", "nk_cell_test,,%s,,2025-06-01" % ("9" * 5000), "invalid_request",
     "not a whole number"),
    ("too many cells", "nk_cell_test,,2,,2025-06-01,surplus", "invalid_request", "6 cells; the header has 5"),
    ("an invalid UTF-8 byte spoils its own row only", "nk_cell_test,,2,,2025-06-01\udcff", "invalid_request",
     "not UTF-8"),
    ("the last row is decided", "nk_cell_test,,3,,2025-06-01", "not_covered", ""),
]


@pytest.mark.parametrize("out_suffix", [".csv", ".jsonl"])
def test_csv_batch_from_excel_keeps_one_record_per_row(tmp_path: Path, out_suffix: str) -> None:
    """A UTF-8 BOM and CRLF line ends (Excel's CSV), and every kind of bad row."""
    src, dst = tmp_path / "in.csv", tmp_path / f"out{out_suffix}"
    body = "\r\n".join([HEADER, *(row for _, row, _, _ in CSV_ROWS)]) + "\r\n"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8", "surrogateescape"))
    run_batch(str(src), str(dst))
    recs = records(dst)
    assert len(recs) == len(CSV_ROWS)
    assert [int(r["line"]) for r in recs] == list(range(2, len(CSV_ROWS) + 2))
    assert [int(r["row"]) for r in recs] == list(range(1, len(CSV_ROWS) + 1))
    for (why, _, want, message), rec in zip(CSV_ROWS, recs):
        assert got(rec) == want, why
        msg = rec.get("error_message") if out_suffix == ".csv" else rec.get("error", {}).get("message", "")
        assert message in (msg or ""), why


CSV_HEADERS = [
    ("a column named twice", "cpt,cpt", "column 'cpt' appears twice"),
    ("a column that is no request field", "service,colour", "unknown column 'colour'"),
    ("a misspelt column gets a suggestion", "service,prior_pregnancy_loses", "did you mean 'prior_pregnancy_losses'"),
    ("an empty column name", "service,", "column 2 has no name"),
    ("an empty file has no header", "", "needs a header row"),
]


@pytest.mark.parametrize("why,header,message", CSV_HEADERS, ids=[w for w, _, _ in CSV_HEADERS])
def test_csv_header_faults_are_refused_before_anything_is_written(
        tmp_path: Path, why: str, header: str, message: str) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_text(header + ("\nnk_cell_test,59325\n" if header else ""))
    with pytest.raises(InvalidRequest) as exc:
        run_batch(str(src), str(dst))
    assert message in exc.value.message
    assert list(tmp_path.iterdir()) == [src]


# -- batch: interrupted, resumed; a worker killed ----------------------------------

SERVICES = ["nk_cell_test", "inhibin_b_test", "ivig", "medication", "karyotyping"]


def distinct_lines(n: int) -> list[str]:
    """n requests no memo can share (each its own date, count and service)."""
    d0 = dt.date(2025, 2, 15)
    return [json.dumps({"service": SERVICES[(i // 6000) % len(SERVICES)], "prior_pregnancy_losses": 2 + (i // 300) % 20,
                        "date_of_service": (d0 + dt.timedelta(days=i % 300)).isoformat()}) for i in range(n)]


N_SLOW = 8000


@pytest.fixture(scope="module")
def slow_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """An input of N_SLOW distinct lines and its records from an uninterrupted run."""
    d = tmp_path_factory.mktemp("slow")
    src, ref = d / "in.jsonl", d / "ref.jsonl"
    src.write_text("".join(x + "\n" for x in distinct_lines(N_SLOW)))
    run_batch(str(src), str(ref))
    return src, ref.read_text().splitlines()


def wait_for(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def resume_point(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
@pytest.mark.slow
def test_an_interrupted_batch_exits_non_zero_keeps_a_partial_file_and_resumes(
        tmp_path: Path, slow_input: tuple[Path, list[str]], sig: int, code: int) -> None:
    """Interrupted mid-run it used to exit 0 with a truncated result."""
    src, ref = slow_input
    out = tmp_path / "out.jsonl"
    partial, point = tmp_path / "out.jsonl.partial", tmp_path / "out.jsonl.partial.json"
    p = subprocess.Popen([*COVKB, "batch", str(src), "-o", str(out)], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: resume_point(point).get("records", 0) > 0 or p.poll() is not None, 60, "the first chunk")
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == code, err
    assert "--resume" in err and "Traceback" not in err
    assert not out.exists() and partial.exists()
    done = resume_point(point)["records"]
    assert 0 < done < N_SLOW
    assert partial.read_text().splitlines()[:done] == ref[:done]
    r = covkb("batch", str(src), "-o", str(out), "--resume")
    assert r.returncode == 0, r.stderr
    assert f"resumed after {done} lines" in r.stderr
    assert out.read_text().splitlines() == ref
    assert not partial.exists() and not point.exists()


def test_resume_refuses_a_changed_input_and_a_missing_partial(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(NK.decode() + "\n")
    with pytest.raises(InvalidRequest, match="nothing to resume"):
        run_batch(str(src), str(out), resume=True)
    (tmp_path / "out.jsonl.partial").write_text("")
    (tmp_path / "out.jsonl.partial.json").write_text(json.dumps({"input_size": 1, "bytes": 0}))
    with pytest.raises(InvalidRequest, match="cannot resume"):
        run_batch(str(src), str(out), resume=True)


def test_a_torn_last_line_is_reported_as_cut_off_not_as_bad_json(tmp_path: Path) -> None:
    """A file still being written used to end in a "not valid JSON" record."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(NK + b"\n" + NK[:20])
    run_batch(str(src), str(out))
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert "outcome" in records[0] and "ends inside this line" in records[1]["error"]["message"]
    # a whole last line without a line end is still a line like any other
    src.write_bytes(NK + b"\n" + NK)
    run_batch(str(src), str(out))
    assert all("outcome" in json.loads(x) for x in out.read_text().splitlines())


def _limit_file_size(limit: int):
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_device_exits_1_in_one_line(tmp_path: Path) -> None:
    """A full disk used to exit 3 (kept for bugs) with Python's OSError."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(NK + b"\n")
    r = covkb("batch", str(src), "-o", "/dev/full")
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "No space left on device" in r.stderr
    assert "Traceback" not in r.stderr and "OSError" not in r.stderr


@pytest.mark.slow
def test_a_write_that_fails_mid_run_keeps_the_lines_done_for_resume(
        tmp_path: Path, slow_input: tuple[Path, list[str]]) -> None:
    src, ref = slow_input
    out = tmp_path / "out.jsonl"
    r = subprocess.run([*COVKB, "batch", str(src), "-o", str(out)], capture_output=True, text=True, timeout=300,
                       preexec_fn=_limit_file_size(1 << 20))
    assert r.returncode == 1, r.stderr
    assert "File too large" in r.stderr and "--resume" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    r = covkb("batch", str(src), "-o", str(out), "--resume")
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == ref


def worker_pids(pid: int) -> list[int]:
    """The batch's spawned worker processes (children running spawn_main)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    out = []
    for k in kids:
        try:
            if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes():
                out.append(k)
        except OSError:
            pass
    return out


@pytest.mark.slow
def test_a_killed_worker_never_hangs_the_batch(tmp_path: Path, slow_input: tuple[Path, list[str]]) -> None:
    """A SIGKILLed worker used to hang the run forever: now its work is redone, or the run fails cleanly."""
    src, ref = slow_input
    out, point = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial.json"
    p = subprocess.Popen([*COVKB, "batch", str(src), "-o", str(out), "--workers", "2"], stderr=subprocess.PIPE,
                         text=True)
    try:
        wait_for(lambda: len(worker_pids(p.pid)) == 2 or p.poll() is not None, 60, "two workers")
        wait_for(lambda: resume_point(point).get("records", 0) > 0 or p.poll() is not None, 60, "the first chunk")
        victims = worker_pids(p.pid)
        if victims:
            os.kill(victims[0], signal.SIGKILL)
        try:  # bounded: a hang fails here (generous: Spark's JVMs may share the 2 cores with this run)
            _, err = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate(timeout=10)
            raise AssertionError(f"the batch hung after its worker was killed; it said: {err[-2000:]}") from None
    finally:
        p.kill()
    if p.returncode == 0:
        assert out.read_text().splitlines() == ref
        assert not victims or "worker process died" in err
    else:
        assert err.count("\n") <= 2 and "Traceback" not in err and "worker" in err


# -- the KnowledgeBase object -------------------------------------------------------

@pytest.mark.parametrize("engine", ["prolog", "asp"])
def test_a_closed_knowledge_base_refuses_further_use(engine: str) -> None:
    k = KnowledgeBase(engine=engine, today=TODAY)
    assert answer(k, {**BASE, "service": "nk_cell_test"})[0] == "not_covered"
    k.close()
    k.close()  # closing twice is fine
    for use in (lambda: k.determine({**BASE, "service": "nk_cell_test"}), lambda: k.vocabulary,
                lambda: k.decision_key({**BASE, "service": "nk_cell_test"})):
        with pytest.raises(KnowledgeBaseClosed):
            use()
    assert issubclass(KnowledgeBaseClosed, CovkbError)


def test_a_prolog_knowledge_base_used_from_another_thread_raises_instead_of_crashing(kb: KnowledgeBase) -> None:
    """pyswip's SWI-Prolog is bound to one thread: another thread used to segfault the process."""
    errors: list[BaseException] = []

    def use() -> None:
        for make in (lambda: kb, lambda: KnowledgeBase(engine="prolog", today=TODAY)):
            try:
                make().determine({**BASE, "service": "nk_cell_test"})
            except BaseException as exc:  # noqa: BLE001 - recorded and checked below
                errors.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join(60)
    assert [type(e) for e in errors] == [EngineError, EngineError]
    assert all("thread" in str(e) for e in errors)
    assert answer(kb, {**BASE, "service": "nk_cell_test"})[0] == "not_covered"  # still fine in its own thread


# -- covkb's cache never serves stale or corrupt facts ------------------------------

def test_the_parsed_facts_cache_follows_edits_and_ignores_a_corrupt_entry(tmp_path: Path, monkeypatch) -> None:
    """Cold start keeps parsed KB facts in a cache folder: an edit (even of the same size, within the same
    millisecond) is parsed again, and a damaged entry is ignored."""
    from covkb.facts import read_facts

    kb_root, cache = tmp_path / "kb", tmp_path / "cache"
    kb_root.mkdir()
    (kb_root / "schema.pl").write_bytes((Path(__file__).parents[1] / "kb" / "schema.pl").read_bytes())
    monkeypatch.setenv("COVKB_KB", str(kb_root))
    monkeypatch.setenv("COVKB_CACHE", str(cache))
    facts = kb_root / "facts.pl"
    facts.write_text('revision_of("2025-02-15").\n')
    assert [str(f) for f in read_facts([facts])] == ['revision_of("2025-02-15").']
    assert len(list(cache.glob("facts-*.json"))) == 2  # the schema and the file
    facts.write_text('revision_of("2024-04-15").\n')  # same size, same mtime tick
    assert [str(f) for f in read_facts([facts])] == ['revision_of("2024-04-15").']
    for entry in cache.glob("facts-*.json"):
        entry.write_text("{not json")
    assert [str(f) for f in read_facts([facts])] == ['revision_of("2024-04-15").']
