"""The covkb command line.

Every failure a user can cause ends in one line (stderr, or a JSON error
object on stdout with --format json) and exit status 2; an unexpected
failure ends in one line and status 3.  No traceback reaches a user.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from .errors import CovkbError, InvalidRequest

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Explainable coverage determinations for Cigna Medical Coverage Policy 0284.",
)


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class EngineName(str, Enum):
    prolog = "prolog"
    asp = "asp"


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _fail(err: CovkbError, fmt: Format) -> None:
    if fmt == Format.json:
        typer.echo(json.dumps({"error": err.to_dict()}))
    else:
        typer.echo(f"covkb: error: {err.message}", err=True)
    raise _Exit(2)


def _kb(engine: EngineName):
    from .kb import KnowledgeBase

    return KnowledgeBase(engine=engine.value)


def _read_request(source: str) -> dict[str, Any]:
    from .request import request_json

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(f"cannot read request {source}: {exc.strerror}") from exc
    return request_json(text)


def _render(kb: Any, det: Any, fmt: Format) -> str:
    from . import render

    section_path = kb.policy.data(kb.policy.version(det.version)).section_path
    if fmt == Format.json:
        return render.to_json(det)
    if fmt == Format.markdown:
        return render.to_markdown(det, section_path)
    return render.to_text(det, section_path, color=sys.stdout.isatty()).rstrip("\n")


@app.command()
def determine(
    request: Optional[str] = typer.Option(None, "--request", "-r", help="Request JSON file, or - for stdin."),
    service: Optional[str] = typer.Option(None, help="Service id (see `covkb vocab`)."),
    cpt: Optional[str] = typer.Option(None, help="CPT code, e.g. 59325."),
    analyte: Optional[str] = typer.Option(None, help="Analyte measured, for CPT 83520."),
    substance: Optional[str] = typer.Option(None, help="Substance infused, for CPT 96365."),
    pregnant: Optional[bool] = typer.Option(None, "--pregnant/--not-pregnant", help="Pregnancy status (default: unknown)."),
    losses: Optional[int] = typer.Option(None, "--losses", help="Number of prior failed pregnancies."),
    diagnosis: list[str] = typer.Option([], "--diagnosis", help="ICD-10-CM code; repeatable."),
    finding: list[str] = typer.Option([], "--finding", help="Finding present; repeatable."),
    unknown_finding: list[str] = typer.Option([], "--unknown-finding", help="Finding whose presence is unknown; repeatable."),
    date: Optional[str] = typer.Option(None, "--date", help="Date of service YYYY-MM-DD (default: today)."),
    engine: EngineName = typer.Option(EngineName.prolog, help="Reasoning engine."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
) -> None:
    """Is this service medically necessary for this patient, and why (not)?"""
    try:
        data: dict[str, Any] = _read_request(request) if request else {}
        flags = {
            "service": service, "cpt": cpt, "analyte": analyte, "substance": substance,
            "pregnant": pregnant, "prior_pregnancy_losses": losses, "date_of_service": date,
        }
        data.update({k: v for k, v in flags.items() if v is not None})
        for key, values in (("diagnoses", diagnosis), ("findings", finding), ("unknown_findings", unknown_finding)):
            if values:
                data[key] = list(values)
        kb = _kb(engine)
        det = kb.determine(data)
        typer.echo(_render(kb, det, fmt))
    except CovkbError as err:
        _fail(err, fmt)


@app.command()
def vocab(fmt: Format = typer.Option(Format.text, "--format", "-f")) -> None:
    """List every id a request may use, with its label."""
    from .policy import Policy

    try:
        policy = Policy()
        v = policy.data(policy.latest()).vocabulary
    except CovkbError as err:
        _fail(err, fmt)
    groups = {
        "outcomes": v.outcomes, "services": v.services, "findings": v.findings,
        "patient facts": v.patient_facts, "qualifiers": v.qualifiers,
        "qualifier values": {f"{q}={x}": f"known value of {q}" for q, xs in v.qualifier_values.items() for x in xs},
        "cpt codes": v.codes,
    }
    if fmt == Format.json:
        typer.echo(json.dumps(groups, indent=2, ensure_ascii=False))
        return
    for title, items in groups.items():
        typer.echo(f"{title}:" if fmt == Format.text else f"\n## {title}\n")
        for k, label in items.items():
            typer.echo(f"  {k:<58} {label}" if fmt == Format.text else f"- `{k}`: {label}")


@app.command()
def query(
    name: Optional[str] = typer.Argument(None, help="Query name (a file stem in queries/)."),
    all_: bool = typer.Option(False, "--all", help="Run every named query."),
    list_: bool = typer.Option(False, "--list", help="List the named queries."),
    engine: EngineName = typer.Option(EngineName.prolog, help="Reasoning engine."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Run a named example query from queries/ and check its expected outcome."""
    from .queries import load_queries, load_query

    try:
        if list_:
            for q in load_queries():
                typer.echo(f"{q.name}\n    {q.title}")
            return
        if not all_ and not name:
            raise InvalidRequest("name a query, or use --all or --list")
        queries = load_queries() if all_ else [load_query(name or "")]
        kb = _kb(engine)
    except CovkbError as err:
        _fail(err, fmt)
    failures = 0
    for q in queries:
        try:
            det = kb.determine(q.request)
            result, shown = det.to_dict(), _render(kb, det, fmt)
        except CovkbError as err:
            result = {"error": err.to_dict()}
            shown = json.dumps(result) if fmt == Format.json else f"error ({err.code}): {err.message}"
        problems = q.check(result)
        failures += bool(problems)
        if fmt == Format.json:
            typer.echo(json.dumps({"query": q.name, "title": q.title, "as_expected": not problems,
                                   "problems": problems, "result": result}, ensure_ascii=False))
            continue
        rule = "#" if fmt == Format.markdown else "="
        typer.echo(f"\n{rule * 3} {q.name}\n{q.title}\nwhy: {q.why}\n")
        typer.echo(shown)
        typer.echo("as expected" if not problems else "NOT AS EXPECTED: " + "; ".join(problems))
    if len(queries) > 1 and fmt != Format.json:
        typer.echo(f"\n{len(queries) - failures} of {len(queries)} queries as expected")
    if failures:
        raise _Exit(1)


