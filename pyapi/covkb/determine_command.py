"""``covkb determine``: its options, declared once (``OPTIONS``), from which
both readers of its command line are made: the plain reader in
``covkb.cli`` (the common case: a new process per question, read without
typer) and the typer command in ``covkb.commands``; and a determination
rendered in a format."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .console import POLICY_HELP, AnyFormat, EngineName, _fail, _kb, _UserFiles, echo
from .errors import CovkbError, InvalidRequest
from .limits import UNLISTED_READINGS


class DetermineFormat(str, Enum):
    """determine's formats: the drawing commands' (console.PictureFormat) and
    a rationale letter (covkb.letter)."""

    text = "text"
    json = "json"
    markdown = "markdown"
    dot = "dot"
    svg = "svg"
    letter = "letter"


@dataclass(frozen=True)
class Option:
    """One of determine's own options: the run_determine parameter it sets,
    its flags (the first its long name; a short one takes a value too), its
    help, its value when not given, and whether it may be repeated (a list)
    or names one of an Enum's values."""

    dest: str
    flags: tuple[str, ...]
    help: str
    default: Any = None
    repeatable: bool = False
    choices: type[Enum] | None = None


# how a finding the request does not list is read (the request's unlisted_findings), as covkb.limits declares
Unlisted = Enum("Unlisted", {r: r for r in UNLISTED_READINGS}, type=str)  # type: ignore[misc]


OPTIONS = (
    Option("request", ("--request", "-r"), "Request JSON file, or - for stdin."),
    Option("service", ("--service",), "Service id (see `covkb vocab`)."),
    Option("cpt", ("--cpt",), "CPT or HCPCS code, e.g. 99213."),
    Option("finding", ("--finding",), "Finding present; repeatable.", default=(), repeatable=True),
    Option("unknown_finding", ("--unknown-finding",), "Finding whose presence is unknown; repeatable.", default=(),
           repeatable=True),
    Option("absent_finding", ("--absent-finding",), "Finding stated absent; repeatable.", default=(), repeatable=True),
    Option("unlisted_findings", ("--unlisted-findings",),
           "How a finding not listed is read: unknown (default: silence is not evidence) or absent.", choices=Unlisted),
    Option("date", ("--date",), "Date of service YYYY-MM-DD (default: today)."),
    Option("policy", ("--policy",), POLICY_HELP),
    Option("version", ("--version", "--draft"),
           "Decide by this version id or draft file (.toml or .pl), not the one in force."),
    Option("engine", ("--engine",), "Reasoning engine.", default=EngineName.prolog, choices=EngineName),
    Option("fmt", ("--format", "-f"), "Output format; dot and svg draw the derivation (svg needs Graphviz's dot); "
           "letter is a rationale to print or send.", default=DetermineFormat.text, choices=DetermineFormat),
)


@dataclass(frozen=True)
class FieldFlag:
    """One of a policy's own request fields (or qualifiers) as determine's
    command line takes it (``_policy_fields`` reads these flags): its flags,
    the value it takes, and its help, in the policy's words."""

    flags: tuple[str, ...]
    value: str
    help: str


UNKNOWN = "unknown"  # a boolean's third value on the command line: the request does not say


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def policy_flags(vocabulary: Any) -> tuple[FieldFlag, ...]:
    """The flags of a policy's request language (its declared fields, then
    its qualifiers), as ``covkb determine --help`` lists them."""
    out = []
    for f in sorted(vocabulary.fields.values(), key=lambda f: f.alias or f.name):
        flag = _flag(f.alias or f.name)  # the short name shown; the other in the help
        also = f" (also {_flag(f.name)})" if f.alias else ""
        if f.kind == "boolean":
            out.append(FieldFlag((flag,), "[yes|no|unknown]",
                                 f"{f.label}: {flag} (yes), --not-{flag[2:]} (no), or {flag} yes|no|unknown "
                                 f"(not given: unknown){also}."))
        elif f.kind == "choice":
            out.append(FieldFlag((flag,), "|".join(f.values), f"{f.label}{also}."))
        elif f.numeric:
            lo, hi = f.range
            unit = f" {f.unit}" if f.unit else ""
            out.append(FieldFlag((flag,), "N", f"{f.label}: a whole number{unit}, {lo} to {hi}{also}."))
        elif f.kind == "code_list":
            out.append(FieldFlag((flag,), "CODE", f"{f.label}: one {f.code_system or ''} code, repeatable{also}."))
        else:
            out.append(FieldFlag((flag,), "VALUE", f"{f.label}{also}."))
    for q, label in sorted(vocabulary.qualifiers.items()):
        out.append(FieldFlag((_flag(q),), "|".join(vocabulary.qualifier_values.get(q, ())) or "ID", f"{label}."))
    return tuple(out)


