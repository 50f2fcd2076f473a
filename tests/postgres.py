"""A throwaway PostgreSQL for the tests: the ``postgres_url`` session fixture.

``initdb`` into a temporary directory, ``pg_ctl start`` listening on a Unix
socket in that directory only (no TCP), stopped and removed at the end of the
session.  The binaries are Debian's ``postgresql`` (``make setup`` installs it
where missing): on PATH, else under /usr/lib/postgresql/*/bin.  PostgreSQL
refuses to run as root, so as root the cluster runs as ``nobody`` (runuser).
When it cannot start the fixture fails with the reason: a test never skips
silently.  ``fresh_database(url)`` gives a test a database of its own.

Other test modules use it by naming the fixture (tests/conftest.py imports it).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PORT = 5432          # only names the socket file (.s.PGSQL.5432): there is no TCP listener
USER = "covkb"       # the cluster's superuser
_counter = itertools.count(1)


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL program, or pytest.fail saying how to get it."""
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major, reverse=True)  # the newest
    found = shutil.which(name) or next(iter(installed), None)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed: `make setup` installs Debian's postgresql")
    return found


def _major(path: str) -> tuple[int, ...]:
    """/usr/lib/postgresql/15/bin/initdb -> (15,): versions compared as numbers (9.6 < 15)."""
    return tuple(int(x) for x in re.findall(r"\d+", Path(path).parts[-3]))


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def _run(argv: list[str], owner: str | None, what: str, log: Path | None = None) -> None:
    proc = subprocess.run(_as_owner(argv, owner), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        tail = (log.read_text(errors="replace") if log and log.exists() else "") + proc.stderr + proc.stdout
        pytest.fail(f"PostgreSQL: {what} failed (exit {proc.returncode}): {tail.strip()[-2000:]}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a superuser connection to the database ``postgres``
    of a throwaway cluster (Unix socket only)."""
    owner = "nobody" if os.geteuid() == 0 else None
    if owner and not shutil.which("runuser"):
        pytest.fail("PostgreSQL refuses root and runuser (util-linux) is missing to run it as nobody")
    root = Path(tempfile.mkdtemp(prefix="covkb-pg-"))  # short: a socket path has at most 107 bytes
    data, log = root / "data", root / "server.log"
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    try:
        _run([pg_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C",
              "--no-sync"], owner, "initdb")
        options = f"-k {root} -c listen_addresses='' -p {PORT} -c fsync=off -c max_connections=50"
        _run([pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
             owner, "pg_ctl start", log)
        yield f"postgresql+psycopg://{USER}@/postgres?host={root}&port={PORT}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_owner([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner),
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str, prefix: str = "t") -> str:
    """A new, empty database in the cluster of ``url`` (a postgres_url); its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)
