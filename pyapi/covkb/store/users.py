"""The people who log in to the web pages (issue 23, item 6), kept in the store.

A user has a name, a role (``ROLES``) and a password kept only as a scrypt
hash (``hashlib.scrypt``, the standard library's binding of OpenSSL: no
hand-written cryptography), its salt and parameters written into it so that
they can be raised later without breaking a kept hash.  A login makes a
session: a random id given to the browser in a cookie, of which the store
keeps only the SHA-256, with the session's CSRF token and its end; every
server process reads the one table, and a user's sessions go with the user
(removed, or its password replaced).  Failed logins are counted per name
typed, a name nobody has included (so that a refusal says nothing of who
exists): ``LOGIN_ATTEMPTS`` in ``LOGIN_WINDOW``, then each login of that
name is refused in one line until the window ends.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InvalidRequest
from .models import login_failures, users as users_table, web_sessions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

UTC = dt.timezone.utc
ROLES = ("viewer", "analyst", "reviewer")  # what each may do on the web: service/web_auth.py's ROLE_GRANTS
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024   # characters
# scrypt's cost (N, r, p): RFC 7914 gives N = 2**14 for interactive logins; twice that and again (64 MiB, about
# a quarter of a second on one core here), below OWASP's 2**17 (128 MiB) to keep two server processes' logins cheap
SCRYPT = (2 ** 16, 8, 1)
SCRYPT_MAXMEM = 256 << 20
SESSION_LIFETIME = dt.timedelta(hours=8)  # a session ends this long after its login, used or not
LOGIN_ATTEMPTS = 5                        # failed logins of one name ...
LOGIN_WINDOW = dt.timedelta(minutes=15)   # ... in this long, then its logins are refused until the window ends


class UnknownUser(InvalidRequest):
    """No user of that name (HTTP 404)."""

    code = "unknown_user"


class TooManyLogins(InvalidRequest):
    """A name's failed logins reached LOGIN_ATTEMPTS in LOGIN_WINDOW (HTTP 429)."""

    code = "too_many_logins"


@dataclass(frozen=True)
class User:
    """A person who logs in: name, role, when added and last changed (UTC)."""

    name: str
    role: str
    created: dt.datetime
    updated: dt.datetime


