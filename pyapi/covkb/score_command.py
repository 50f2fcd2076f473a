"""The `covkb score` and `covkb export benchmark` commands (registered on
the app by covkb.commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .console import Format, _Exit, _fail, _UserFiles, echo
from .errors import CovkbError

export_app = typer.Typer(no_args_is_help=True, help="Export what covkb holds for others to use.")
NOT_LOADED = 4  # the exit status of a candidate that does not load (it scores zero; 3 is an internal error)


def score(
    candidate: str = typer.Argument(..., metavar="CANDIDATE", help="A policy folder (kb/policies/<id>/ layout) or a draft (.toml or .pl)."),
    against: str = typer.Option(..., "--against", metavar="POLICY@VERSION", help="The reference encoding."),
    mix: Optional[Path] = typer.Option(None, "--mix", metavar="FILE", help="A claims mix (JSON Lines or CSV requests): also the agreement weighted by it."),
    fmt: Format = typer.Option(Format.text, "--format", "-f"),
    picture: Optional[Path] = typer.Option(None, "--picture", metavar="FILE.svg", help="Also draw the confusion matrix (SVG; .dot: the Graphviz source)."),
) -> None:
    """Score a candidate encoding of a policy against the reference: agreement over every scenario,
    each disagreement with a witness, structure and grounding.  Exit 1 when it disagrees anywhere,
    4 when it does not load (score zero)."""
    from .score import score as run_score
    from .score_render import confusion_dot, confusion_svg, render

    try:
        with _UserFiles(candidate):
            s = run_score(candidate, against, mix=mix)
        if picture is not None and s.loaded:
            picture.write_text(confusion_dot(s) if picture.suffix == ".dot" else confusion_svg(s), encoding="utf-8")
    except CovkbError as err:
        _fail(err, fmt)
    except OSError as exc:
        echo(f"covkb: error: cannot write {picture}: {exc.strerror}", err=True)
        raise _Exit(2) from None
    echo(json.dumps(s.to_dict(), indent=2, ensure_ascii=False) if fmt == Format.json else render(s, fmt == Format.markdown))
    if not s.loaded:
        raise _Exit(NOT_LOADED)
    if s.agreeing != s.scenarios:
        raise _Exit(1)


@export_app.command("benchmark")
def export_benchmark(
    directory: Path = typer.Argument(..., metavar="DIR", help="The folder to write the benchmark to."),
    seed: int = typer.Option(0, "--seed", help="The sample's seed (recorded in manifest.json)."),
    per_subject: int = typer.Option(40, "--per-subject", help="Scenarios drawn per subject (service, code, qualifier value)."),
    limit: int = typer.Option(50_000, "--limit", help="At most this many scenarios a version."),
    policy: Optional[list[str]] = typer.Option(None, "--policy", help="Only this policy (id, number or folder); repeatable."),
) -> None:
    """Write the benchmark: per installed policy and version, the source text, the reference encoding,
    the request language, and cases (named queries and a stratified sample of scenarios) as JSON Lines
    and Parquet, with a datasheet."""
    from .benchmark import export

    try:
        manifest = export(directory, seed=seed, per_subject=per_subject, limit=limit, policies=policy or None)
    except CovkbError as err:
        _fail(err, Format.text)
    except OSError as exc:
        echo(f"covkb: error: cannot write {directory}: {exc.strerror}", err=True)
        raise _Exit(2) from None
    for v in manifest["versions"]:
        missing = "; ".join(f"{k}: {', '.join(x)}" for k, x in v.get("not_covered", {}).items())
        echo(f"{v['number']} {v['version']}: {v['cases']} cases{f' (not covered: {missing})' if missing else ''}")
    echo(f"written to {directory} (manifest.json, DATASHEET.md)")
