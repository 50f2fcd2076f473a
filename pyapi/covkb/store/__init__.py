"""The decision store: what covkb decided, kept (issue 23, item 5).

Every PAS decision, and every CRD decision a questionnaire may refer to, is
kept with its request, its answer, the policy version and the knowledge base's
digest (``kb_digest``), so that an inquiry, an audit or an appeal finds exactly
what was decided and why; a person's review is kept with the decision it
settles.  The store also keeps the JWT ids seen (a replay is refused across
every server process), the registered clients of the token endpoint, and the
secrets every server process shares (``secret``: the token endpoint's key),
and the people who log in to the web pages with their sessions (covkb.store.users).

SQLite by default (nothing to install: ``<state dir>/covkb.sqlite3``, in WAL
mode with a busy timeout, so that several server processes write at once);
PostgreSQL through a SQLAlchemy URL, given to ``Store.open(url)`` or
``COVKB_STORE_URL``.  ``Store.open`` brings the schema to Alembic's head
(covkb/store/migrations, shipped in the package, configured in code), one
process at a time.  Results are frozen dataclasses; errors are CovkbErrors
with a code.  A Store is opened in each process (never shared across a fork).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import CovkbError, InvalidRequest
from ..kbdigest import kb_digest  # noqa: F401 (re-exported: the digest itself needs no database library)
from ..paths import state_dir
from . import models
from .drafts import DraftStore, DraftTooLarge, StaleDraft, StoredDraft, UnknownDraft, draft_ref
from .users import TooManyLogins, UnknownUser, User, UserStore, WebSession

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

UTC = dt.timezone.utc
KINDS = ("crd", "pas", "questionnaire")  # questionnaire: what a generated Questionnaire knew (GET by its id)
# a JWT id is forgotten this long after its token expired: a verifier's leeway on exp stays below it,
# so that a forgotten id is refused as expired
JTI_GRACE = dt.timedelta(minutes=10)
JTI_PURGE_EVERY = 60.0  # seconds between one process's purges of expired ids (not a statement per token)
SQLITE_BUSY_SECONDS = 30.0


class StoreError(CovkbError):
    """The store cannot be opened or used (a bad URL, a database that does not answer)."""

    code = "store"


class UnknownDecision(InvalidRequest):
    """No decision is kept under that key."""

    code = "unknown_decision"


class DuplicateDecision(InvalidRequest):
    """A decision is already kept under that key (a key names one decision)."""

    code = "duplicate_decision"


class AlreadyReviewed(InvalidRequest):
    """The decision has its review already; a second one is refused."""

    code = "already_reviewed"


@dataclass(frozen=True)
class Review:
    """A person's review of a decision: the action taken, why, by whom, when (UTC)."""

    action: str
    reason: str
    reviewer: str
    at: dt.datetime


