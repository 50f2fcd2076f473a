"""Batch runs: lines in == lines out, in order, bad lines as error records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covkb.batch import run_batch

LINES = [
    ('{"service": "nk_cell_test", "prior_pregnancy_losses": 2, "date_of_service": "2025-06-01"}', "not_covered"),
    ("not json", "invalid_request"),
    ("", "invalid_request"),  # an empty line
    ('{"service": "tac"}', "unknown_id"),
    ('["a", "list"]', "invalid_request"),
    ('{"cpt": "59325", "pregnant": false}', "invalid_request"),
    ('{"service": "transabdominal_cerclage", "pregnant": true, "prior_pregnancy_losses": 3, '
     '"findings": ["cone_biopsy"], "date_of_service": "2025-06-01"}', "medically_necessary"),
    ('{"service": "nk_cell_test", "prior_pregnancy_losses": 2, "date_of_service": "2025-06-01"}', "not_covered"),
]


def outcome(rec: dict) -> str:
    return rec["error"]["code"] if "error" in rec else rec["outcome"]


@pytest.mark.parametrize("workers", [1, 2])
def test_jsonl_batch_keeps_every_line_in_order(tmp_path: Path, workers: int) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(line + "\n" for line, _ in LINES * 300))
    summary = run_batch(str(src), str(dst), workers=workers)
    recs = [json.loads(x) for x in dst.read_text().splitlines()]
    assert len(recs) == summary.lines == len(LINES) * 300
    assert [r["line"] for r in recs] == list(range(1, len(recs) + 1))
    assert [outcome(r) for r in recs] == [o for _, o in LINES] * 300
    assert summary.errors == 5 * 300


def test_csv_batch_reports_bad_rows_with_their_line_numbers(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(
        "service,cpt,pregnant,prior_pregnancy_losses,findings,date_of_service\n"
        "transabdominal_cerclage,,true,3,cone_biopsy;shortened_cervical_length,2025-06-01\n"
        "nk_cell_test,,,two,,2025-06-01\n"
        ",83520,,2,,2025-06-01\n"
        "ivig,,maybe,3,,2025-06-01\n"
        "nk_cell_test,,,2,,2025-06-01,surplus\n"
    )
    run_batch(str(src), str(dst))
    import csv

    rows = list(csv.DictReader(dst.open()))
    got = [(r["line"], r["outcome"] or r["error_code"]) for r in rows]
    assert got == [("2", "medically_necessary"), ("3", "invalid_request"), ("4", "insufficient_information"),
                   ("5", "invalid_request"), ("6", "invalid_request")]
    assert rows[0]["criteria_met"] == "prior_cervical_trauma;shortened_cervical_length"
    assert rows[2]["missing"] == "analyte"


# -- memos never change an answer -------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import covkb.batch as batch_module  # noqa: E402
from covkb import CovkbError  # noqa: E402
from covkb.request import request_json  # noqa: E402

D = {"date_of_service": "2025-06-01"}
POOL = [json.dumps({**D, **r}) for r in (
    {"service": "nk_cell_test", "prior_pregnancy_losses": 2},
    {"service": "nk_cell_test", "prior_pregnancy_losses": 2, "findings": ["cone_biopsy"]},  # a finding that cannot matter
    {"service": "nk_cell_test", "prior_pregnancy_losses": 1},
    {"cpt": "59325", "prior_pregnancy_losses": 3, "findings": ["cone_biopsy"]},
    {"cpt": "59325", "prior_pregnancy_losses": 3},
    {"cpt": "59325", "prior_pregnancy_losses": 3, "unknown_findings": ["cone_biopsy"]},
    {"cpt": "83520", "prior_pregnancy_losses": 2},
    {"cpt": "83520", "prior_pregnancy_losses": 2, "analyte": "inhibin_b"},
    {"cpt": "83520", "prior_pregnancy_losses": 2, "analyte": "none"},
    {"cpt": "96365", "substance": "ivig", "diagnoses": ["N96"]},
    {"service": "transvaginal_cerclage", "pregnant": True, "prior_pregnancy_losses": 2},
    {"cpt": "59325", "pregnant": False},
    {"service": "tac"},
)] + ["not json", "", '["a list"]']


def expected(kb, line: str) -> dict:
    """The record of one line decided alone, with no memo."""
    try:
        d = kb.determine(request_json(line), explain=False).to_dict(explanation=False)
    except CovkbError as err:
        return {"error": err.to_dict()}
    del d["citations"]
    return d


@pytest.mark.parametrize("workers,examples", [(1, 25), (2, 5)])
@pytest.mark.slow
def test_batch_equals_deciding_each_line_alone(kb, tmp_path_factory, workers: int, examples: int) -> None:
    """Line memo, worker memo and decision keys, with chunks and memos made tiny so every path runs."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.sampled_from(POOL), min_size=1, max_size=40))
    def check(lines: list[str]) -> None:
        d = tmp_path_factory.mktemp("h")
        src, dst = d / "in.jsonl", d / "out.jsonl"
        src.write_text("".join(x + "\n" for x in lines))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(batch_module, "CHUNK", 3)
            mp.setattr(batch_module, "MEMO_LIMIT", 2)
            run_batch(str(src), str(dst), workers=workers)
        recs = [json.loads(x) for x in dst.read_text().splitlines()]
        assert [r.pop("line") for r in recs] == list(range(1, len(lines) + 1))
        assert recs == [expected(kb, x) for x in lines]

    check()


