"""The draft workspace through the REST API of a real server on 127.0.0.1
(tests/service_server.py), its drafts kept in SQLite and in a real PostgreSQL
(`--store URL`, a throwaway cluster: tests/postgres.py).

What is asserted: a draft is created, read, listed, revised (a stale revision
refused with 409) and reviewed; `version=draft:ID` decides a determination,
a batch's lines, a check, a diff and a compare by it, never answered from
the front's memo past an edit; its export is a .tar.gz (or JSON) of the files
that make it a version; bad input is an RFC 9457 problem in one line (404,
409, 413, 415, 422, 400).
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from typing import Any

import httpx
import pytest
from postgres import fresh_database
from test_workspace import AHI_15, EXAMPLE, TESTS, TIGHTEN

pytestmark = pytest.mark.slow  # starts servers
BASE = 'revision_of = "2026-01-01"\n'  # a draft that changes nothing


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server whose knowledge base is kb/ with the example policy installed beside, its store
    a new SQLite file or a new PostgreSQL database."""
    from service_server import REPO, Server

    d = tmp_path_factory.mktemp("drafts")
    shutil.copytree(REPO / "kb", d / "kb")
    shutil.copytree(EXAMPLE, d / "kb" / "policies" / "example_pap")
    url = (f"sqlite:///{d / 'store.sqlite3'}" if request.param == "sqlite"
           else fresh_database(request.getfixturevalue("postgres_url")))
    # the example policy the default: what a server process loads before it serves is small
    s = Server("--store", url, "--policy", "example_pap", workers=1, today="2026-06-01",
               env={"COVKB_KB": str(d / "kb"), "COVKB_STATE": str(d / "state")})
    s.client = httpx.Client(base_url=s.url, timeout=120)
    yield s
    s.client.close()
    s.stop()


def problem(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code and "\n" not in body["detail"] and "Traceback" not in r.text
    return body["detail"]


def test_a_draft_round_trip(server: Any) -> None:
    c = server.client
    r = c.post("/v1/drafts", json={"policy": "example_pap", "text": TIGHTEN, "note": "tighten", "author": "ana",
                                   "tests": TESTS})
    assert r.status_code == 201, r.text
    made = r.json()
    did, version = made["id"], made["version"]
    assert (made["revision"], made["revision_of"], made["findings"]["check"]["ok"]) == (1, "2026-01-01", True)
    assert c.get(f"/v1/drafts/{did}").json() == made  # the shareable link reads the same draft
    assert [d["id"] for d in c.get("/v1/drafts", params={"policy": "example_pap"}).json()["drafts"]] == [did]

    def decide() -> str:
        r = c.post("/v1/determine", params={"version": version, "policy": "example_pap"}, json=AHI_15)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
        return r.json()["outcome"]

    assert decide() == "criteria_not_met"
    lines = c.post("/v1/batch", params={"version": version, "policy": "example_pap"},
                   content=f"{json.dumps(AHI_15)}\n{{}}\n", headers={"content-type": "application/x-ndjson"})
    records = [json.loads(x) for x in lines.text.splitlines()]
    assert records[0]["outcome"] == "criteria_not_met" and records[0]["version"] == version
    assert records[1]["error"]["code"] and len(records) == 2
    assert c.get(f"/v1/policies/example_pap/versions/{version}/check").json()["ok"] is True
    diff = c.get("/v1/policies/example_pap/diff", params={"a": "2026-01-01", "b": version}).json()
    assert diff["to"] == version and diff["impact"]["restrict_coverage"] == 2  # AHI 20, not 15; a nadir below 85, not 88
    compare = c.get("/v1/compare", params={"a": f"example_pap@{version}", "b": "example_pap@2026-01-01"})
    assert compare.status_code == 200 and compare.json()["differences"] >= 1

    review = c.get(f"/v1/drafts/{did}/review").json()
    assert review["tests_summary"] == {"passed": 1, "failed": 1, "total": 2}
    assert review["tests"][1]["regions"] and review["diff"]["regions"][review["tests"][1]["regions"][0]][
        "after"]["outcome"] == "criteria_not_met"

    problem(c.put(f"/v1/drafts/{did}", json={"text": BASE, "revision": 7}), 409, "conflict")
    problem(c.put(f"/v1/drafts/{did}", json={"text": BASE}), 422, "invalid_request")  # an edit names its revision
    r = c.put(f"/v1/drafts/{did}", json={"text": BASE, "revision": 1, "note": "undo"})
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert decide() == "medically_necessary"  # the edit is read at once: no answer is remembered past it
    history = c.get(f"/v1/drafts/{did}", params={"history": "true"}).json()["revisions"]
    assert [(h["revision"], h["text"]) for h in history] == [(1, TIGHTEN), (2, BASE)]

    r = c.put(f"/v1/drafts/{did}", json={"text": TIGHTEN, "revision": 2})
    # the draft page's form as a call: one common change, a new revision, its tests kept
    edit = {"kind": "list_code", "code": "E0601", "service": "bilevel_device"}
    problem(c.post(f"/v1/drafts/{did}/edits", json={"edit": edit, "revision": 2}), 409, "conflict")
    problem(c.post(f"/v1/drafts/{did}/edits", json={"edit": edit}), 422, "invalid_request")
    problem(c.post(f"/v1/drafts/{did}/edits", json={"edit": {"kind": "rename"}, "revision": 3}), 422, "invalid_draft")
    r = c.post(f"/v1/drafts/{did}/edits", json={"edit": edit, "revision": 3, "note": "E0601 for bilevel too"})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["revision"], edited["note"], len(edited["tests"])) == (4, "E0601 for bilevel too", len(TESTS))
    assert edited["text"].startswith(TIGHTEN) and "E0601" in edited["text"][len(TIGHTEN):]
    exported = c.get(f"/v1/drafts/{did}/export", params={"format": "json"}).json()
    tar = c.get(f"/v1/drafts/{did}/export")
    assert tar.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(tar.content)) as t:
        files = {m.name: t.extractfile(m).read().decode() for m in t.getmembers()}
    assert files == exported["files"]
    vid = exported["version"]
    assert any(p.endswith(f"/{vid}/draft.pl") for p in files)
    assert sorted(p.rsplit("/", 1)[1] for p in files if "/queries/" in p) == sorted(f"{t['name']}.json" for t in TESTS)


