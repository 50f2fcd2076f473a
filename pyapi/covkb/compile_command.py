"""`covkb compile`: the compiled decision tables (covkb.compiled) of the
installed policies' versions, built by both engines and checked equal."""

from __future__ import annotations

from typing import Optional

import typer

from .compiled import MAX_SCENARIOS
from .console import POLICY_HELP, Format, _fail
from .errors import CovkbError


def compile_tables(
    policy: Optional[list[str]] = typer.Option(None, "--policy", "-p", help=POLICY_HELP + " Repeatable; default: every installed policy."),
    version: Optional[list[str]] = typer.Option(None, "--version", "-V", help="A version id (repeatable); default: every version."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, max=64, help="Worker processes, each running both engines."),
    force: bool = typer.Option(False, "--force", help="Build again a table that is already current."),
    max_scenarios: int = typer.Option(MAX_SCENARIOS, "--max-scenarios", min=0, metavar="N",
                                      help="Leave to the engine a version with more scenarios than N."),
) -> None:
    """Compile each version's decisions ahead of time: every relevant projection
    of its requests decided by both engines, checked equal, kept in the state
    directory keyed by the knowledge base's digest.  A current table is kept."""
    from .compile_build import build
    from .installed import policy_folders

    try:
        refs = policy or [str(p) for p in policy_folders()]
        for ref in refs:
            build(ref, version or None, workers=workers, force=force, bound=max_scenarios)
    except CovkbError as err:
        _fail(err, Format.text)
