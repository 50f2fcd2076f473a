"""The decision store (covkb.store) against SQLite (a temporary file) and a real
PostgreSQL (a throwaway cluster: tests/postgres.py), the same cases on both.

What is asserted: the schema migrates from empty to Alembic's head and equals
the models (and goes down and up again); a decision survives a restart (read
back by another process); processes racing on one store migrate it once, and
exactly one of them saves a key, uses a JWT id first, reviews a decision or
makes a secret; expired ids are forgotten; reviews of an unknown key, or a
second review, and bad values are refused with a coded CovkbError.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
from typing import Any

import pytest
from postgres import fresh_database
from sqlalchemy import create_engine, select, text

from covkb import CovkbError
from covkb.errors import InvalidRequest
from covkb.policy import Policy
from covkb.store import (HEAD, JTI_GRACE, AlreadyReviewed, DuplicateDecision, Store, StoreError, UnknownDecision,
                         kb_digest, models)
from covkb.store import head

UTC = dt.timezone.utc
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.slow)]
PROCESSES = 4  # racing processes (bounded: two cores)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(url: str):
    with Store.open(url) as s:
        yield s


def decision_args(key: str, kind: str = "pas", status: str = "pended") -> dict[str, Any]:
    return {"kind": kind, "key": key, "policy": "example_pap", "version": "2024-01-01", "kb_digest": "0" * 64,
            "request": {"service": "x", "facts": {"n": 1}, "quote": "“unicode” ✓"},
            "answer": {"outcome": "insufficient_information", "missing": ["a", "b"]}, "status": status}


# -- migrations ---------------------------------------------------------------------------
def test_migrates_from_empty_to_head_and_equals_the_models(url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    Store.open(url).close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head() == HEAD
            diff = compare_metadata(MigrationContext.configure(conn), models.metadata)
    finally:
        engine.dispose()
    assert diff == []
    Store.open(url).close()  # at head already: opening again changes nothing


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'wal.sqlite3'}") as s, s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_store_of_an_older_revision_is_brought_to_head_with_its_decisions(url: str) -> None:
    from covkb.store import _engine, migrate

    engine = _engine(url)
    try:
        migrate(engine, "0001")  # a store made before secrets were kept
        with engine.begin() as conn:
            conn.execute(models.decisions.insert().values(
                kind="pas", key="OLD-1", policy="p", version="v", kb_digest="d", request={"a": 1}, answer={},
                status="pended", created_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))
            assert "secrets" not in _tables(conn)
    finally:
        engine.dispose()
    with Store.open(url) as s:
        assert s.decision("OLD-1").created == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert s.secret("k", lambda: {"v": 1}) == {"v": 1}


def test_every_revision_goes_down_and_up_again(url: str) -> None:
    from covkb.store import _engine, migrate

    engine = _engine(url)
    try:
        migrate(engine)
        migrate(engine, "base", down=True)
        with engine.connect() as conn:
            assert _tables(conn) <= {"alembic_version"}
        migrate(engine)
        with engine.connect() as conn:
            assert _tables(conn) == {"alembic_version", "decisions", "reviews", "jtis", "clients", "secrets", "drafts",
                                     "draft_revisions", "users", "web_sessions", "login_failures"}
    finally:
        engine.dispose()


def _tables(conn: Any) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())


# -- decisions ----------------------------------------------------------------------------
READ_BACK = """
import json, sys
from covkb.store import Store
with Store.open(sys.argv[1]) as s:
    d = s.decision(sys.argv[2])
    print(json.dumps(d.to_dict() if d else None))
