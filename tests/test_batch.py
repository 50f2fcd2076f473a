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