@app.command()
def batch(
    input_path: str = typer.Argument(..., metavar="INPUT", help="JSON Lines or .csv file of requests (- for stdin)."),
    output: str = typer.Option(..., "--output", "-o", help="Output .jsonl or .csv (- for stdout)."),
    engine: EngineName = typer.Option(EngineName.prolog, help="Reasoning engine."),
    workers: int = typer.Option(1, "--workers", "-w", min=0, help="Worker processes (0: one per core)."),
    citations: bool = typer.Option(False, "--citations", help="Include citations in JSON Lines records."),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON here."),
) -> None:
    """Decide every line of INPUT; one record per line, in order, errors included."""
    import os

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .batch import run_batch

    n_workers = workers or os.cpu_count() or 1
    err_console = Console(stderr=True)
    try:
        if err_console.is_terminal:
            with Progress(TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err_console, transient=True) as bar:
                task = bar.add_task("lines", total=None)
                summary = run_batch(input_path, output, engine=engine.value, workers=n_workers,
                                    citations=citations, progress=lambda k: bar.advance(task, k))
        else:
            summary = run_batch(input_path, output, engine=engine.value, workers=n_workers, citations=citations)
    except CovkbError as err:
        _fail(err, Format.text)
    d = summary.to_dict()
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(d["outcomes"].items()))
    errors = ", ".join(f"{k} {v}" for k, v in sorted(d["error_codes"].items()))
    typer.echo(
        f"{d['lines']} lines in {d['seconds']} s ({d['lines_per_second']} lines/s, {n_workers} worker(s)); "
        f"outcomes: {outcomes or 'none'}; errors: {d['errors']}{f' ({errors})' if errors else ''}",
        err=True,
    )
    if summary_json:
        summary_json.write_text(json.dumps(d, indent=2) + "\n", encoding="utf-8")


