"""`covkb drafts`: the drafts kept in the workspace (covkb.store), from the
command line: list, show, export (the kb/ files and named queries that would
make one a version, written into a folder), recheck (every draft whose base
changed in the knowledge base checked again).  The REST API and the web
pages reach the same drafts (service/draft_routes.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .console import Format, _fail, echo
from .errors import CovkbError, InvalidRequest

STORE_HELP = "The store's SQLAlchemy URL (default: $COVKB_STORE_URL, else SQLite in the state directory)."
drafts_app = typer.Typer(no_args_is_help=True, help="The drafts kept in the workspace: list, show, export, recheck.")


def _store(url: Optional[str]):  # noqa: ANN202
    from .store import Store

    return Store.open(url)


def _read(store, draft_id: str):  # noqa: ANN001, ANN202
    """The draft, checked again if its base changed."""
    from . import workspace
    from .policy import Policy
    from .store import UnknownDraft

    stored = store.draft(draft_id)
    if stored is None:
        raise UnknownDraft(f"no draft {draft_id[:40]!r}; `covkb drafts list` lists them")
    policy = Policy(policy=stored.policy)
    return policy, workspace.recheck(store, policy, stored)


def _state(stored) -> str:  # noqa: ANN001
    found = stored.findings or {}
    if found.get("compiles") is False:
        return "does not compile: " + found["error"]["message"]
    check = found.get("check") or {}
    counts = check.get("counts") or {}
    tests = found.get("tests") or ()
    passed = f"; {sum(t.get('passed') is True for t in tests)} of {len(tests)} test(s) pass" if tests else ""
    return ("checks clean" if check.get("ok") else f"check: {counts.get('error', '?')} error(s)") + passed


@drafts_app.command("list")
def drafts_list(
    policy: Optional[str] = typer.Option(None, "--policy", help="Only the drafts of this policy (its id)."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """The drafts kept, last updated first."""
    try:
        with _store(store) as s:
            drafts = s.drafts(policy)
    except CovkbError as err:
        _fail(err, fmt)
    if fmt == Format.json:
        echo(json.dumps([{k: v for k, v in d.to_dict().items() if k != "text"} for d in drafts], indent=2))
        return
    if not drafts:
        echo("no drafts kept" + (f" of {policy}" if policy else ""))
    for d in drafts:
        echo(f"{d.version_id}  {d.policy} revising {d.revision_of or '?'}, revision {d.revision}, "
             f"{d.updated:%Y-%m-%d %H:%M} UTC{f' by {d.author}' if d.author else ''}: {_state(d)}"
             + (f"\n    {d.note}" if d.note else ""))


@drafts_app.command("show")
def drafts_show(
    draft_id: str = typer.Argument(..., metavar="ID", help="The draft's id (draft:ID without draft:)."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """One draft: its state, note and TOML text."""
    try:
        with _store(store) as s:
            _, d = _read(s, draft_id.removeprefix("draft:"))
    except CovkbError as err:
        _fail(err, fmt)
    if fmt == Format.json:
        echo(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
        return
    echo(f"{d.version_id}: {d.policy} revising {d.revision_of or '?'}, revision {d.revision}: {_state(d)}")
    if d.note:
        echo(f"note: {d.note}")
    echo(f"{len(d.tests)} test request(s)" + "".join(f"\n    {t['name']}: {t['expect']}" for t in d.tests))
    echo("")
    echo(d.text.rstrip("\n"))


@drafts_app.command("export")
def drafts_export(
    draft_id: str = typer.Argument(..., metavar="ID", help="The draft's id."),
    folder: Path = typer.Option(..., "--to", help="Write the files under this folder (the top of a covkb checkout: "
                                                  "kb/ and queries/ are under it)."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Write the files that would make a draft a version: its facts, policy.pl's entry, its source, its tests as
    named queries (a file that exists is overwritten only if it is policy.pl)."""
    from . import workspace

    try:
        with _store(store) as s:
            policy, d = _read(s, draft_id.removeprefix("draft:"))
        files = workspace.export(policy, d)
        for rel, text in files.items():
            path = folder / rel
            if path.exists() and path.name != "policy.pl":
                raise InvalidRequest(f"{path} exists already; export into a clean copy")
        for rel, text in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(InvalidRequest(f"cannot write under {folder}: {exc.strerror}"), Format.text)
    except CovkbError as err:
        _fail(err, Format.text)
    echo("\n".join(f"wrote {folder / rel}" for rel in files))
    echo(f"version {workspace.export_version_id(d)}: `covkb check --policy {d.policy} {workspace.export_version_id(d)}`",
         err=True)


@drafts_app.command("recheck")
def drafts_recheck(
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Check again every draft whose base changed in the knowledge base (its kb digest differs); say which."""
    from . import workspace
    from .policy import Policy

    try:
        with _store(store) as s:
            policies: dict[str, Policy] = {}
            again = 0
            for d in s.drafts():
                try:
                    p = policies.setdefault(d.policy, Policy(policy=d.policy))
                except CovkbError as err:  # a policy no longer installed: said, the rest checked
                    echo(f"{d.version_id}: {err.message}", err=True)
                    continue
                now = workspace.recheck(s, p, d)
                if now is not d:
                    again += 1
                    echo(f"{d.version_id}: checked again: {_state(now)}")
    except CovkbError as err:
        _fail(err, Format.text)
    echo(f"{again} draft(s) checked again", err=True)