@dataclass(frozen=True)
class Decision:
    """One kept decision (kind "crd" or "pas"; key: the coverage-assertion-id or the
    preauthorization reference) and its reviews; or a generated Questionnaire's
    known request (kind "questionnaire"; key: its id)."""

    kind: str
    key: str
    policy: str
    version: str
    kb_digest: str
    request: dict[str, Any]
    answer: dict[str, Any]
    status: str
    created: dt.datetime
    detail: dict[str, Any] | None = None
    reviews: tuple[Review, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, times in ISO 8601 (UTC)."""
        return {"kind": self.kind, "key": self.key, "policy": self.policy, "version": self.version,
                "kb_digest": self.kb_digest, "status": self.status, "created": self.created.isoformat(),
                "request": self.request, "answer": self.answer, "detail": self.detail,
                "reviews": [{"action": r.action, "reason": r.reason, "reviewer": r.reviewer,
                             "at": r.at.isoformat()} for r in self.reviews]}


@dataclass(frozen=True)
class Client:
    """A registered client of the token endpoint: its public keys (a JWK Set,
    or where its ``jwks_url`` member names one, the keys fetched from there),
    its scopes, and when it was last registered."""

    client_id: str
    jwks: dict[str, Any]
    scopes: tuple[str, ...] = field(default_factory=tuple)
    updated_at: dt.datetime | None = None

    @property
    def jwks_url(self) -> str | None:
        """The URL the client's keys are fetched from (None: they are given inline)."""
        url = self.jwks.get("jwks_url")
        return url if isinstance(url, str) else None


def default_url() -> str:
    """COVKB_STORE_URL, else SQLite in the state directory."""
    return os.environ.get("COVKB_STORE_URL") or f"sqlite:///{state_dir() / 'covkb.sqlite3'}"


def _utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (a naive one is taken as UTC; SQLite returns them naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


class Store(DraftStore, UserStore):
    """The decision store over one database (``Store.open``); the drafts
    analysts keep (covkb.store.drafts) and the web's users (covkb.store.users) too."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._next_purge = 0.0  # time.monotonic() of the next purge of expired JWT ids
        # built once: every CDS call's token and decision goes through them (building a statement cost
        # more than running it)
        insert = _insert_or_nothing(engine.dialect.name)
        self._use_jti = insert(models.jtis).on_conflict_do_nothing().returning(models.jtis.c.jti)
        d = models.decisions
        self._save = insert(d).on_conflict_do_nothing(index_elements=[d.c.key]).returning(d.c.id)

    # -- opening -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """The store at ``url`` (None: COVKB_STORE_URL, else SQLite in the state
        directory), its schema brought to Alembic's head."""
        engine = _engine(url or default_url())
        try:
            if not _at_head(engine):
                migrate(engine)
        except CovkbError:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[Connection]:
        """One transaction; a write takes SQLite's write lock at its start (BEGIN
        IMMEDIATE), so that it waits its turn rather than failing halfway."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(covkb_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"the store at {self.url} failed: {_one_line(exc)}") from None

    # -- decisions -----------------------------------------------------------------
    def save_decision(self, kind: str, key: str, *, policy: str, version: str, kb_digest: str,
                      request: dict[str, Any], answer: dict[str, Any], status: str,
                      detail: dict[str, Any] | None = None) -> Decision:
        """Keep a decision under ``key`` (refused when that key names one already): the
        Decision as it will be read back."""
        row = self._insert_decision(kind, key, policy=policy, version=version, kb_digest=kb_digest, request=request,
                                    answer=answer, status=status, detail=detail)
        return _decision({**row, **{n: None if row[n] is None else json.loads(row[n])
                                    for n in ("request", "answer", "detail")}}, ())

    def keep_decision(self, kind: str, key: str, *, policy: str, version: str, kb_digest: str,
                      request: dict[str, Any], answer: dict[str, Any], status: str,
                      detail: dict[str, Any] | None = None) -> None:
        """save_decision without reading the decision back: one INSERT, each
        JSON value written once (what every PAS ``$submit`` keeps)."""
        self._insert_decision(kind, key, policy=policy, version=version, kb_digest=kb_digest, request=request,
                              answer=answer, status=status, detail=detail)

    def _insert_decision(self, kind: str, key: str, *, policy: str, version: str, kb_digest: str,
                         request: dict[str, Any], answer: dict[str, Any], status: str,
                         detail: dict[str, Any] | None) -> dict[str, Any]:
        """The row kept (its JSON values as text); DuplicateDecision where the key names one already."""
        if kind not in KINDS:
            raise InvalidRequest(f"a decision's kind is one of {', '.join(KINDS)}, not {kind!r}")
        d = models.decisions
        _need(d, key=key, policy=policy, version=version, kb_digest=kb_digest, status=status)
        values = {"request": request, "answer": answer, "detail": detail}
        row = {"kind": kind, "key": key, "policy": policy, "version": version, "kb_digest": kb_digest,
               **{n: None if v is None else _json_text(n, v) for n, v in values.items()},
               "status": status, "created_at": _now()}
        if self.engine.dialect.name == "sqlite":
            kept = self._raw_sqlite(_DECISION_INSERT, tuple(
                row[c] if c != "created_at" else _sqlite_time(row[c]) for c in _DECISION_COLUMNS)) == 1
        else:  # the column's type writes the JSON itself
            with self._tx(write=True) as conn:
                kept = conn.execute(self._save, {**row, **values}).first() is not None
        if not kept:
            raise DuplicateDecision(f"a decision is already kept under {key!r}")
        return row

    def _raw_sqlite(self, sql: str, params: tuple[Any, ...], returned: bool = False) -> int:
        """One statement in autocommit on the pool's DBAPI connection (the write
        lock held only while it runs: see _use_jti_sqlite): the rows it changed,
        or (returned) whether it returned a row."""
        import sqlite3

        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql, params)
            n = int(cur.fetchone() is not None) if returned else cur.rowcount
            cur.close()
            return n
        except sqlite3.Error as exc:
            raise StoreError(f"the store at {self.url} failed: {_one_line(exc)}") from None
        finally:
            raw.close()  # back to the pool

    def decision(self, key: str) -> Decision | None:
        """The decision kept under ``key``, with its reviews; None when there is none."""
        with self._tx() as conn:
            found = self._select(conn, key=key)
        return found[0] if found else None

    def decisions(self, kind: str | None = None, status: str | None = None) -> list[Decision]:
        """The decisions kept, oldest first, of that kind and status where given."""
        with self._tx() as conn:
            return self._select(conn, kind=kind, status=status)

    def record_review(self, key: str, *, action: str, reason: str, reviewer: str) -> Decision:
        """Keep a person's review of the decision under ``key``: its status becomes
        ``action``.  Refused for an unknown key and for a decision reviewed already."""
        from sqlalchemy import insert, select, update

        d, r = models.decisions, models.reviews
        _need(r, action=action, reason=reason, reviewer=reviewer)
        with self._tx(write=True) as conn:
            query = select(d.c.id).where(d.c.key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()  # two reviewers at once: the second waits, then is refused
            row = conn.execute(query).first()
            if row is None:
                raise UnknownDecision(f"no decision is kept under {key!r}")
            if conn.execute(select(r.c.id).where(r.c.decision_id == row.id)).first() is not None:
                raise AlreadyReviewed(f"the decision {key!r} has been reviewed already")
            conn.execute(insert(r).values(decision_id=row.id, action=action, reason=reason,
                                          reviewer=reviewer, created_at=_now()))
            conn.execute(update(d).where(d.c.id == row.id).values(status=action))
            return self._select(conn, key=key)[0]

    @staticmethod
    def _select(conn: Connection, *, key: str | None = None, kind: str | None = None,
                status: str | None = None) -> list[Decision]:
        from sqlalchemy import select

        d, r = models.decisions, models.reviews
        query = select(d).order_by(d.c.created_at, d.c.id)
        for column, value in ((d.c.key, key), (d.c.kind, kind), (d.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        reviews: dict[int, list[Review]] = {}
        for rv in conn.execute(select(r).where(r.c.decision_id.in_(ids)).order_by(r.c.created_at, r.c.id)):
            reviews.setdefault(rv.decision_id, []).append(
                Review(rv.action, rv.reason, rv.reviewer, _utc(rv.created_at)))
        return [_decision(row, tuple(reviews.get(row["id"], ()))) for row in rows]

    # -- JWT ids -------------------------------------------------------------------
    def use_jti(self, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
        """True the first time ``jti`` of ``issuer`` is used, False on a replay, in
        every process that shares this store (one insert-or-nothing on the primary
        key).  ``expires_at`` is the token's exp (a naive time is UTC); ids expired
        longer than JTI_GRACE ago are forgotten (purge_jtis, at most every JTI_PURGE_EVERY s)."""
        _need(models.jtis, issuer=issuer, jti=jti)
        if time.monotonic() >= self._next_purge:
            self.purge_jtis()
        if self.engine.dialect.name == "sqlite":
            return self._use_jti_sqlite(issuer, jti, _utc(expires_at))
        with self._tx(write=True) as conn:
            row = conn.execute(self._use_jti, {"issuer": issuer, "jti": jti, "expires_at": _utc(expires_at)})
            return row.first() is not None

    def _use_jti_sqlite(self, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
        """use_jti on SQLite: the one statement in autocommit on the pool's DBAPI
        connection, holding the write lock only while it runs.  Every CDS call
        makes one, from every server process: SQLAlchemy's transaction around it
        held the lock about ten times as long, so that two processes collided
        and waited in SQLite's busy sleeps (p99 28 ms against 6 ms, two
        processes inserting at once).  The time is stored as SQLAlchemy stores
        a DateTime on SQLite (naive UTC), so purge_jtis and the rest read it."""
        when = expires_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return bool(self._raw_sqlite(_JTI_INSERT, (issuer, jti, when), returned=True))

    def purge_jtis(self) -> int:
        """Forget the JWT ids expired longer than JTI_GRACE ago; how many."""
        from sqlalchemy import delete

        j = models.jtis
        self._next_purge = time.monotonic() + JTI_PURGE_EVERY
        with self._tx(write=True) as conn:
            return conn.execute(delete(j).where(j.c.expires_at < _now() - JTI_GRACE)).rowcount

    # -- secrets -------------------------------------------------------------------
    def secret(self, name: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The secret kept under ``name`` (a JSON object, e.g. a private JWK); the first
        time, ``make()``'s, kept.  Processes asking at once all get the one kept first."""
        from sqlalchemy import select

        s = models.secrets
        _need(s, name=name)
        with self._tx() as conn:
            row = conn.execute(select(s.c.value).where(s.c.name == name)).first()
        if row is not None:
            return row.value
        value = make()
        if not isinstance(value, dict):
            raise InvalidRequest(f"a secret is a JSON object, not {type(value).__name__}")
        with self._tx(write=True) as conn:
            insert = _insert_or_nothing(conn.dialect.name)(s).values(name=name, value=value, created_at=_now())
            conn.execute(insert.on_conflict_do_nothing())
            return conn.execute(select(s.c.value).where(s.c.name == name)).scalar_one()

    # -- clients -------------------------------------------------------------------
    def save_client(self, client_id: str, *, jwks: dict[str, Any], scopes: list[str]) -> Client:
        """Register a client (or replace its keys and scopes)."""
        c = models.clients
        _need(c, client_id=client_id)
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise InvalidRequest("a client's jwks is a JWK Set: an object with a list of keys")
        if not isinstance(scopes, (list, tuple)) or not all(isinstance(x, str) and x for x in scopes):
            raise InvalidRequest("a client's scopes are a list of strings")
        jwks = _json("jwks", jwks)
        now = _now()
        with self._tx(write=True) as conn:
            values = {"jwks": jwks, "scopes": list(scopes), "updated_at": now}
            insert = _insert_or_nothing(conn.dialect.name)(c).values(client_id=client_id, created_at=now, **values)
            conn.execute(insert.on_conflict_do_update(index_elements=[c.c.client_id], set_=values))
        return Client(client_id, jwks, tuple(scopes))

    def client(self, client_id: str) -> Client | None:
        """The registered client ``client_id``; None when there is none."""
        from sqlalchemy import select

        c = models.clients
        with self._tx() as conn:
            row = conn.execute(select(c).where(c.c.client_id == client_id)).first()
        return None if row is None else _client(row)

    def clients(self) -> list[Client]:
        """Every registered client, by id."""
        from sqlalchemy import select

        c = models.clients
        with self._tx() as conn:
            return [_client(row) for row in conn.execute(select(c).order_by(c.c.client_id))]

    def remove_client(self, client_id: str) -> bool:
        """Forget a client (its access tokens are refused from then on); False where there was none."""
        c = models.clients
        with self._tx(write=True) as conn:
            return conn.execute(c.delete().where(c.c.client_id == client_id)).rowcount > 0