@app.command()
def scenarios(
    date: Optional[str] = typer.Option(None, "--date", help="Pick the version in force on this date (default: today)."),
    version: Optional[str] = typer.Option(None, "--version", help="A version id or draft file instead of a date."),
    count: bool = typer.Option(False, "--count", help="Print only how many scenarios there are."),
) -> None:
    """Every distinct relevant request of the version in force, as JSON Lines."""
    from .policy import Policy
    from .request import parse_date
    from .scenarios import scenarios as space, size

    try:
        policy = Policy()
        if version:
            v = policy.resolve(version)
        else:
            on = parse_date(date) if date else dt.date.today()
            v = policy.version_in_force(on)[0]
        data = policy.data(v)
    except CovkbError as err:
        _fail(err, Format.text)
    if count:
        typer.echo(str(size(data)))
        return
    stamp = {"date_of_service": date} if date else {}
    out = sys.stdout
    for req in space(data):
        out.write(json.dumps({**req, **stamp}, separators=(",", ":")) + "\n")


@app.command()
def check(
    version: str = typer.Argument(..., metavar="VERSION|DRAFT", help="A version id (e.g. 2025-02-15) or a draft .pl file."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Check one version or draft for conflicts, gaps and citation faults (exit 1 on errors)."""
    from .check import check as run_check
    from .policy import Policy

    try:
        policy = Policy()
        report = run_check(policy.data(policy.resolve(version)))
    except CovkbError as err:
        _fail(err, fmt)
    d = report.to_dict()
    if fmt == Format.json:
        typer.echo(json.dumps(d, indent=2, ensure_ascii=False))
    else:
        c = d["counts"]
        status = "ok" if d["ok"] else "FAILED"
        head = f"{status}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)"
        typer.echo(f"{'#' * 2 + ' ' if fmt == Format.markdown else ''}covkb check {report.version}: {head}")
        for f in report.findings:
            bullet = "- " if fmt == Format.markdown else ""
            typer.echo(f"{bullet}{f.severity:<7} {f.kind:<22} {f.message}")
            if f.witness:
                typer.echo(f"{'  ' if bullet else ''}{'':30} witness: {json.dumps(f.witness)}")
    if report.errors:
        raise _Exit(1)


@app.command()
def diff(
    a: str = typer.Argument(..., metavar="A", help="The version or draft before (a version id or a draft .pl file)."),
    b: str = typer.Argument(..., metavar="B", help="The version or draft after."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Which cases change from A to B: regions of the request space, classified."""
    from .diff import diff as run_diff
    from .policy import Policy

    try:
        report = run_diff(Policy(), a, b)
    except CovkbError as err:
        _fail(err, fmt)
    d = report.to_dict()
    if fmt == Format.json:
        typer.echo(json.dumps(d, indent=2, ensure_ascii=False))
        return
    md = fmt == Format.markdown
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(d["by_kind"].items())) or "no change"
    typer.echo(f"{'# ' if md else ''}covkb diff {report.a} → {report.b}: {d['changed_regions']} changed region(s) "
               f"({kinds}); {d['regions_examined']} regions examined in {d['seconds']} s")
    for r in report.regions:
        after = r.after["outcome"] + (f" {r.after['possible_outcomes']}" if "possible_outcomes" in r.after else "")
        head = f"{r.kind}: {r.describe()}: {r.before['outcome']} → {after}"
        typer.echo(f"\n{'## ' if md else ''}{head}")
        pad = "- " if md else "    "
        typer.echo(f"{pad}before: statement {r.before.get('statement')}, criteria met {r.before.get('criteria_met')}")
        typer.echo(f"{pad}after:  statement {r.after.get('statement')}, criteria met {r.after.get('criteria_met')}"
                   + (f", missing {r.after['missing']}" if "missing" in r.after else ""))
        typer.echo(f"{pad}witness: {json.dumps(r.witness)}")
        for side, cites in (("before", r.citations_before), ("after", r.citations_after)):
            for c in cites:
                if c not in (r.citations_after if side == "before" else r.citations_before):
                    typer.echo(f"{pad}{side} cites [{c['section']}] \"{c['quote']}\"")


def main() -> None:
    """Console entry point: one line per failure, never a traceback."""
    try:
        app(standalone_mode=False)
    except _Exit as e:
        sys.exit(e.code)
    except CovkbError as err:
        typer.echo(f"covkb: error: {err.message}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"covkb: error: {message}", err=True)
        sys.exit(2)
    except Exception as exc:  # anything unexpected: still one line
        typer.echo(f"covkb: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