@pytest.mark.slow
def test_two_workers_with_a_full_line_memo_keep_every_line(tmp_path: Path, monkeypatch) -> None:
    """Regression: with the line memo full, a line awaited from an earlier chunk in flight raised
    KeyError ('internal error', exit 3) part-way through a 2-worker run."""
    monkeypatch.setattr(batch_module, "MEMO_LIMIT", 10)
    monkeypatch.setattr(batch_module, "CHUNK", 16)
    lines = [json.dumps({**D, "cpt": "59325", "prior_pregnancy_losses": 2 + i % 40, "unlisted_findings": "absent"})
             for i in range(400)]
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(x + "\n" for x in lines))
    summary = run_batch(str(src), str(dst), workers=2)
    recs = [json.loads(x) for x in dst.read_text().splitlines()]
    assert summary.lines == len(recs) == 400 and summary.errors == 0
    assert {r["outcome"] for r in recs} == {"criteria_not_met"}


HEADER = "service,prior_pregnancy_losses,date_of_service\n"
GOOD = "nk_cell_test,3,2025-06-01\n"
# (what the CSV does, its rows after the header, the records wanted: (line, an outcome or error words))
CSV_CASES = [
    ("a quoted line break stays inside its record",
     GOOD + '"ivig",3,"2025-\n06-01"\n' + GOOD,
     [(2, "not_covered"), (3, "date_of_service"), (5, "not_covered")]),
    ("a doubled quote is a quote in the cell",
     'nk_cell_test,3,2025-06-01\n"nk_""cell",3,2025-06-01\n',
     [(2, "not_covered"), (3, 'nk_"cell')]),
    ("an unterminated quote loses nothing: each line after it is a record of its own",
     GOOD + '"nk_cell_test,3,2025-06-01\n' + GOOD + GOOD,
     [(2, "not_covered"), (3, "unterminated quote"), (4, "not_covered"), (5, "not_covered")]),
    ("a quote that closes lines later but into no record swallows nothing",
     GOOD + '"nk_cell_test,3,2025-06-01\n' + GOOD + 'nk_cell_test,3,"2025-06-01\n' + GOOD,
     [(2, "not_covered"), (3, "unterminated quote"), (4, "not_covered"), (5, "unterminated quote"),
      (6, "not_covered")]),
]


@pytest.mark.parametrize(("what", "rows", "want"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_is_read_as_rfc_4180_says(tmp_path: Path, what: str, rows: str, want: list) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_text(HEADER + rows)
    run_batch(str(src), str(out))
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [n for n, _ in want]
    for rec, (_, words) in zip(records, want):
        assert words == rec.get("outcome") or words in rec.get("error", {}).get("message", ""), rec