BAD: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/v1/drafts/no-such-draft", {}, 404, "unknown_draft"),
    ("GET", "/v1/drafts/no-such-draft/review", {}, 404, "unknown_draft"),
    ("PUT", "/v1/drafts/no-such-draft", {"json": {"text": BASE, "revision": 1}}, 404, "unknown_draft"),
    ("POST", "/v1/determine?version=draft:no-such-draft", {"json": AHI_15}, 404, "unknown_draft"),
    ("POST", "/v1/drafts", {"json": {"policy": "example_pap", "text": "x" * (256 * 1024 + 1)}}, 413, "too_large"),
    ("POST", "/v1/drafts", {"json": {"policy": "example_pap", "text": BASE, "tests": [{"name": "x"}]}}, 422,
     "invalid_request"),
    ("POST", "/v1/drafts", {"json": {"policy": "example_pap", "text": BASE, "run": "halt."}}, 422, "invalid_request"),
    ("POST", "/v1/drafts", {"json": {"text": BASE}}, 422, "invalid_request"),
    ("POST", "/v1/drafts", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     "malformed_body"),
    ("POST", "/v1/drafts", {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}, 400,
     "malformed_body"),
    ("POST", "/v1/drafts", {"content": b"text = 1", "headers": {"content-type": "text/plain"}}, 415,
     "unsupported_media_type"),
    ("GET", "/v1/policies/example_pap/versions/draft:a%2Fb/check", {}, 404, "not_found"),
]


@pytest.mark.parametrize("method, path, send, status, code", BAD, ids=[f"{b[0]} {b[1]} {b[3]}" for b in BAD])
def test_bad_input_is_a_problem_in_one_line(server: Any, method: str, path: str, send: dict[str, Any], status: int,
                                            code: str) -> None:
    problem(server.client.request(method, path, **send), status, code)


def test_a_draft_that_does_not_compile_is_kept_and_deciding_by_it_is_a_422(server: Any) -> None:
    c = server.client
    r = c.post("/v1/drafts", json={"policy": "example_pap", "text": BASE + "[[drop]]\n"})
    assert r.status_code == 201 and r.json()["findings"]["compiles"] is False
    version = r.json()["version"]
    said = problem(c.post("/v1/determine", params={"version": version}, json=AHI_15), 422, "invalid_draft")
    assert "[[drop]] needs 'statement'" in said
    review = c.get(f"/v1/drafts/{r.json()['id']}/review").json()
    assert review["error"]["code"] == "invalid_draft" and review["diff"] is None