@dataclass(frozen=True)
class WebSession:
    """A logged-in browser's session: whose, in which role, its CSRF token, its end."""

    user: str
    role: str
    csrf: str
    expires: dt.datetime


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidRequest(f"a user name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit, "
                             f"not {str(name)[:70]!r}")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequest(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), of a fresh 16-byte salt."""
    n, r, p = SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` hashes (compared in constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=SCRYPT_MAXMEM, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def _nobody() -> str:
    """A hash compared against when the name is nobody's, so that a login takes as long either way."""
    return hash_password(secrets.token_urlsafe(16))


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserStore:
    """The users, sessions and failed logins of the store (a mixin of covkb.store.Store, whose ``_tx`` it uses)."""

    # -- users ---------------------------------------------------------------------
    def save_user(self, name: str, password: str, role: str) -> bool:
        """Add a user, or replace its password and role (its sessions ended); True when it was replaced."""
        from sqlalchemy import delete, select

        check_name(name)
        check_password(password)
        if role not in ROLES:
            raise InvalidRequest(f"a role is one of {', '.join(ROLES)}, not {role[:40]!r}")
        hashed, now = hash_password(password), _now()
        u = users_table
        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            replaced = conn.execute(select(u.c.name).where(u.c.name == name)).first() is not None
            if replaced:
                conn.execute(u.update().where(u.c.name == name).values(password_hash=hashed, role=role,
                                                                        updated_at=now))
                conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
            else:
                conn.execute(u.insert().values(name=name, password_hash=hashed, role=role, created_at=now,
                                               updated_at=now))
            conn.execute(delete(login_failures).where(login_failures.c.name == name))
        return replaced

    def users(self) -> list[User]:
        """Every user, by name."""
        from sqlalchemy import select

        u = users_table
        with self._tx() as conn:  # type: ignore[attr-defined]
            return [User(r.name, r.role, _utc(r.created_at), _utc(r.updated_at))
                    for r in conn.execute(select(u).order_by(u.c.name))]

    def remove_user(self, name: str) -> None:
        """Forget a user: its sessions end with it (refused from the next request on)."""
        from sqlalchemy import delete

        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
            if not conn.execute(delete(users_table).where(users_table.c.name == name)).rowcount:
                raise UnknownUser(f"no user {name[:70]!r}: covkb users list shows them")

    # -- logins and sessions -------------------------------------------------------
    def login(self, name: str, password: str) -> tuple[str, WebSession] | None:
        """A new session (its id for the cookie, and what it holds) for the right
        password; None for a wrong one or a name nobody has; TooManyLogins once the
        name's failures reached LOGIN_ATTEMPTS in LOGIN_WINDOW."""
        from sqlalchemy import delete, select

        if not isinstance(name, str) or not NAME.match(name):
            verify_password(password, _nobody())
            return None
        now = _now()
        f, u = login_failures, users_table
        with self._tx() as conn:  # type: ignore[attr-defined]
            failed = conn.execute(select(f).where(f.c.name == name)).first()
            user = conn.execute(select(u.c.role, u.c.password_hash).where(u.c.name == name)).first()
        if failed is not None and failed.failures >= LOGIN_ATTEMPTS and _utc(failed.first_at) + LOGIN_WINDOW > now:
            until = _utc(failed.first_at) + LOGIN_WINDOW
            raise TooManyLogins(f"too many failed logins for {name}: try again after {until:%H:%M} UTC")
        if not verify_password(password[:MAX_PASSWORD], user.password_hash if user else _nobody()) or user is None:
            with self._tx(write=True) as conn:  # type: ignore[attr-defined]
                self._count_failure(conn, name, now)
            return None
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            conn.execute(delete(f).where(f.c.name == name))
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))  # the ended ones, forgotten
            conn.execute(web_sessions.insert().values(id_hash=_id_hash(session_id), user_name=name, csrf=csrf,
                                                      created_at=now, expires_at=expires))
        return session_id, WebSession(name, user.role, csrf, expires)

    @staticmethod
    def _count_failure(conn: Connection, name: str, now: dt.datetime) -> None:
        from sqlalchemy import select

        f = login_failures
        row = conn.execute(select(f).where(f.c.name == name)).first()
        if row is None:
            conn.execute(f.insert().values(name=name, failures=1, first_at=now))
        elif _utc(row.first_at) + LOGIN_WINDOW <= now:  # a new window
            conn.execute(f.update().where(f.c.name == name).values(failures=1, first_at=now))
        else:
            conn.execute(f.update().where(f.c.name == name).values(failures=row.failures + 1))
        conn.execute(f.delete().where(f.c.first_at < now - LOGIN_WINDOW))  # the table stays bounded

    def web_session(self, session_id: str) -> WebSession | None:
        """The live session of a cookie's id, with its user's role now; None when it
        ended, was never made, or its user is gone."""
        from sqlalchemy import select

        s, u = web_sessions, users_table
        with self._tx() as conn:  # type: ignore[attr-defined]
            row = conn.execute(select(s.c.user_name, s.c.csrf, s.c.expires_at, u.c.role)
                               .join(u, u.c.name == s.c.user_name)
                               .where(s.c.id_hash == _id_hash(session_id))).first()
        if row is None or _utc(row.expires_at) <= _now():
            return None
        return WebSession(row.user_name, row.role, row.csrf, _utc(row.expires_at))

    def end_session(self, session_id: str) -> None:
        """Log out: the session is forgotten."""
        from sqlalchemy import delete

        with self._tx(write=True) as conn:  # type: ignore[attr-defined]
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _id_hash(session_id)))
