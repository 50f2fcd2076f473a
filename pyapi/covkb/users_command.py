"""`covkb users`: the people who log in to the web pages (covkb.store.users):
add (or replace) one with a role, list them, remove one.  A password is read
from the terminal (asked twice), or as one line of standard input when that
is not a terminal; never from the command line, where other users of the
machine and the shell's history would see it."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from .console import Format, _fail, echo
from .errors import CovkbError, InvalidRequest

STORE_HELP = "The store's SQLAlchemy URL (default: $COVKB_STORE_URL, else SQLite in the state directory)."
users_app = typer.Typer(no_args_is_help=True, help="The people who log in to the web pages: add, list, remove.")


class Role(str, Enum):
    viewer = "viewer"
    analyst = "analyst"
    reviewer = "reviewer"


ROLE_HELP = ("viewer: reads the pages and decides requests; analyst: also creates and changes drafts; "
             "reviewer: also records PAS review decisions.")


def read_password(name: str) -> str:
    """The password: asked twice on a terminal, else standard input's first line."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != first:
            raise InvalidRequest("the two passwords differ: nothing was changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise InvalidRequest("no password on standard input (one line)")
    return line.rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., metavar="NAME", help="The name a person logs in with."),
    role: Role = typer.Option(Role.viewer, "--role", help=ROLE_HELP),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Add a user (or replace one's password and role, ending its sessions); the password is read, never an argument."""
    from .store import Store
    from .store.users import check_name

    try:
        check_name(name)
        password = read_password(name)
        with Store.open(store) as s:
            replaced = s.save_user(name, password, role.value)
    except CovkbError as err:
        _fail(err, Format.text)
    echo(f"user {name} ({role.value}) " + ("replaced: its sessions are ended" if replaced else "added"))


@users_app.command("list")
def users_list(
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """The users: each one's role and when it was added and last changed."""
    from .store import Store

    try:
        with Store.open(store) as s:
            people = s.users()
    except CovkbError as err:
        _fail(err, Format.text)
    echo("\n".join(f"{u.name}: {u.role}, added {u.created:%Y-%m-%d %H:%M} UTC"
                   + (f", changed {u.updated:%Y-%m-%d %H:%M} UTC" if u.updated != u.created else "")
                   for u in people) or "no users (covkb users add NAME)")


@users_app.command("remove")
def users_remove(
    name: str = typer.Argument(..., metavar="NAME"),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Remove a user: its sessions end, and its next request is asked to log in."""
    from .store import Store

    try:
        with Store.open(store) as s:
            s.remove_user(name)
    except CovkbError as err:
        _fail(err, Format.text)
    echo(f"user {name} removed: its sessions are ended")