"""


def test_a_decision_survives_a_restart(url: str) -> None:
    with Store.open(url) as s:
        saved = s.save_decision(**decision_args("PA-1"), detail={"questionnaire": "Q/1"})
        s.record_review("PA-1", action="approved", reason="criteria met on review", reviewer="dr.a")
    # another process: the server restarted
    out = subprocess.run([sys.executable, "-c", READ_BACK, url, "PA-1"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    again = json.loads(out)
    assert again["request"] == saved.request and again["answer"] == saved.answer
    assert again["detail"] == {"questionnaire": "Q/1"} and again["status"] == "approved"
    assert again["created"] == saved.created.isoformat() and saved.created.tzinfo == UTC
    assert [(r["action"], r["reviewer"], r["reason"]) for r in again["reviews"]] == [
        ("approved", "dr.a", "criteria met on review")]


# (saved: (kind, key, status)..., asked: decisions(**filter), expected keys in order)
LISTINGS = [
    pytest.param({}, ["A", "B", "C", "D"], id="all"),
    pytest.param({"kind": "pas"}, ["A", "B", "D"], id="pas"),
    pytest.param({"kind": "crd"}, ["C"], id="crd"),
    pytest.param({"status": "pended"}, ["A", "D"], id="pended"),
    pytest.param({"kind": "pas", "status": "denied"}, ["B"], id="pas-denied"),
    pytest.param({"kind": "crd", "status": "pended"}, [], id="none"),
]


@pytest.mark.parametrize("asked, expected", LISTINGS)
def test_decisions_lists_by_kind_and_status(store: Store, asked: dict[str, str], expected: list[str]) -> None:
    for key, kind, status in (("A", "pas", "pended"), ("B", "pas", "denied"), ("C", "crd", "conditional"),
                              ("D", "pas", "pended")):
        store.save_decision(**decision_args(key, kind, status))
    assert [d.key for d in store.decisions(**asked)] == expected
    assert store.decision("nowhere") is None


def _review(store: Store, key: str = "PA-1") -> None:
    store.record_review(key, action="denied", reason="not medically necessary", reviewer="dr.b")


# each case: what is done before, the refused call, the error class and code expected
REFUSED = [
    pytest.param([], lambda s: _review(s, "PA-404"), UnknownDecision, "unknown_decision", id="review-unknown-key"),
    pytest.param(["save"], _review, None, None, id="first-review-taken"),
    pytest.param(["save", "review"], _review, AlreadyReviewed, "already_reviewed", id="second-review"),
    pytest.param(["save"], lambda s: s.save_decision(**decision_args("PA-1")), DuplicateDecision,
                 "duplicate_decision", id="same-key-twice"),
    pytest.param([], lambda s: s.save_decision(**decision_args("PA-2", kind="claim")), InvalidRequest,
                 "invalid_request", id="unknown-kind"),
    pytest.param(["save"], lambda s: s.record_review("PA-1", action="approved", reason=" ", reviewer="dr.c"),
                 InvalidRequest, "invalid_request", id="review-without-reason"),
    pytest.param([], lambda s: s.save_client("c", jwks={"kty": "EC"}, scopes=[]), InvalidRequest,
                 "invalid_request", id="client-jwks-not-a-set"),
    pytest.param([], lambda s: s.save_decision(**decision_args("K" * 256)), InvalidRequest, "invalid_request",
                 id="key-too-long"),
    pytest.param([], lambda s: s.save_decision(**{**decision_args("PA-3"), "answer": {"at": dt.date.today()}}),
                 InvalidRequest, "invalid_request", id="answer-not-json"),
    pytest.param([], lambda s: s.use_jti("iss", "", dt.datetime.now(UTC)), InvalidRequest, "invalid_request",
                 id="empty-jti"),
]


@pytest.mark.parametrize("before, call, error, code", REFUSED)
def test_refused_with_a_coded_error(store: Store, before: list[str], call, error, code) -> None:
    for step in before:
        store.save_decision(**decision_args("PA-1")) if step == "save" else _review(store)
    if error is None:
        call(store)
        assert store.decision("PA-1").status == "denied"
        return
    with pytest.raises(error) as caught:
        call(store)
    assert isinstance(caught.value, CovkbError) and caught.value.code == code
    assert "\n" not in str(caught.value)
    if "PA-1" in [d.key for d in store.decisions()]:  # a refused review changes nothing
        assert len(store.decision("PA-1").reviews) == len([s for s in before if s == "review"])


# -- JWT ids ------------------------------------------------------------------------------
def _race(url: str, barrier: Any, jtis: list[str]) -> dict[str, Any]:
    """One of the racing processes: each step taken by all at the same moment (the barrier)."""
    barrier.wait(timeout=60)
    with Store.open(url) as s:  # an empty database: every process migrates, one at a time
        out: dict[str, Any] = {"opened": len(s.decisions())}
        barrier.wait(timeout=60)
        try:
            s.save_decision(**decision_args("RACE"))
            out["saved"] = "saved"
        except DuplicateDecision as err:
            out["saved"] = err.code
        expires = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
        out["jtis"] = []
        for jti in jtis:
            barrier.wait(timeout=60)
            out["jtis"].append(s.use_jti("https://ehr.example/", jti, expires))
        barrier.wait(timeout=60)
        try:
            s.record_review("RACE", action="approved", reason="criteria met", reviewer=f"dr.{os.getpid()}")
            out["reviewed"] = "reviewed"
        except AlreadyReviewed as err:
            out["reviewed"] = err.code
        barrier.wait(timeout=60)
        out["secret"] = s.secret("signing-key", lambda: {"made by": os.getpid()})
        return out


def test_processes_racing_on_one_store_each_thing_happens_once(url: str) -> None:
    """Processes open an empty store together, then save one key, use the same JWT ids,
    review one decision and ask for one secret, each at the same moment: one migration,
    one save, one first use of each id, one review, one secret; the others refused."""
    jtis = [f"jti-{i}" for i in range(5)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with ctx.Pool(PROCESSES) as pool:
            results = pool.starmap(_race, [(url, barrier, jtis)] * PROCESSES, chunksize=1)
    assert [r["opened"] for r in results] == [0] * PROCESSES
    assert sorted(r["saved"] for r in results) == ["duplicate_decision"] * (PROCESSES - 1) + ["saved"]
    assert [sum(r["jtis"][i] for r in results) for i in range(len(jtis))] == [1] * len(jtis)
    assert sorted(r["reviewed"] for r in results) == ["already_reviewed"] * (PROCESSES - 1) + ["reviewed"]
    assert len({json.dumps(r["secret"]) for r in results}) == 1  # one secret, whoever made it
    with Store.open(url) as s:
        assert len(s.decision("RACE").reviews) == 1


def test_expired_jtis_are_forgotten(store: Store, url: str) -> None:
    now = dt.datetime.now(UTC)
    old = now - JTI_GRACE - dt.timedelta(minutes=1)
    assert store.use_jti("iss", "old", old) is True
    assert store.use_jti("iss", "live", now + dt.timedelta(minutes=5)) is True
    assert store.use_jti("iss", "live", now + dt.timedelta(minutes=5)) is False      # a replay
    assert store.use_jti("other-iss", "live", now + dt.timedelta(minutes=5)) is True  # ids are per issuer
    assert store.use_jti("iss", "naive", (now + dt.timedelta(minutes=5)).replace(tzinfo=None)) is True
    assert store.use_jti("iss", "recent", now - JTI_GRACE + dt.timedelta(minutes=1)) is True  # within the grace
    assert _jtis(store) == {"old", "live", "naive", "recent"}
    with Store.open(url) as restarted:  # a process's first use purges
        assert restarted.use_jti("iss", "next", now + dt.timedelta(minutes=5)) is True
    assert _jtis(store) == {"live", "naive", "recent", "next"}
    assert store.use_jti("iss", "old2", old) is True
    assert store.purge_jtis() == 1 and "old2" not in _jtis(store)


def _jtis(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(select(models.jtis.c.jti)).scalars())


# -- clients ------------------------------------------------------------------------------
def test_clients_are_registered_and_replaced(store: Store) -> None:
    jwks = {"keys": [{"kty": "EC", "crv": "P-384", "kid": "k1", "x": "AA", "y": "BB"}]}
    assert store.client("ehr") is None
    store.save_client("ehr", jwks=jwks, scopes=["system/Claim.c"])
    assert store.client("ehr").scopes == ("system/Claim.c",) and store.client("ehr").jwks == jwks
    store.save_client("ehr", jwks={"keys": []}, scopes=["system/Questionnaire.r", "system/Claim.c"])
    assert store.client("ehr").jwks == {"keys": []}
    assert store.client("ehr").scopes == ("system/Questionnaire.r", "system/Claim.c")


def test_a_secret_is_made_once_and_kept(store: Store, url: str) -> None:
    made = []
    first = store.secret("signing-key", lambda: made.append(1) or {"kty": "EC", "d": "x"})
    with Store.open(url) as restarted:
        assert restarted.secret("signing-key", lambda: made.append(2) or {"other": 1}) == first
    assert made == [1] and first == {"kty": "EC", "d": "x"}
    with pytest.raises(InvalidRequest):
        store.secret("bad", lambda: ["not", "an", "object"])


# -- opening ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, says", [
    pytest.param("not a url", "not a database URL", id="not-a-url"),
    pytest.param("mysql://u:secret@host/db", "SQLite or PostgreSQL", id="other-database"),
    pytest.param("postgresql://u:secret@/db?host=/nonexistent-covkb", "cannot open the store", id="no-server"),
    pytest.param("sqlite:////proc/covkb/store.sqlite3", "cannot open the store", id="unwritable"),
])
def test_a_bad_store_url_is_one_clear_line(bad: str, says: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(bad)
    message = str(caught.value)
    assert says in message and "\n" not in message and "secret" not in message
    assert caught.value.code == "store"


# -- the knowledge base's digest ----------------------------------------------------------
def test_kb_digest_names_a_version_and_its_evaluators() -> None:
    policy = Policy()
    versions = policy.versions
    digests = [kb_digest(policy.data(v)) for v in versions]
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)
    assert kb_digest(policy.data(versions[0])) == digests[0]        # the same text, the same digest
    distinct_texts = {policy.data(v).engine_text for v in versions}
    assert len(set(digests)) == len(distinct_texts)                 # another text, another digest


# -- the service's side -------------------------------------------------------------------
@pytest.mark.parametrize("error, status", [
    pytest.param(UnknownDecision("no decision is kept under 'x'"), 404, id="unknown-404"),
    pytest.param(AlreadyReviewed("reviewed already"), 409, id="reviewed-409"),
    pytest.param(StoreError("the store failed"), 503, id="store-503"),
])
def test_store_errors_answer_with_their_http_status(error: CovkbError, status: int) -> None:
    from covkb.service.problems import from_error

    answer_status, body = from_error(error)
    assert (answer_status, body["status"], body["code"], body["detail"]) == (status, status, error.code, error.message)


def test_serve_with_a_bad_store_is_one_line_before_it_listens() -> None:
    covkb = [sys.executable, "-c", "from covkb.cli import main; main()"]
    proc = subprocess.run([*covkb, "serve", "--port", "0", "--store", "mysql://u:secret@h/db"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["covkb: error: the store runs on SQLite or PostgreSQL, not "
                                                "mysql://u:***@h/db"]


def test_a_worker_opens_the_configured_store_when_first_used(tmp_path) -> None:
    from covkb.service.ops import Worker

    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    worker = Worker({"store": url, "preload_policies": []})
    worker.store.save_decision(**decision_args("CRD-1", kind="crd", status="conditional"))
    with Store.open(url) as s:
        assert s.decision("CRD-1").status == "conditional"


def test_a_jti_kept_on_sqlites_short_path_reads_and_purges_as_sqlalchemys(tmp_path) -> None:
    """Store.use_jti on SQLite is one autocommit statement on the DBAPI connection (its lock held
    briefly): its row is the row SQLAlchemy writes, so replays, purges and reads agree."""
    import time

    from covkb.store import models

    with Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}") as s:
        s._next_purge = time.monotonic() + 3600  # no purge before the rows are compared
        later = dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        with s._tx(write=True) as conn:
            conn.execute(s._use_jti, {"issuer": "iss", "jti": "by-sqlalchemy", "expires_at": later})
        assert s.use_jti("iss", "short-path", later) and not s.use_jti("iss", "short-path", later)
        assert not s.use_jti("iss", "by-sqlalchemy", later)
        with s._tx() as conn:
            stored = dict(conn.execute(select(models.jtis.c.jti, models.jtis.c.expires_at)).all())
            raw = dict(conn.execute(text("SELECT jti, expires_at FROM jtis")).all())
        assert stored["short-path"] == stored["by-sqlalchemy"] and raw["short-path"] == raw["by-sqlalchemy"]
        assert s.use_jti("iss", "expired", dt.datetime.now(UTC) - JTI_GRACE - dt.timedelta(minutes=5))
        assert s.purge_jtis() == 1 and s.use_jti("iss", "expired", dt.datetime.now(UTC))  # forgotten, as it expired
