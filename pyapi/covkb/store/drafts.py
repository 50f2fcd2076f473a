"""Drafts kept in the store: an analyst's TOML draft, its test requests and
every revision (issue 22, item 6).

The store keeps text and JSON only: a draft is never compiled or run here
(covkb.workspace does that, in the policy's draft language).  Each save
makes a new revision (1 upward); a save that names the revision it edited
(``expected_revision``) is refused as stale when someone saved since
(``StaleDraft``, HTTP 409).  The draft's last check (``findings``) and the
kb digest of its base when checked (``kb_digest``) are kept beside its
latest revision: a changed digest means the knowledge base it revises
changed, and it is checked again (covkb.workspace.recheck).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..limits import MAX_DEPTH, MAX_DRAFT
from .models import draft_revisions as revisions_table, drafts as drafts_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_NOTE = 4000        # characters of a draft's note
MAX_TESTS = 200        # test requests of one draft
MAX_TESTS_BYTES = 256 * 1024  # their JSON
TEST_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,99}$")  # a named query's file stem
DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class UnknownDraft(InvalidRequest):
    """No draft is kept under that id (HTTP 404)."""

    code = "unknown_draft"


class StaleDraft(InvalidRequest):
    """A save of a revision that is not the latest: someone saved since (HTTP 409)."""

    code = "conflict"


class DraftTooLarge(InvalidRequest):
    """A draft over MAX_DRAFT bytes (HTTP 413)."""

    code = "too_large"


@dataclass(frozen=True)
class StoredDraft:
    """One draft as kept: its latest revision (or, from ``draft_history``, one of them)."""

    id: str
    policy: str
    revision_of: str            # the base version, as the TOML names it ("" when it names none it can read)
    text: str
    note: str
    author: str
    tests: tuple[dict[str, Any], ...]
    revision: int
    created: dt.datetime
    updated: dt.datetime
    kb_digest: str = ""         # of its base when last checked ("" never checked)
    findings: dict[str, Any] | None = None  # the last check (covkb.workspace), JSON

    @property
    def version_id(self) -> str:
        """How a version parameter names it: draft:ID."""
        return f"draft:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, times in ISO 8601 (UTC)."""
        return {"id": self.id, "version": self.version_id, "policy": self.policy, "revision_of": self.revision_of,
                "revision": self.revision, "note": self.note, "author": self.author, "text": self.text,
                "tests": list(self.tests), "created": self.created.isoformat(), "updated": self.updated.isoformat(),
                "kb_digest": self.kb_digest, "findings": self.findings}


def draft_ref(version: str | None) -> str | None:
    """The draft id a version parameter names (draft:ID), else None."""
    if version is None or not version.startswith("draft:"):
        return None
    did = version[len("draft:"):]
    if not DRAFT_ID.match(did):
        raise UnknownDraft(f"no draft {did[:40]!r}: a draft id is letters, digits, - and _")
    return did


def base_of(text: str) -> str:
    """The version a TOML draft revises (its revision_of), read leniently: a
    draft that does not parse yet is kept all the same, with "" here."""
    try:
        base = tomllib.loads(text).get("revision_of")
    except (tomllib.TOMLDecodeError, ValueError):
        return ""
    return base[:255] if isinstance(base, str) else ""


