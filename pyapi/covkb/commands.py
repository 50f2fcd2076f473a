"""The covkb commands, as a typer app.

``covkb.cli`` is the entry point: it answers ``covkb determine`` without
loading this module (the common case of a new process), and hands every
other command line to ``app`` here.  The option types and output they
share are in ``covkb.console``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from .compile_command import compile_tables
from .console import POLICY_HELP, EngineName, Format, PictureFormat, _Exit, _fail, _kb, _policy, _UserFiles, echo, policy_help
from .determine_command import OPTIONS, Option, _render, run_determine
from .errors import CovkbError, InvalidRequest
from .service.http_protocol import HTTP_LIMITS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # every command's, as its parent's
    help="Explainable, self-checking coverage determinations for medical coverage policies.",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            echo(f"covkb {version('covkb')}")
        except PackageNotFoundError:
            echo("covkb (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _covkb(_version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                         help="Print covkb's version and exit.")) -> None:
    pass


def determine(ctx: typer.Context, **options: Any) -> None:
    """Is this service medically necessary for this patient, and why (not)?

    The policy's own request fields are options too, as `covkb vocab` lists
    them: --FIELD VALUE (a code list's field repeated), --BOOLEAN or
    --not-BOOLEAN, a qualifier as --QUALIFIER VALUE (see the README)."""
    run_determine(**options, extra=list(ctx.args))


def _option_parameter(o: Option) -> inspect.Parameter:
    """One of determine's declared options as typer reads a parameter."""
    annotation: Any = list[str] if o.repeatable else o.choices or Optional[str]
    default = list(o.default) if o.repeatable else o.default
    return inspect.Parameter(o.dest, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *o.flags, help=o.help))


# its parameters are determine_command.OPTIONS, the declaration covkb.cli's plain reading is made from too
determine.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
     *map(_option_parameter, OPTIONS)])
determine.__annotations__ = {p.name: p.annotation for p in determine.__signature__.parameters.values()}
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(determine)


app.command(name="compile")(compile_tables)


@app.command()
def policies(fmt: Format = typer.Option(Format.text, "--format", "-f")) -> None:
    """List the installed policies, each with its versions and what is known of each."""
    from .policy import Policy, policy_folders

    out = []
    try:
        for folder in policy_folders():
            p = Policy(policy=folder)
            out.append({"policy": p.id, "number": p.number, "title": p.title, "versions": [
                {"version": v.id, "effective": v.effective.isoformat() if v.effective else None,
                 "next_review": v.next_review.isoformat() if v.next_review else None, "known": v.knowledge}
                for v in p.versions]})
    except CovkbError as err:
        _fail(err, fmt)
    if fmt == Format.json:
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for p in out:
        typer.echo(f"{'## ' if fmt == Format.markdown else ''}{p['policy']}  {p['number']}  {p['title']}")
        for v in p["versions"]:
            typer.echo(f"{'- ' if fmt == Format.markdown else '  '}{v['version']:<20} effective {v['effective'] or 'unknown':<10}"
                       f"  next review {v['next_review'] or 'unknown':<10}  {v['known']}")


