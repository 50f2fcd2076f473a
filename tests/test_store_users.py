"""The web's users in the store (covkb.store.users), on SQLite and on a real
PostgreSQL (tests/test_store.py's ``url`` fixture): a store at revision 0003
brought to 0004 with its decisions and drafts kept; passwords kept as scrypt
hashes only; a login's session found by its cookie's id with the user's role
now, and gone with the user, its password replaced, or its end; failed
logins counted per name, then refused in one line."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from test_store import decision_args, store, url  # noqa: F401  (the fixtures: both databases)

from covkb.errors import InvalidRequest
from covkb.store import Store, TooManyLogins, UnknownUser, models
from covkb.store import users as users_module

UTC = dt.timezone.utc


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at a small cost here: the cost is written into each hash, so that checking reads it back."""
    monkeypatch.setattr(users_module, "SCRYPT", (2 ** 10, 8, 1))


def test_a_store_at_0003_is_brought_to_0004_with_its_decisions_and_drafts(url: str) -> None:  # noqa: F811
    from covkb.store import _engine, migrate

    engine = _engine(url)
    try:
        migrate(engine, "0003")
        with Store(engine) as s:
            s.save_decision(**decision_args("OLD-PAS"))
            kept = s.save_draft("example_pap", text='revision_of = "2024-01-01"\n', note="kept", author="a")
    finally:
        engine.dispose()
    with Store.open(url) as s:
        assert s.decision("OLD-PAS").status == "pended"
        assert s.draft(kept.id).note == "kept"
        assert s.users() == []
        s.save_user("alice", "a-password", "analyst")
        assert [(u.name, u.role) for u in s.users()] == [("alice", "analyst")]
    engine = _engine(url)
    try:
        migrate(engine, "0003", down=True)  # and back: the users go, the drafts stay
        with Store(engine) as s:
            assert s.draft(kept.id).note == "kept"
    finally:
        engine.dispose()


def test_a_password_is_kept_as_a_scrypt_hash_only(store: Store) -> None:  # noqa: F811
    store.save_user("alice", "a-password", "viewer")
    with store._tx() as conn:
        kept = conn.execute(select(models.users.c.password_hash)).scalar_one()
    assert kept.startswith("scrypt$1024$8$1$") and "a-password" not in kept


def test_a_login_makes_a_session_that_ends_with_its_user(store: Store) -> None:  # noqa: F811
    store.save_user("alice", "a-password", "analyst")
    assert store.login("alice", "not-it") is None and store.login("nobody", "a-password") is None
    sid, made = store.login("alice", "a-password")
    assert (made.user, made.role) == ("alice", "analyst") and len(made.csrf) >= 32
    assert store.web_session(sid) == made and store.web_session(sid + "x") is None
    with store._tx() as conn:
        assert sid not in {r.id_hash for r in conn.execute(select(models.web_sessions))}  # its hash only
    store.save_user("alice", "a-password", "viewer")  # replaced: its sessions end
    assert store.web_session(sid) is None
    sid, _ = store.login("alice", "a-password")
    assert store.web_session(sid).role == "viewer"
    store.end_session(sid)  # logged out
    assert store.web_session(sid) is None
    sid, _ = store.login("alice", "a-password")
    store.remove_user("alice")
    assert store.web_session(sid) is None
    with pytest.raises(UnknownUser, match="no user 'alice'"):
        store.remove_user("alice")


def test_a_session_ends_at_its_end(store: Store) -> None:  # noqa: F811
    store.save_user("alice", "a-password", "viewer")
    sid, made = store.login("alice", "a-password")
    assert dt.timedelta(hours=7) < made.expires - dt.datetime.now(UTC) <= users_module.SESSION_LIFETIME
    with store._tx(write=True) as conn:
        conn.execute(update(models.web_sessions).values(expires_at=dt.datetime.now(UTC) - dt.timedelta(seconds=1)))
    assert store.web_session(sid) is None


def test_failed_logins_are_counted_per_name_then_refused(store: Store) -> None:  # noqa: F811
    store.save_user("alice", "a-password", "viewer")
    store.save_user("bob", "b-password", "viewer")
    for _ in range(users_module.LOGIN_ATTEMPTS):
        assert store.login("alice", "wrong") is None
    with pytest.raises(TooManyLogins, match=r"^too many failed logins for alice: try again after \d\d:\d\d UTC$"):
        store.login("alice", "a-password")
    assert store.login("bob", "b-password") is not None  # another name logs in
    with store._tx(write=True) as conn:  # the window passed
        conn.execute(update(models.login_failures).values(
            first_at=dt.datetime.now(UTC) - users_module.LOGIN_WINDOW - dt.timedelta(seconds=1)))
    assert store.login("alice", "a-password") is not None
    with store._tx() as conn:
        assert conn.execute(select(models.login_failures)).first() is None  # a login clears the count


@pytest.mark.parametrize(("name", "password", "role", "says"), [
    ("bad name", "a-password", "viewer", "a user name is"),
    ("alice", "short", "viewer", "a password has 8 to 1024 characters"),
    ("alice", "a-password", "admin", "a role is one of viewer, analyst, reviewer, not 'admin'")])
def test_a_bad_user_is_refused_in_one_line(store: Store, name: str, password: str, role: str,  # noqa: F811
                                           says: str) -> None:
    with pytest.raises(InvalidRequest, match=says):
        store.save_user(name, password, role)
    assert store.users() == []