def check_text(text: Any) -> str:
    if not isinstance(text, str):
        raise InvalidRequest(f"a draft's text is a string (TOML), not {type(text).__name__}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DRAFT:
        raise DraftTooLarge(f"a draft is at most {MAX_DRAFT // 1024} KiB, not {size:,} bytes")
    if "\x00" in text:
        raise InvalidRequest("a draft's text holds a NUL character")
    return text


def check_tests(tests: Any) -> list[dict[str, Any]]:
    """Test requests as a named query has them: name, request, expect (an
    outcome, or an error code), why; anything else refused in one line."""
    import json

    if not isinstance(tests, (list, tuple)):
        raise InvalidRequest(f"a draft's tests are a list, not {type(tests).__name__}")
    if len(tests) > MAX_TESTS:
        raise InvalidRequest(f"a draft has at most {MAX_TESTS} test requests, not {len(tests)}")
    out, names = [], set()
    for i, t in enumerate(tests, 1):
        where = f"test request {i}"
        if not isinstance(t, dict):
            raise InvalidRequest(f"{where} is an object, not {type(t).__name__}")
        extra = set(t) - {"name", "request", "expect", "why", "title"}
        if extra:
            raise InvalidRequest(f"{where}: unknown key {sorted(extra)[0]!r} (a test has name, request, expect, why)")
        name = t.get("name")
        if not isinstance(name, str) or not TEST_NAME.match(name):
            raise InvalidRequest(f"{where}: a name is lower-case letters, digits and _ (as a named query's file), "
                                 f"not {str(name)[:60]!r}")
        if name in names:
            raise InvalidRequest(f"{where}: two test requests are named {name!r}")
        names.add(name)
        if not isinstance(t.get("request"), dict):
            raise InvalidRequest(f"{where} ({name}): its request is a JSON object")
        if _depth(t["request"]) > MAX_DEPTH or _depth(t.get("expect")) > MAX_DEPTH:
            raise InvalidRequest(f"{where} ({name}): nested deeper than {MAX_DEPTH} levels")
        expect = t.get("expect")
        if not isinstance(expect, dict) or not ({"outcome", "error"} & set(expect)):
            raise InvalidRequest(f"{where} ({name}): expect names an outcome (or an error code), "
                                 'e.g. {"outcome": "medically_necessary"}')
        for key in ("why", "title"):
            if not isinstance(t.get(key, ""), str) or len(t.get(key, "")) > MAX_NOTE:
                raise InvalidRequest(f"{where} ({name}): {key} is a sentence of at most {MAX_NOTE} characters")
        out.append({"name": name, "request": t["request"], "expect": expect, "why": t.get("why", ""),
                    **({"title": t["title"]} if t.get("title") else {})})
    try:
        size = len(json.dumps(out, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"a draft's tests are not JSON: {exc}") from None
    if size > MAX_TESTS_BYTES:
        raise DraftTooLarge(f"a draft's tests are at most {MAX_TESTS_BYTES // 1024} KiB of JSON, not {size:,} bytes")
    return json.loads(json.dumps(out))


def _depth(value: Any) -> int:
    """How deeply a JSON value nests (an object or array is one level), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d)
            if d <= MAX_DEPTH:  # deeper is refused already: no need to walk it
                stack.extend((x, d + 1) for x in v)
    return deepest


def _words(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"a draft's {name} is a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InvalidRequest(f"a draft's {name} has at most {limit} characters, not {len(value)}")
    return value


class DraftStore:
    """The Store's drafts (mixed into covkb.store.Store: it has _tx and _now)."""

    def save_draft(self, policy: str, *, text: str, note: str = "", author: str = "",
                   tests: list[dict[str, Any]] | None = None, draft_id: str | None = None,
                   expected_revision: int | None = None, kb_digest: str = "",
                   findings: dict[str, Any] | None = None) -> StoredDraft:
        """Keep a draft: a new one (``draft_id`` None), else a new revision of
        ``draft_id`` (refused as stale when ``expected_revision`` is not its
        latest).  ``tests`` None keeps a revision's tests as they were."""
        from sqlalchemy import insert, select, update

        if not isinstance(policy, str) or not policy.strip() or len(policy) > 255:
            raise InvalidRequest("a draft names the policy it revises (a policy id)")
        text, note, author = check_text(text), _words("note", note, MAX_NOTE), _words("author", author, 255)
        checked = None if tests is None else check_tests(tests)
        if expected_revision is not None and (isinstance(expected_revision, bool)
                                              or not isinstance(expected_revision, int)):
            raise InvalidRequest("a draft's expected revision is a whole number")
        d, r = drafts_table, revisions_table
        now = _now()
        values = {"text": text, "note": note, "author": author, "revision_of": base_of(text),
                  "kb_digest": kb_digest, "findings": findings or {}, "updated_at": now}
        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            if draft_id is None:
                draft_id = secrets.token_urlsafe(9)
                row = {"id": draft_id, "policy": policy, "tests": checked or [], "revision": 1, "created_at": now,
                       **values}
                conn.execute(insert(d).values(**row))
            else:
                query = select(d).where(d.c.id == draft_id)
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update()  # two saves at once: the second waits, then is stale
                old = conn.execute(query).mappings().first()
                if old is None:
                    raise UnknownDraft(f"no draft {draft_id[:40]!r}")
                if old["policy"] != policy:
                    raise InvalidRequest(f"draft {draft_id} revises {old['policy']}, not {policy}")
                if expected_revision is not None and expected_revision != old["revision"]:
                    raise StaleDraft(f"draft {draft_id} is at revision {old['revision']}, not {expected_revision}: "
                                     "someone saved it since; read it again and redo the change")
                row = {**old, **values, "tests": old["tests"] if checked is None else checked,
                       "revision": old["revision"] + 1}
                conn.execute(update(d).where(d.c.id == draft_id).values(
                    tests=row["tests"], revision=row["revision"], **values))
            conn.execute(insert(r).values(draft_id=draft_id, revision=row["revision"], text=text, note=note,
                                          author=author, tests=row["tests"], created_at=now))
            return _stored(row)

    def record_check(self, draft_id: str, revision: int, *, kb_digest: str, findings: dict[str, Any]) -> bool:
        """Keep what checking revision ``revision`` found; False when a newer revision is kept meanwhile."""
        from sqlalchemy import update

        d = drafts_table
        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            done = conn.execute(update(d).where(d.c.id == draft_id, d.c.revision == revision).values(
                kb_digest=kb_digest, findings=findings))
            return done.rowcount == 1

    def draft(self, draft_id: str) -> StoredDraft | None:
        """The draft kept under ``draft_id`` (its latest revision); None when there is none."""
        found = self._drafts(id=draft_id)
        return found[0] if found else None

    def drafts(self, policy: str | None = None) -> list[StoredDraft]:
        """The drafts kept (of ``policy`` where given), the latest revision of each, last updated first."""
        return self._drafts(policy=policy)

    def draft_history(self, draft_id: str) -> list[StoredDraft]:
        """Every revision of a draft as saved, first to latest (findings: the latest's only)."""
        from sqlalchemy import select

        latest = self.draft(draft_id)
        if latest is None:
            raise UnknownDraft(f"no draft {draft_id[:40]!r}")
        r = revisions_table
        with self._tx() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(select(r).where(r.c.draft_id == draft_id).order_by(r.c.revision)).mappings().all()
        return [latest if row["revision"] == latest.revision else _stored(
            {**row, "id": draft_id, "policy": latest.policy, "revision_of": base_of(row["text"]),
             "created_at": latest.created, "updated_at": row["created_at"], "kb_digest": "", "findings": None})
            for row in rows]

    def _drafts(self, **where: str | None) -> list[StoredDraft]:
        from sqlalchemy import select

        d = drafts_table
        query = select(d).order_by(d.c.updated_at.desc(), d.c.id)
        for name, value in where.items():
            if value is not None:
                query = query.where(d.c[name] == value)
        with self._tx() as conn:  # type: ignore[attr-defined]
            return [_stored(row) for row in _rows(conn, query)]


def _rows(conn: Connection, query: Any) -> list[Any]:
    return list(conn.execute(query).mappings().all())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (SQLite returns them naive)."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _stored(row: Any) -> StoredDraft:
    return StoredDraft(id=row["id"], policy=row["policy"], revision_of=row["revision_of"], text=row["text"],
                       note=row["note"], author=row["author"], tests=tuple(row["tests"] or ()),
                       revision=row["revision"], created=_utc(row["created_at"]), updated=_utc(row["updated_at"]),
                       kb_digest=row["kb_digest"], findings=row["findings"])
