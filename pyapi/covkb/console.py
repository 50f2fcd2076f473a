"""What every covkb command shares: the option types, one-line output and
failure, the files a user names, the knowledge base and policy it asks.

Both readers of a command line use it: the plain one in ``covkb.cli`` and
the typer app in ``covkb.commands``.
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from typing import Any

from .errors import CovkbError, InvalidRequest

POLICY_HELP = "Policy id, number or folder (`covkb policies` lists them)."


def policy_help() -> str:
    """--policy's help: the installed policies, and the one a request answers to when it names none."""
    try:
        from .installed import policy_folders
        from .policy import Policy

        names = [Policy(policy=folder).number for folder in policy_folders()]
        default = Policy().number
    except CovkbError:
        return POLICY_HELP
    if len(names) == 1:
        return f"Policy id, number or folder (default: {default}, the only one installed)."
    return (f"Policy id, number or folder: {', '.join(names)} are installed (default: {default}); "
            "`covkb policies` lists them.")


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class PictureFormat(str, Enum):
    """The formats of the commands that also draw (determine, diff): the
    text formats, and a Graphviz picture as DOT source or SVG."""

    text = "text"
    json = "json"
    markdown = "markdown"
    dot = "dot"
    svg = "svg"


AnyFormat = Format | PictureFormat


class EngineName(str, Enum):
    prolog = "prolog"
    asp = "asp"


_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # as click strips it


def echo(message: str = "", err: bool = False) -> None:
    """click.echo for text: a line, ANSI styles dropped when not a terminal, flushed."""
    stream = sys.stderr if err else sys.stdout
    out = message + "\n"
    if not stream.isatty():
        out = _ANSI.sub("", out)
    stream.write(out)
    stream.flush()


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _fail(err: CovkbError, fmt: AnyFormat) -> None:
    if fmt.value == "json":
        echo(json.dumps({"error": err.to_dict()}))
    else:
        echo(f"covkb: error: {err.message}", err=True)
    raise _Exit(2)


class _UserFiles:
    """Files a user names (a draft, its .txt, a request) are untrusted: an
    OS error or text that is not UTF-8 is a one-line InvalidRequest."""

    def __init__(self, ref: str | None = None) -> None:
        self.ref = ref

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: Any, exc: Any, tb: Any) -> None:
        name = f" {self.ref[:200]}" if self.ref else ""
        if isinstance(exc, UnicodeDecodeError):
            raise InvalidRequest(f"cannot read{name}: a file is not UTF-8 text "
                                 f"(byte 0x{exc.object[exc.start]:02x} at position {exc.start})") from None
        if isinstance(exc, OSError):
            where = f" {str(exc.filename)[:200]}" if exc.filename else name
            raise InvalidRequest(f"cannot read{where}: {exc.strerror or exc}") from None


def _kb(engine: EngineName, policy: str | None = None):
    from .kb import KnowledgeBase

    return KnowledgeBase(engine=engine.value, policy=policy)


def _policy(ref: str | None):
    from .policy import Policy

    return Policy(policy=ref)