# -- the database and its schema ------------------------------------------------------
MIGRATIONS = Path(__file__).with_name("migrations")
# the newest revision shipped (tests/test_store.py: equal to Alembic's head), so that opening a store
# at head reads one row and never imports Alembic (a server process's first decision waits for it)
HEAD = "0004"
# the advisory lock key PostgreSQL's migrations take (any constant: "covkb" in ASCII)
PG_MIGRATION_LOCK = 0x636F766B62


def _engine(url: str) -> Engine:
    """An engine for ``url``; a bad URL or a missing driver is a StoreError."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r} (sqlite:///PATH or postgresql://...)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"the store runs on SQLite or PostgreSQL, not {shown}")
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS})
            _sqlite_events(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError, OSError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot open the store at {shown}: {_one_line(exc)}") from None
    return engine


def _sqlite_events(engine: Engine) -> None:
    """SQLite: WAL mode (readers never wait for the writer), foreign keys on, and transactions
    begun by SQLAlchemy itself (pysqlite's own BEGIN handling off), a write's with BEGIN IMMEDIATE."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" below emits BEGIN, DDL included
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL keeps the database intact; a power cut may lose the last
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("covkb_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def alembic_config() -> Any:
    """Alembic's configuration for the shipped revisions (in code: no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema to ``revision`` (up; or down to it), one process at a time:
    in one transaction holding SQLite's write lock or a PostgreSQL advisory lock."""
    from alembic import command
    from sqlalchemy import text

    config = alembic_config()
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(covkb_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
                config.attributes["connection"] = conn
                (command.downgrade if down else command.upgrade)(config, revision)
    except CovkbError:
        raise
    except Exception as exc:  # the driver's, SQLAlchemy's or Alembic's: one line, no traceback
        shown = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the store at {shown}: {_one_line(exc)}") from None


def _at_head(engine: Engine) -> bool:
    """Whether the schema is at HEAD already (False too when it cannot be read: migrate says why)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    except SQLAlchemyError:
        return False


def head() -> str:
    """The newest revision of the schema shipped."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def _insert_or_nothing(dialect: str) -> Any:
    """The dialect's insert, which has on_conflict_do_nothing/_update (SQLite, PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise StoreError(f"the store runs on SQLite or PostgreSQL, not {dialect}")
    return insert


# Store.use_jti on SQLite (the pool's connections are in autocommit: _sqlite_events)
_DECISION_COLUMNS = ("kind", "key", "policy", "version", "kb_digest", "request", "answer", "detail", "status",
                     "created_at")
_DECISION_INSERT = (f"INSERT INTO decisions ({', '.join(_DECISION_COLUMNS)}) VALUES ({', '.join('?' * len(_DECISION_COLUMNS))})"
                    " ON CONFLICT (key) DO NOTHING")
_JTI_INSERT = "INSERT INTO jtis (issuer, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING jti"


def _client(row: Any) -> Client:
    return Client(row.client_id, row.jwks, tuple(row.scopes), _utc(row.updated_at))


def _decision(row: Any, reviews: tuple[Review, ...]) -> Decision:
    return Decision(kind=row["kind"], key=row["key"], policy=row["policy"], version=row["version"],
                    kb_digest=row["kb_digest"], request=row["request"], answer=row["answer"],
                    status=row["status"], created=_utc(row["created_at"]), detail=row["detail"],
                    reviews=reviews)


def _need(table: Any, **values: Any) -> None:
    """Each value a non-empty string that fits its column of ``table``."""
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"the store needs a {name.replace('_', ' ')} (a non-empty string)")
        limit = getattr(table.c[name].type, "length", None)
        if limit is not None and len(value) > limit:
            raise InvalidRequest(f"a {name.replace('_', ' ')} has at most {limit} characters, not {len(value)}")


def _json(name: str, value: Any) -> Any:
    """A JSON object as it will be read back (a copy), or a clear error."""
    if not isinstance(value, dict):
        raise InvalidRequest(f"a decision's {name} is a JSON object, not {type(value).__name__}")
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"a decision's {name} is not JSON: {exc}") from None


# what json does not write (a date, a dataclass) handed back to json, which refuses it
_ORJSON_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _json_text(name: str, value: Any) -> str:
    """A JSON object as the text kept, or a clear error (orjson where it
    writes what json would read back the same: a tenth of the time)."""
    if not isinstance(value, dict):
        raise InvalidRequest(f"a decision's {name} is a JSON object, not {type(value).__name__}")
    try:
        text = orjson.dumps(value, option=_ORJSON_STRICT)
        if b"null" not in text:  # orjson writes NaN and Infinity as null: json refuses them
            return text.decode()
    except TypeError:  # an integer beyond 64 bits, a key not a string: json says which
        pass
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"a decision's {name} is not JSON: {exc}") from None


def _sqlite_time(value: dt.datetime) -> str:
    """A time as SQLAlchemy keeps a DateTime on SQLite (naive UTC), so that it reads it back."""
    return _utc(value).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["AlreadyReviewed", "Client", "Decision", "DraftTooLarge", "DuplicateDecision", "Review", "StaleDraft", "Store",
           "StoreError", "StoredDraft", "TooManyLogins", "UnknownDecision", "UnknownDraft", "UnknownUser", "User",
           "WebSession", "default_url", "draft_ref", "head",
           "kb_digest", "migrate", "state_dir"]
