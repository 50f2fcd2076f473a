"""Claims as data teams hold them: each request names its payer (policy and
version), kept keys are carried into every record, and ``covkb batch``, the
REST batch and ``determine`` decide a mixed file alike.

queries/batch/mixed_claims.jsonl (and .csv, the same rows) mixes Cigna 0284
and Aetna 0348 requests with a claim_id, a line naming no policy, one naming
a version, one naming a policy that is not installed and one with a field
its policy does not read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from covkb.batch import run_batch
from covkb.errors import CovkbError, InvalidRequest
from covkb.kb import KnowledgeBase

REPO = Path(__file__).resolve().parents[1]
MIXED = REPO / "queries" / "batch" / "mixed_claims.jsonl"
MIXED_CSV = MIXED.with_suffix(".csv")
LINES = [json.loads(x) for x in MIXED.read_text().splitlines()]


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("mixed") / "out.jsonl"
    run_batch(str(MIXED), str(out), keep=["claim_id"])
    return [json.loads(x) for x in out.read_text().splitlines()]


@pytest.fixture(scope="module")
def kbs():
    made: dict[str | None, KnowledgeBase] = {}
    yield made
    for kb in made.values():
        kb.close()


def alone(kbs: dict, line: dict) -> dict:
    """The line decided alone, as `covkb determine --policy P --version V` decides it."""
    req = {k: v for k, v in line.items() if k not in ("claim_id", "policy", "version")}
    try:
        if line.get("policy") not in kbs:
            kbs[line.get("policy")] = KnowledgeBase(policy=line.get("policy"))
        d = kbs[line["policy"] if "policy" in line else None].determine(req, explain=False,
                                                                       version=line.get("version"))
    except CovkbError as err:
        return {"claim_id": line["claim_id"], "error": err.to_dict()}
    return {"claim_id": line["claim_id"], **{k: v for k, v in d.to_dict(explanation=False).items()
                                             if k != "citations"}}


@pytest.mark.parametrize("n", range(1, len(LINES) + 1), ids=[x["claim_id"] for x in LINES])
def test_a_mixed_batch_equals_each_line_decided_alone_by_its_policy(records, kbs, n: int) -> None:
    line, rec = LINES[n - 1], dict(records[n - 1])
    assert rec.pop("line") == n
    if line.get("policy") == "united_1234":
        assert rec == {"claim_id": line["claim_id"], "error": {
            "code": "unknown_policy", "message": "policy 'united_1234' is not installed; installed are aetna_0348, "
                                                 "cigna_0284"}}
        return
    assert rec == alone(kbs, line)
    if "outcome" in rec:  # the record names the policy and version that decided it
        want = {"cigna_0284": "cigna-0284", None: "cigna-0284"}.get(line.get("policy"), line.get("policy"))
        assert rec["policy"] == want
        assert rec["version"] == line.get("version", rec["version"])


def test_a_mixed_file_decides_both_policies(records) -> None:
    assert {r.get("policy") for r in records} >= {"cigna-0284", "aetna-0348"}
    assert sum("error" in r for r in records) == 4


def test_the_csv_form_of_the_mixed_file_gives_the_same_records(records, tmp_path: Path) -> None:
    """Except a field its policy does not read: in CSV an empty cell is no field, a filled one the row's error."""
    out = tmp_path / "out.jsonl"
    run_batch(str(MIXED_CSV), str(out), keep="claim_id,".split(","))
    got = [json.loads(x) for x in out.read_text().splitlines()]
    for rec, want in zip(got, records):
        assert rec.pop("row") == rec["line"] - 1
        rec["line"] -= 1
        if "substance" in LINES[want["line"] - 1] and LINES[want["line"] - 1]["policy"] == "aetna_0348":
            assert rec["error"]["message"].startswith("column 'substance' is not a request field of policy "
                                                      "aetna-0348, this row's policy")
            continue
        assert rec == want


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_kept_keys_round_trip(tmp_path: Path, suffix: str) -> None:
    """Every record, errors included, carries its claim_id unchanged; in CSV output beside line and row."""
    out = tmp_path / f"out{suffix}"
    run_batch(str(MIXED), str(out), keep=["claim_id"], citations=True)
    if suffix == ".jsonl":
        ids = [json.loads(x)["claim_id"] for x in out.read_text().splitlines()]
    else:
        rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
        assert list(rows[0])[:5] == ["line", "row", "claim_id", "outcome", "statement"]
        assert {"policy", "version"} <= set(rows[0])
        assert {"summary", "citations"} <= set(rows[0])
        cited = next(r for r in rows if r["outcome"] == "medically_necessary")
        assert "Overview: This Coverage Policy addresses recurrent pregnancy loss." in cited["citations"].split("\n")
        ids = [r["claim_id"] for r in rows]
    assert ids == [x["claim_id"] for x in LINES]