@app.command()
def vocab(
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    version: Optional[str] = typer.Option(
        None, "--version", "--draft", help="The vocabulary of this version id or draft (.toml or .pl), not the latest."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """List every id a request (or a draft) may use, with its label, and the policy's request fields."""
    from .vocab_listing import groups as vocab_groups

    try:
        p = _policy(policy)
        data = p.data(p.resolve(version) if version else p.latest())
    except CovkbError as err:
        _fail(err, fmt)
    groups = vocab_groups(data)
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
    summary: bool = typer.Option(False, "--summary", help="Run every named query of every installed policy "
                                 "(the default one first) and print only how they came out: one screen."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    engine: EngineName = typer.Option(EngineName.prolog, help="Reasoning engine."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Run a named example query of the policy and check its expected outcome."""
    from .queries import load_queries, load_query

    if summary:
        _query_summary(engine)
        return
    try:
        folder = _policy(policy).queries_dir
        if list_:
            for q in load_queries(folder):
                typer.echo(f"{q.name}\n    {q.title}")
            return
        if not all_ and not name:
            raise InvalidRequest("name a query, or use --all, --list or --summary")
        queries = load_queries(folder) if all_ else [load_query(name or "", folder)]
        kb = _kb(engine, policy)
    except CovkbError as err:
        _fail(err, fmt)
    failures = 0
    for q in queries:
        try:
            det = kb.determine(q.request, version=q.version_ref())
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


def _query_summary(engine: EngineName) -> None:
    """`covkb query --summary`: a table of outcomes by policy, then each failure by name (exit 1)."""
    from .queries import summarize

    try:
        s = summarize(engine.value)
    except CovkbError as err:
        _fail(err, Format.text)
    every: dict[str, int] = {}
    for c in s.counts.values():
        for k, n in c.items():
            every[k] = every.get(k, 0) + n
    rows = [("outcome", *s.counts, "all")]
    rows += [(k, *(str(c.get(k, 0)) for c in s.counts.values()), str(n))
             for k, n in sorted(every.items(), key=lambda kn: (kn[0].startswith("error"), -kn[1]))]
    rows.append(("named queries", *(str(sum(c.values())) for c in s.counts.values()), str(s.total)))
    echo(f"\nnamed queries: {s.total - len(s.failures)} of {s.total} as expected")
    for r in rows:
        echo(f"  {r[0]:<36}" + "".join(f"{x:>12}" for x in r[1:]))
    echo("failures: " + ("none" if not s.failures else f"{len(s.failures)}\n  " + "\n  ".join(s.failures)))
    if s.failures:
        raise _Exit(1)


@app.command()
def batch(
    input_path: str = typer.Argument(..., metavar="INPUT", help="JSON Lines or .csv file of requests (- for stdin)."),
    output: str = typer.Option(..., "--output", "-o", help="Output .jsonl or .csv (- for stdout)."),
    engine: EngineName = typer.Option(EngineName.prolog, help="Reasoning engine."),
    workers: int = typer.Option(1, "--workers", "-w", min=0, max=64, help="Worker processes, 1 to 64 (0: one per core)."),
    citations: bool = typer.Option(False, "--citations", help="Include citations in JSON Lines records."),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON here."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from OUTPUT.partial."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP + " Lines naming a policy of their own "
                                         "(a policy field or column) are decided by it."),
    keep: list[str] = typer.Option([], "--keep", metavar="COLUMN",
                                   help="Copy this field or column into each record unchanged (repeat it, or "
                                        "a comma list), e.g. --keep claim_id."),
    spark: Optional[str] = typer.Option(None, "--spark", metavar="MASTER",
                                        help="Run on Apache Spark at this master (local[*], local-cluster[2,1,1024], "
                                             "spark://…, yarn, k8s://…; 'default': spark-defaults.conf's); "
                                             "also reads and writes .parquet. Needs the 'spark' extra and Java."),
) -> None:
    """Decide every line of INPUT; one record per line, in order, errors included.

    The output is written as OUTPUT.partial and renamed when every line is
    done.  Exit status: 0 done; 1 the run failed (its workers kept dying, or a write failed: a full disk);
    2 bad input or options; 130/143 interrupted by SIGINT/SIGTERM, the lines
    done kept in OUTPUT.partial for --resume."""
    import os

    from .batch import run_batch
    from .errors import BatchInterrupted
    from .progress import batch_progress

    n_workers = workers or min(os.cpu_count() or 1, 64)
    progress = batch_progress(input_path, input_path.lower().endswith(".csv"))
    try:
        if summary_json is not None and not summary_json.parent.is_dir():
            raise InvalidRequest(f"cannot write the summary to {summary_json}: no directory {summary_json.parent}")
        if spark is not None:
            if resume:
                raise InvalidRequest("--resume is not for --spark runs: Spark retries failed tasks itself; run again")
            try:
                from .spark import run_spark_batch
            except ImportError as exc:
                raise InvalidRequest(f"--spark needs pyspark (pip install 'covkb[spark]'): {exc}") from None
            summary = run_spark_batch(input_path, output, master=None if spark == "default" else spark,
                                      engine=engine.value, citations=citations, policy=policy, keep=keep,
                                      progress=progress)
            n_workers = 0
        else:
            summary = run_batch(input_path, output, engine=engine.value, workers=n_workers, citations=citations,
                                policy=policy, resume=resume, keep=keep, progress=progress)
    except BatchInterrupted as err:
        if progress:
            progress.close()
        typer.echo(f"covkb: {err.message}", err=True)
        raise _Exit(err.exit_code)
    except InvalidRequest as err:
        _fail(err, Format.text)
    except CovkbError as err:
        typer.echo(f"covkb: error: {err.message}", err=True)
        raise _Exit(1)
    finally:
        if progress:
            progress.close()
    d = summary.to_dict()
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(d["outcomes"].items()))
    errors = ", ".join(f"{k} {v}" for k, v in sorted(d["error_codes"].items()))
    resumed = f" (resumed after {d['resumed_after']} lines)" if d["resumed_after"] else ""
    typer.echo(
        f"{d['lines']} lines{resumed} in {d['seconds']} s ({d['lines_per_second']} lines/s, "
        f"{f'Spark {spark}' if spark is not None else f'{n_workers} worker(s)'}); "
        f"outcomes: {outcomes or 'none'}; errors: {d['errors']}{f' ({errors})' if errors else ''}",
        err=True,
    )
    if summary_json:
        try:
            summary_json.write_text(json.dumps(d, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            _fail(InvalidRequest(f"cannot write the summary to {summary_json}: {exc.strerror}"), Format.text)


@app.command()
def scenarios(
    date: Optional[str] = typer.Option(None, "--date", help="Pick the version in force on this date (default: today)."),
    version: Optional[str] = typer.Option(None, "--version", help="A version id or draft file instead of a date."),
    count: bool = typer.Option(False, "--count", help="Print only how many scenarios there are."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
) -> None:
    """Every distinct relevant request of the version in force, as JSON Lines."""
    from .request import parse_date
    from .scenarios import scenarios as space, size

    try:
        p = _policy(policy)
        if version:
            with _UserFiles(version):
                v = p.resolve(version)
        else:
            on = parse_date(date) if date else dt.date.today()
            v = p.version_in_force(on)[0]
        data = p.data(v)
    except CovkbError as err:
        _fail(err, Format.text)
    if count:
        typer.echo(str(size(data)))
        return
    stamp = {"date_of_service": date} if date else {}
    out = sys.stdout
    for req in space(data):
        out.write(json.dumps({**req, **stamp}, separators=(",", ":")) + "\n")


def _version_or_policy(ref: str, policy: str | None) -> tuple[Any, Any]:
    """A version or draft of --policy; without --policy, also POLICY[@VERSION]."""
    from .errors import VersionNotAvailable

    p = _policy(policy)
    try:
        return p, p.resolve(ref)
    except VersionNotAvailable:
        if policy is not None:
            raise
        from .compare import parse_ref

        try:
            return parse_ref(ref)
        except CovkbError:
            raise VersionNotAvailable(f"{ref!r} is neither a version of {p.number} nor a policy; "
                                      f"`covkb policies` lists both") from None


@app.command()
def check(
    version: str = typer.Argument(..., metavar="VERSION|DRAFT|POLICY[@VERSION]",
                                  help="A version id (e.g. 2025-02-15), a draft file (.toml or .pl), or a policy (its latest version)."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Check one version or draft for conflicts, gaps and citation faults (exit 1 on errors)."""
    from .check import check as run_check

    try:
        with _UserFiles(version):
            p, v = _version_or_policy(version, policy)
            report = run_check(p.data(v))
    except CovkbError as err:
        _fail(err, fmt)
    d = report.to_dict()
    if fmt == Format.json:
        typer.echo(json.dumps(d, indent=2, ensure_ascii=False))
    else:
        c = d["counts"]
        status = "ok" if d["ok"] else "FAILED"
        head = f"{status}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)"
        typer.echo(f"{'#' * 2 + ' ' if fmt == Format.markdown else ''}covkb check {p.number}@{report.version}: {head}")
        for f in report.findings:
            bullet = "- " if fmt == Format.markdown else ""
            typer.echo(f"{bullet}{f.severity:<7} {f.kind.replace('_', ' '):<22} {f.message}")
            if f.witness:
                typer.echo(f"{'  ' if bullet else ''}{'':30} witness: {json.dumps(f.witness)}")
    if report.errors:
        raise _Exit(1)


@app.command()
def diff(
    a: str = typer.Argument(..., metavar="A", help="The version or draft before (a version id or a draft file, .toml or .pl)."),
    b: str = typer.Argument(..., metavar="B", help="The version or draft after."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    fmt: PictureFormat = typer.Option(
        PictureFormat.text, "--format", "-f",
        help="Output format; dot and svg draw the changes (svg needs Graphviz's dot)."),
    regions: bool = typer.Option(False, "--regions", help="Also list every region under its change."),
) -> None:
    """Which cases change from A to B, grouped by what changed, in the policy's words."""
    from .diff import diff as run_diff

    try:
        with _UserFiles(f"{a} or {b}"):
            report = run_diff(_policy(policy), a, b)
        if fmt.value in ("dot", "svg"):
            from .pictures import diff_dot, to_svg

            dot = diff_dot(report)
            typer.echo(dot if fmt.value == "dot" else to_svg(dot))
            return
    except CovkbError as err:
        _fail(err, fmt)
    d = report.to_dict()
    if fmt.value == "json":
        typer.echo(json.dumps(d, indent=2, ensure_ascii=False))
        return
    typer.echo(_diff_text(report, fmt.value == "markdown", regions))


def _diff_text(report: Any, md: bool, with_regions: bool) -> str:
    """The diff in the policy's words: the impact first, then one block per
    change with the services and codes it affects, the conditions and a
    witness; every region with --regions (JSON always has them)."""
    from .diff import change_affects, change_heading

    words = report.words
    d = report.to_dict()
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(d["by_kind"].items())) or "no change"
    pad = "- " if md else "    "
    lines = [f"{'# ' if md else ''}covkb diff {report.a} → {report.b}: {report.summary_line()}",
             f"{d['changed_regions']} changed region(s) ({kinds}); {d['regions_examined']} regions examined "
             f"in {d['seconds']} s" + (f"; {d['regions_copied']} changed region(s) copied, unexamined, to services "
                                        "no fact names (both versions treat them alike)" if d["regions_copied"] else "")]
    for c in report.changes():
        first = report.regions[c["regions"][0]] if c["regions"] else None
        lines += ["", f"{'## ' if md else ''}{change_heading(c, words, first)}"]
        lines += [pad + line for line in change_affects(c, words)]
        shown = c["conditions"][:4]
        lines.append(f"{pad}when: " + (" | ".join(shown) + (f" | … {len(c['conditions']) - 4} more (--regions)"
                                                             if len(c["conditions"]) > 4 else "")))
        lines.append(f"{pad}witness: {json.dumps(c['witness'])}")
        r0 = report.regions[c["regions"][0]]
        for side, cites, other in (("before", r0.citations_before, r0.citations_after),
                                   ("after", r0.citations_after, r0.citations_before)):
            for cite in cites:
                if cite not in other:
                    lines.append(f"{pad}{side} cites [{cite['section']}] \"{cite['quote']}\"")
        if with_regions:
            for i in c["regions"]:
                r = report.regions[i]
                lines.append(f"{'  - ' if md else '        '}{r.describe(words)}: {r.transition(words)}; "
                             f"witness {json.dumps(r.witness)}")
    return "\n".join(lines)


@app.command()
def compare(
    a: str = typer.Argument(..., metavar="A", help="A policy (id or number), or POLICY@VERSION."),
    b: str = typer.Argument(..., metavar="B", help="The policy (or POLICY@VERSION) to compare it with."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
    regions: bool = typer.Option(False, "--regions", help="Also list every region (text and Markdown)."),
) -> None:
    """Where two payers' policies decide the same requests differently, and a service × payer matrix."""
    from .compare import compare as run_compare

    try:
        report = run_compare(a, b)
    except CovkbError as err:
        _fail(err, fmt)
    if fmt == Format.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(_compare_text(report, fmt == Format.markdown, regions))


def _compare_text(report: Any, md: bool, with_regions: bool) -> str:
    """The comparison in the policies' words: a summary, each difference with
    the services it touches and a witness, then the matrix."""
    groups = report.groups()
    words = report.words
    ok = all(report.witness_ok(i) for i in range(len(report.regions)))
    by = ", ".join(f"{k} {n}" for k, n in report.by_class().items()) or "none"
    lines = [f"{'# ' if md else ''}covkb compare {report.a} ↔ {report.b}",
             "",
             f"{len(groups)} difference(s) over {len(report.matrix)} services both policies can read "
             f"({len(report.regions)} regions: {by}); {report.regions_examined} regions examined in "
             f"{report.seconds:.2f} s; witnesses {'all reproduced' if ok else 'NOT all reproduced'} "
             f"by both engines on both policies."]
    for g in groups:
        outs = " · ".join(f"{side}: {', '.join(o)}" for side, o in g["outcomes"].items())
        lines += ["", f"{'## ' if md else ''}{g['class']}: {g['difference']}", f"{'- ' if md else '  '}{outs}"]
        names = [words.label(s) for s in g["services"]]
        lines.append(f"{'- ' if md else '  '}services ({len(names)}): {'; '.join(names)}")
        lines.append(f"{'- ' if md else '  '}witness: `{json.dumps(g['witness'])}`" if md else f"  witness: {json.dumps(g['witness'])}")
        if with_regions:
            for i in g["regions"]:
                r = report.regions[i]
                lines.append(f"{'  - ' if md else '    '}{r.describe(words)}: {r.before['outcome']} · {r.after['outcome']}")
    lines += ["", f"{'## ' if md else ''}Service × payer (in scope of both)", ""]
    if md:
        lines += [f"| Service | {report.a} | {report.b} |", "|---|---|---|"]
        for svc, row in report.matrix.items():
            cells = [row[n].text(words).replace("|", "\\|") for n in (report.a, report.b)]
            lines.append(f"| {words.label(svc)} | {cells[0]} | {cells[1]} |")
    else:
        for svc, row in report.matrix.items():
            lines.append(f"{words.label(svc)}")
            for n in (report.a, report.b):
                lines.append(f"    {n}: {row[n].text(words)}")
    return "\n".join(lines)


draft_app = typer.Typer(no_args_is_help=True, help="Draft revisions written as TOML: scaffold, compile, check.")
app.add_typer(draft_app, name="draft")


def _draft_file(path: str) -> Path:
    f = Path(path)
    if f.suffix not in (".toml", ".pl"):
        raise InvalidRequest(f"a draft is a .toml file (or a .pl fact file), not {f.name}")
    if not f.is_file():
        raise InvalidRequest(f"no draft file {f}")
    return f


def _write_or_echo(text: str, output: Path | None) -> None:
    """A draft command's text to --output, or to stdout; a file that cannot
    be written is a one-line error."""
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(InvalidRequest(f"cannot write {output}: {exc.strerror}"), Format.text)


@draft_app.command("new")
def draft_new(
    base: Optional[str] = typer.Option(None, "--from", help="The version the draft revises (default: the latest)."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the skeleton here (default: stdout)."),
) -> None:
    """Write a commented TOML skeleton of a draft: the base version's statements, one example of each table."""
    from .draft import scaffold

    try:
        p = _policy(policy)
        text = scaffold(p, base or p.latest().id)
        if output is not None and output.exists():
            raise InvalidRequest(f"{output} exists already; choose another file")
    except CovkbError as err:
        _fail(err, Format.text)
    _write_or_echo(text, output)
    if output is not None:
        typer.echo(f"wrote {output}; edit it, then `covkb draft check {f'--policy {policy} ' if policy else ''}{output}`",
                   err=True)


@draft_app.command("compile")
def draft_compile(
    file: str = typer.Argument(..., metavar="FILE", help="A TOML draft."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the facts here as a .pl draft (default: stdout)."),
) -> None:
    """Validate a TOML draft and print (or write) the facts it stands for, as a .pl draft both engines read."""
    from .draft import compile_draft

    try:
        path = _draft_file(file)
        if path.suffix != ".toml":
            raise InvalidRequest(f"{path.name} is a .pl draft already; compile takes a .toml draft")
        text = compile_draft(path, _policy(policy)).text()
    except CovkbError as err:
        _fail(err, Format.text)
    _write_or_echo(text, output)


@draft_app.command("check")
def draft_check(
    file: str = typer.Argument(..., metavar="FILE", help="A TOML draft (or a .pl draft)."),
    policy: Optional[str] = typer.Option(None, "--policy", help=POLICY_HELP),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Validate a draft, then `covkb check` the revised policy (exit 2 on a mistake, 1 on check errors)."""
    try:
        _draft_file(file)
    except CovkbError as err:
        _fail(err, fmt)
    check(file if "/" in file else f"./{file}", policy=policy, fmt=fmt)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(0, "--workers", "-w", min=0, help="Server processes, or with --mode pool engine workers (0: one per core)."),
    mode: str = typer.Option("inline", "--mode", help="inline: each server process decides with engines of its own; "
                             "pool: one HTTP front hands every operation to engine workers (a killed worker's requests are sent again)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="The default policy of requests that name none."),
    cache_size: int = typer.Option(4096, "--cache-size", min=0, help="Answers remembered for identical requests (0: none)."),
    fhir_server: list[str] = typer.Option([], "--fhir-server", help="A FHIR server base URL whose CDS calls may have covkb read missing prefetch; repeatable."),
    public_url: Optional[str] = typer.Option(None, "--public-url", help="The base of the links covkb writes, as clients reach it (default: http://HOST:PORT); never taken from a request's Host."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help="The decision store: a SQLAlchemy URL (sqlite:///PATH, postgresql://...); default: $COVKB_STORE_URL, else SQLite in covkb's state directory."),
    max_head_bytes: int = typer.Option(HTTP_LIMITS["max_head_bytes"][0], min=1024, help=HTTP_LIMITS["max_head_bytes"][1]),
    max_headers: int = typer.Option(HTTP_LIMITS["max_headers"][0], min=1, help=HTTP_LIMITS["max_headers"][1]),
    head_timeout: float = typer.Option(HTTP_LIMITS["head_timeout"][0], min=0.1, help=HTTP_LIMITS["head_timeout"][1]),
    body_timeout: float = typer.Option(HTTP_LIMITS["body_timeout"][0], min=0.1, help=HTTP_LIMITS["body_timeout"][1]),
    keep_alive: float = typer.Option(HTTP_LIMITS["keep_alive"][0], min=0.1, help=HTTP_LIMITS["keep_alive"][1]),
    max_connections: int = typer.Option(HTTP_LIMITS["max_connections"][0], min=1, help=HTTP_LIMITS["max_connections"][1]),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Answer CDS Hooks and FHIR calls without a token (accepted on a loopback listener only)."),
    trusted_issuers: Optional[str] = typer.Option(None, "--trusted-issuers", metavar="FILE", help="The CDS clients trusted: TOML or JSON, issuer -> JWKS inline or the jku URLs allowed for it."),
    cors_origin: list[str] = typer.Option([], "--cors-origin", metavar="ORIGIN", help="An origin browser-based clients may call from; repeatable (none by default)."),
) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs) and CDS Hooks (/cds-services) until stopped."""
    import os

    try:
        from .service.app import Settings, serve as run_server
    except ImportError as exc:
        raise InvalidRequest(f"covkb serve needs the service dependencies (pip install covkb): {exc}") from exc
    if mode not in ("inline", "pool"):
        raise InvalidRequest(f"--mode {mode!r}: inline or pool")
    code = run_server(host, port, Settings(workers=workers or os.cpu_count() or 1, mode=mode, policy=policy,
                                           cache_size=cache_size, fhir_servers=tuple(fhir_server), public_url=public_url, store=store,
                                           max_head_bytes=max_head_bytes, max_headers=max_headers,
                                           head_timeout=head_timeout, body_timeout=body_timeout, keep_alive=keep_alive,
                                           max_connections=max_connections, auth=not no_auth,
                                           trusted_issuers=trusted_issuers, cors_origins=tuple(cors_origin)),
                     log_level=log_level)
    if code:
        raise typer.Exit(code)


def _determine_help(args: list[str]) -> None:
    """For `covkb determine --help`: the request fields of the policy it
    would ask (--policy's, else the default), as options in a panel of
    their own, made from that policy's request language
    (determine_command.policy_flags: the flags the command reads)."""
    from .determine_command import policy_flags

    ref = next((a.partition("=")[2] for a in args if a.startswith("--policy=")), None) or \
        next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--policy"), None)
    try:
        p = _policy(ref)
        flags = policy_flags(p.data(p.latest()).vocabulary)
    except CovkbError:
        return  # the help without them; determine itself says what is wrong with --policy
    panel = f"Request fields of {p.number} (covkb vocab --policy {p.number} lists the ids)"
    params = [*determine.__signature__.parameters.values()] + [
        inspect.Parameter(f"field_{i}", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, *f.flags, metavar=f.value, help=f.help, rich_help_panel=panel))
        for i, f in enumerate(flags)]

    def shown(ctx: typer.Context, **options: Any) -> None:  # only its help is read
        determine(ctx, **{k: v for k, v in options.items() if not k.startswith("field_")})

    shown.__name__, shown.__doc__ = determine.__name__, determine.__doc__
    shown.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    shown.__annotations__ = {q.name: q.annotation for q in params}
    for info in app.registered_commands:
        if info.callback is determine:
            info.callback = shown


def _policy_help(command: Any) -> None:
    """Every --policy's help names the installed policies and the default
    one: read from kb/ only when a help is shown."""
    text, commands = policy_help(), [command]
    while commands:
        c = commands.pop()
        for param in c.params:
            if param.name == "policy" and getattr(param, "help", None) == POLICY_HELP:
                param.help = text
        commands.extend(getattr(c, "commands", {}).values())


def run_app() -> None:
    """The typer app on sys.argv; its own exits and usage errors become _Exit."""
    args = sys.argv[1:]
    helping = "--help" in args or "-h" in args
    if args[:1] == ["determine"] and helping:
        _determine_help(args)
    command = typer.main.get_command(app)
    if helping:
        _policy_help(command)
    try:
        code = command(standalone_mode=False, prog_name="covkb")
    except typer.Exit as e:
        raise _Exit(e.exit_code) from None
    except typer.Abort:
        raise _Exit(130) from None
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        if type(exc).__name__ == "NoArgsIsHelpError":  # `covkb` alone: the help is printed, nothing failed
            raise _Exit(0) from None
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        echo(f"covkb: error: {message}", err=True)
        raise _Exit(2) from None
    if isinstance(code, int) and code:  # typer returns an interrupt's 130 rather than raising it
        raise _Exit(code)


STORE_HELP = "The store's SQLAlchemy URL (default: $COVKB_STORE_URL, else SQLite in the state directory)."
clients_app = typer.Typer(no_args_is_help=True, help="The clients covkb's token endpoint issues access tokens to.")
app.add_typer(clients_app, name="clients")
from .drafts_command import drafts_app  # noqa: E402  (the drafts kept in the workspace)

app.add_typer(drafts_app, name="drafts")
from .users_command import users_app  # noqa: E402  (the people who log in to the web pages)

app.add_typer(users_app, name="users")


@clients_app.command("add")
def clients_add(
    client_id: str = typer.Argument(..., metavar="ID", help="The client_id (its assertions' iss and sub)."),
    jwks: Optional[str] = typer.Option(None, "--jwks", metavar="FILE", help="The client's public keys, a JWK Set (JSON)."),
    jwks_url: Optional[str] = typer.Option(None, "--jwks-url", metavar="URL", help="Where the client's keys are fetched from (instead of --jwks): only from there, checked now."),
    scope: list[str] = typer.Option(..., "--scope", help="A SMART system scope it may be granted (system/Claim.write); repeatable."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Register (or replace) a client of the token endpoint (SMART Backend Services, private_key_jwt)."""
    from .service.auth import register_client

    try:
        echo(register_client(client_id, jwks, scope, store, jwks_url))
    except CovkbError as err:
        _fail(err, Format.text)


@clients_app.command("list")
def clients_list(
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """The registered clients: each one's keys, scopes and when it was registered."""
    from .service.auth import list_clients

    try:
        lines = list_clients(store)
    except CovkbError as err:
        _fail(err, Format.text)
    echo("\n".join(lines) if lines else "no clients registered (covkb clients add)")


@clients_app.command("remove")
def clients_remove(
    client_id: str = typer.Argument(..., metavar="ID", help="The client_id."),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
) -> None:
    """Forget a client: no token is issued to it again, and the access tokens it holds are refused."""
    from .service.auth import remove_client

    try:
        echo(remove_client(client_id, store))
    except CovkbError as err:
        _fail(err, Format.text)


from .score_command import export_app, score  # noqa: E402  (the researchers' commands, in their own module)

app.command("score")(score)
app.add_typer(export_app, name="export")
