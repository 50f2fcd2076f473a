"""The covkb command line.

Every failure a user can cause ends in one line (stderr, or a JSON error
object on stdout with --format json) and exit status 2; an unexpected
failure ends in one line and status 3.  No traceback reaches a user.

This module is the entry point.  ``covkb determine`` (a new process per
question is the common use) is read here without typer, which with its
pydantic-built option parsers would be most of the start-up; anything the
plain reading is not sure of (help, short options, a value typer would
refuse) goes to the typer app in ``covkb.commands``, as every other command
does, so both give the same output and errors.
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from typing import Any

from .errors import CovkbError, InvalidRequest

POLICY_HELP = "Policy id, number or folder (default: the only one installed; `covkb policies` lists them)."


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


def _policy_fields(args: list[str], vocabulary: Any) -> dict[str, Any]:
    """A policy's own request fields given as options (``--FIELD VALUE``,
    ``--FIELD=VALUE``, ``--BOOLEAN``/``--not-BOOLEAN``, a code list's field
    repeated), read against the fields the policy declares; values stay data."""
    from .limits import _closest, parse_whole_number, parse_yes_no

    fields = {f.name: f for f in vocabulary.fields.values()}
    names: dict[str, str] = {}
    for f in fields.values():
        names[f.name] = f.name
        if f.alias:
            names[f.alias] = f.name
    for q in vocabulary.qualifiers:
        names[q] = q
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("--"):
            raise InvalidRequest(f"unexpected argument {arg!r}")
        opt, eq, value = arg[2:].partition("=")
        key = opt.replace("-", "_")
        negated = key.startswith("not_") and names.get(key[4:]) in fields and fields[names[key[4:]]].kind == "boolean"
        name = names.get(key[4:] if negated else key)
        if name is None:
            choices = sorted({n.replace("_", "-") for n in names})
            raise InvalidRequest(f"unknown option --{opt}{_closest(opt, choices)}; `covkb vocab` lists the request fields")
        f = fields.get(name)
        if f is not None and f.kind == "boolean" and not eq:
            out[name] = not negated
            continue
        if not eq:
            if i >= len(args):
                raise InvalidRequest(f"option --{opt} needs a value")
            value, i = args[i], i + 1
        if f is None or f.kind == "choice":
            out[name] = value
        elif f.kind == "boolean":
            out[name] = parse_yes_no(value, f"--{opt}")
        elif f.numeric:
            out[name] = parse_whole_number(value, f"--{opt}")
        else:
            out.setdefault(name, []).append(value)
    return out


def _read_request(source: str) -> dict[str, Any]:
    """A request file (or stdin) as untrusted bytes: at most MAX_REQUEST_BYTES
    are read (a larger file, or /dev/zero, is refused), then UTF-8 JSON."""
    from .limits import read_bounded, request_json

    what = "the request on stdin" if source == "-" else f"request file {source}"
    try:
        if source == "-":
            raw = read_bounded(sys.stdin.buffer, what)
        else:
            with open(source, "rb") as f:
                raw = read_bounded(f, what)
    except OSError as exc:
        raise InvalidRequest(f"cannot read request {source[:200]}: {exc.strerror}") from exc
    return request_json(raw, what)


def _render(kb: Any, det: Any, fmt: AnyFormat) -> str:
    from . import render

    section_path = kb.policy.data(det.version).section_path
    if fmt.value == "json":
        return render.to_json(det)
    if fmt.value == "markdown":
        return render.to_markdown(det, section_path)
    if fmt.value in ("dot", "svg"):
        from .pictures import determination_dot, to_svg

        dot = determination_dot(det, section_path=section_path)
        return dot if fmt.value == "dot" else to_svg(dot)
    return render.to_text(det, section_path, color=sys.stdout.isatty()).rstrip("\n")



def run_determine(*, request: str | None, service: str | None, cpt: str | None, finding: list[str],
                  unknown_finding: list[str], date: str | None, policy: str | None, version: str | None,
                  engine: EngineName, fmt: AnyFormat, extra: list[str]) -> None:
    """`covkb determine`, its options read (by typer or by _determine_options)."""
    try:
        data: dict[str, Any] = _read_request(request) if request else {}
        kb = _kb(engine, policy)
        data.update(_policy_fields(extra, kb.vocabulary))
        flags = {"service": service, "cpt": cpt, "date_of_service": date}
        data.update({k: v for k, v in flags.items() if v is not None})
        for key, values in (("findings", finding), ("unknown_findings", unknown_finding)):
            if values:
                data[key] = list(values)
        with _UserFiles(version):
            det = kb.determine(data, version=version)
        echo(_render(kb, det, fmt))
    except CovkbError as err:
        _fail(err, fmt)


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
    # run as covkb.cli, not __main__: the commands module shares this module's classes
    from covkb.cli import main as _main

    _main()
