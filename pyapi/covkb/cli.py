"""The covkb command line.

Every failure a user can cause ends in one line (stderr, or a JSON error
object on stdout with --format json) and exit status 2; an unexpected
failure ends in one line and status 3.  No traceback reaches a user.

This module is the entry point.  ``covkb determine`` (a new process per
question is the common use) is read here without typer, which with its
pydantic-built option parsers would be most of the start-up; anything the
plain reading is not sure of (help, short options, a value typer would
refuse) goes to the typer app in ``covkb.commands``, as every other command
does, so both give the same output and errors: both run
``covkb.determine_command``.
"""

from __future__ import annotations

import sys
from typing import Any

from .console import EngineName, PictureFormat, _Exit, echo
from .determine_command import run_determine
from .errors import CovkbError


# determine's own options (long forms) and the parameter each sets
_OPTIONS = {"--request": "request", "--service": "service", "--cpt": "cpt", "--finding": "finding",
            "--unknown-finding": "unknown_finding", "--date": "date", "--policy": "policy",
            "--version": "version", "--draft": "version", "--engine": "engine", "--format": "fmt"}
_REPEATABLE = {"finding", "unknown_finding"}
_SHORT = {"-f": "--format", "-r": "--request"}  # the short forms determine declares, each taking a value


def _determine_options(args: list[str]) -> dict[str, Any] | None:
    """`determine`'s command line read as click reads it (a long option takes
    the next word or its =VALUE; any other word, a policy's own field
    included, is passed on in order), or None wherever that reading could
    differ from typer's: help, short options, words starting with one dash,
    `--`, a repeated option, a value typer would refuse or convert, text that
    is not UTF-8, streams that click would re-wrap."""
    if not args or args[0] != "determine":
        return None
    for stream in (sys.stdout, sys.stderr):
        if (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") != "utf8":
            return None
    try:
        "".join(args).encode("utf-8")
    except UnicodeEncodeError:
        return None
    values: dict[str, Any] = {"finding": [], "unknown_finding": []}
    extra: list[str] = []
    i = 1
    while i < len(args):
        word = args[i]
        i += 1
        if word in _SHORT:
            word = _SHORT[word]
        if not word.startswith("--"):
            if word.startswith("-"):
                return None
            extra.append(word)
            continue
        name, eq, value = word.partition("=")
        if name in ("--", "--help"):
            return None
        dest = _OPTIONS.get(name)
        if dest is None:
            extra.append(word)
            continue
        if not eq:
            if i >= len(args) or (args[i].startswith("-") and args[i] != "-"):
                return None
            value = args[i]
            i += 1
        if dest in _REPEATABLE:
            values[dest].append(value)
        elif dest in values:
            return None
        else:
            values[dest] = value
    try:
        values["engine"] = EngineName(values.get("engine", "prolog"))
        values["fmt"] = PictureFormat(values.get("fmt", "text"))
    except ValueError:
        return None
    return {"request": None, "service": None, "cpt": None, "date": None, "policy": None, "version": None,
            **values, "extra": extra}


def main() -> None:
    """Console entry point: one line per failure, never a traceback."""
    try:
        options = _determine_options(sys.argv[1:])
        if options is None:
            from .commands import run_app

            run_app()
        else:
            try:
                run_determine(**options)
            except (EOFError, KeyboardInterrupt):
                raise _Exit(130) from None
            except OSError as exc:  # output to a closed pipe: quietly, as click does
                import errno
                import os

                if exc.errno != errno.EPIPE:
                    raise
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise _Exit(1) from None
    except _Exit as e:
        sys.exit(e.code)
    except CovkbError as err:
        echo(f"covkb: error: {err.message}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # anything unexpected: still one line
        echo(f"covkb: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(3)


def __getattr__(name: str) -> Any:
    """The typer app and its commands, loaded when first asked for."""
    if name.startswith("__"):
        raise AttributeError(name)
    from . import commands

    return getattr(commands, name)


if __name__ == "__main__":
    main()