def _policy_fields(args: list[str], vocabulary: Any) -> dict[str, Any]:
    """A policy's own request fields given as options (``--FIELD VALUE``,
    ``--FIELD=VALUE``, ``--BOOLEAN [yes|no|unknown]``/``--not-BOOLEAN``, a
    code list's field repeated), read against the fields the policy declares;
    values stay data.  A boolean given as unknown is None: not stated."""
    from .limits import _closest

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
            known = sorted({n.replace("_", "-") for n in names} | {o.flags[0][2:] for o in OPTIONS})
            near = _closest(opt, known).replace(" (did you mean '", " (did you mean '--")
            raise InvalidRequest(f"unknown option --{opt}{near}; `covkb determine --help` lists the options")
        f = fields.get(name)
        if f is not None and f.kind == "boolean":
            if negated:
                if eq:
                    raise InvalidRequest(f"--{opt} takes no value; write --{opt[4:]} no")
                out[name] = False
                continue
            if not eq:
                if i >= len(args) or args[i].startswith("--"):
                    out[name] = True
                    continue
                value, i = args[i], i + 1
            word = value.strip().lower()
            if word not in ("yes", "no", "true", "false", UNKNOWN):
                raise InvalidRequest(f"--{opt}: {value[:60]!r} is not yes, no or unknown "
                                     f"(write --{opt}, --not-{opt} or --{opt} unknown)")
            out[name] = None if word == UNKNOWN else f.parse_text(word, f"--{opt}")
            continue
        if not eq:
            if i >= len(args):
                raise InvalidRequest(f"option --{opt} needs a value")
            value, i = args[i], i + 1
        if f is not None and f.kind == "code_list":
            out.setdefault(name, []).append(value)
        else:
            out[name] = f.parse_text(value, f"--{opt}") if f is not None else value
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


def _render(kb: Any, det: Any, fmt: AnyFormat | DetermineFormat, request: dict[str, Any] | None = None) -> str:
    from . import render

    section_path = kb.policy.data(det.version).section_path
    if fmt.value == "letter":
        from .letter import letter, to_text

        return to_text(letter(det.to_dict(), request or {}, kb.policy, today=kb.today)).rstrip("\n")
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
                  unknown_finding: list[str], absent_finding: list[str], unlisted_findings: Any,
                  date: str | None, policy: str | None, version: str | None,
                  engine: EngineName, fmt: AnyFormat, extra: list[str]) -> None:
    """`covkb determine`, its options (OPTIONS) read by typer or by covkb.cli's plain reader."""
    try:
        data: dict[str, Any] = _read_request(request) if request else {}
        from .routing import named_policy

        kb = _kb(engine, named_policy(data, policy))  # a request naming its policy is decided by it
        for name, value in _policy_fields(extra, kb.vocabulary).items():
            if value is None:  # --BOOLEAN unknown: the request does not say
                data.pop(name, None)
            else:
                data[name] = value
        flags = {"service": service, "cpt": cpt, "date_of_service": date}
        data.update({k: v for k, v in flags.items() if v is not None})
        for key, values in (("findings", finding), ("unknown_findings", unknown_finding),
                            ("absent_findings", absent_finding)):
            if values:
                data[key] = list(values)
        if unlisted_findings is not None:
            data["unlisted_findings"] = unlisted_findings.value
        with _UserFiles(version):
            det = kb.determine(data, version=version)
        echo(_render(kb, det, fmt, data))
    except CovkbError as err:
        _fail(err, fmt)