def test_a_column_neither_kept_nor_a_request_field_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="unknown column 'claim_id'"):
        run_batch(str(MIXED_CSV), str(tmp_path / "out.jsonl"))
    with pytest.raises(InvalidRequest, match="a record has a field 'outcome' of its own"):
        run_batch(str(MIXED_CSV), str(tmp_path / "out.jsonl"), keep=["claim_id", "outcome"])


BAD_ROUTES = [
    ('{"policy": "united_1234", "service": "ivig"}', "unknown_policy", "policy 'united_1234' is not installed"),
    ('{"policy": "cigna_284", "service": "ivig"}', "unknown_policy", "(did you mean 'cigna_0284'?)"),
    ('{"policy": "../kb/policies/cigna_0284", "service": "ivig"}', "unknown_policy", "is not installed"),
    ('{"policy": 284, "service": "ivig"}', "unknown_policy", "284 is not a policy id"),
    ('{"version": "/etc/passwd", "service": "ivig"}', "invalid_request", "version ids only"),
    ('{"version": "1999-01-01", "service": "ivig"}', "version_not_available", "1999-01-01"),
]


@pytest.mark.parametrize(("line", "code", "words"), BAD_ROUTES, ids=[b[1] + ":" + b[0][:30] for b in BAD_ROUTES])
def test_a_bad_route_is_that_lines_error_record(tmp_path: Path, line: str, code: str, words: str) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = '{"claim_id": 7, "service": "nk_cell_test", "prior_pregnancy_losses": 2, "date_of_service": "2025-06-01"}'
    src.write_text(f"{good}\n{line[:-1]}, \"claim_id\": 8}}\n{good}\n")
    run_batch(str(src), str(out), keep=["claim_id"])
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["line"] for r in recs] == [1, 2, 3] and [r["claim_id"] for r in recs] == [7, 8, 7]
    assert recs[0]["outcome"] == recs[2]["outcome"] == "not_covered"
    assert recs[1]["error"]["code"] == code and words in recs[1]["error"]["message"]


def test_determine_reads_the_requests_own_policy(tmp_path: Path) -> None:
    aetna = next(x for x in LINES if x.get("policy") == "aetna-0348")
    req = {k: v for k, v in aetna.items() if k != "claim_id"}
    with KnowledgeBase(policy="aetna_0348") as kb:
        assert kb.determine(req, explain=False).policy == "aetna-0348"
    with KnowledgeBase(policy="cigna_0284") as kb, pytest.raises(InvalidRequest, match="names policy 'aetna-0348'"):
        kb.determine(req)


@pytest.mark.slow
def test_the_rest_batch_gives_the_same_records(records) -> None:
    """POST /v1/batch?keep=claim_id on a real server (its pool of engine workers): the records of covkb batch."""
    import httpx
    from service_server import Server

    server = Server("--mode", "pool", workers=1, today=None)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            r = client.post("/v1/batch", params={"keep": "claim_id"}, content=MIXED.read_bytes(),
                            headers={"content-type": "application/x-ndjson"})
            assert r.status_code == 200, r.text
            assert [json.loads(x) for x in r.text.splitlines()] == records
            refused = client.post("/v1/batch", params={"keep": "outcome"}, content=MIXED.read_bytes(),
                                  headers={"content-type": "application/x-ndjson"})
            assert refused.status_code == 422 and "of its own" in refused.text
            one = client.post("/v1/determine", params={"explain": "false"}, json=LINES[1] | {"claim_id": None})
            assert one.status_code == 422 and "claim_id" in one.text  # determine keeps nothing: an unknown field
            aetna = {k: v for k, v in LINES[1].items() if k != "claim_id"}
            d = client.post("/v1/determine", params={"explain": "false"}, json=aetna).json()
            assert d["policy"] == "aetna-0348" and d["outcome"] == records[1]["outcome"]
    finally:
        server.stop()
