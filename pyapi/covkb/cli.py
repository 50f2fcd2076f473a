"""The covkb command line.

Every failure a user can cause ends in one line (stderr, or a JSON error
object on stdout with --format json) and exit status 2; an unexpected
failure ends in one line and status 3.  No traceback reaches a user.

This module is the entry point.  ``covkb determine`` (a new process per
question is the common use) is read here without typer, which with its
option parsers would be most of the start-up (about 45 % of the process,
measured A/B by bench/fast_paths.py); anything the plain reading is not
sure of (help, a value typer would refuse) goes to the typer app in
``covkb.commands``, as every other command does.  Both readers are made
from one declaration of determine's options
(``covkb.determine_command.OPTIONS``) and both run
``covkb.determine_command``, so they give the same output and errors.
"""

from __future__ import annotations

import sys
from typing import Any

from .console import _Exit, echo
from .determine_command import OPTIONS, run_determine
from .errors import CovkbError

# determine's own options (covkb.determine_command.OPTIONS): each long flag and the option it is
_OPTIONS = {flag: o for o in OPTIONS for flag in o.flags if flag.startswith("--")}
_SHORT = {flag: o.flags[0] for o in OPTIONS for flag in o.flags if not flag.startswith("--")}  # each takes a value


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
    values: dict[str, Any] = {o.dest: [] for o in OPTIONS if o.repeatable}
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
        option = _OPTIONS.get(name)
        if option is None:
            extra.append(word)
            continue
        if not eq:
            if i >= len(args) or (args[i].startswith("-") and args[i] != "-"):
                return None
            value = args[i]
            i += 1
        if option.repeatable:
            values[option.dest].append(value)
        elif option.dest in values:
            return None
        else:
            values[option.dest] = value
    try:
        for o in OPTIONS:
            if o.choices is not None:
                values[o.dest] = o.choices(values[o.dest]) if o.dest in values else o.default
    except ValueError:
        return None
    return {**{o.dest: o.default for o in OPTIONS}, **values, "extra": extra}


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
