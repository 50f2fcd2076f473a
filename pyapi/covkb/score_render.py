"""A score (``covkb.score.Score``) in words: text and Markdown state the
decision first (how much of the request space the candidate decides as the
reference does), then each disagreement in the policy's words (the diff's
``Region.transition`` and ``Region.describe``) with its witness, the
structure, the grounding and the confusion matrix; and the confusion
matrix as a picture (a Graphviz HTML table, drawn by ``pictures.to_svg``).
"""

from __future__ import annotations

import json
from typing import Any

import graphviz

from .pictures import _esc, _html, to_svg
from .wording import Words


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %".replace(".00 %", " %")


def headline(s: Any) -> str:
    """The decision, in one sentence."""
    if not s.loaded:
        return f"Score 0: the candidate does not load ({s.reason})."
    differ = s.scenarios - s.agreeing
    if not differ:
        return (f"The candidate decides all {s.scenarios:,} scenarios of {s.reference} as the reference does "
                f"(agreement {_pct(1.0)}).")
    return (f"The candidate decides {_pct(s.agreement)} of the {s.scenarios:,} scenarios of {s.reference} as the "
            f"reference does: {differ:,} differ, in {len(s.regions)} region(s) of disagreement; witnesses "
            f"{'all confirmed' if s.witnesses_confirmed else 'NOT all confirmed'} by both engines on both sides.")


def _words(s: Any) -> Words:
    return s.report.words if s.report is not None else Words()


def render(s: Any, md: bool = False) -> str:
    """The score as text, or as Markdown."""
    h2, li = ("## ", "- ") if md else ("", "  ")
    lines = [f"{'# ' if md else ''}covkb score {s.candidate} against {s.reference}", "", headline(s)]
    if not s.loaded:
        return "\n".join(lines)
    w = _words(s)
    if s.weighted:
        m = s.weighted
        lines.append(f"Weighted by the claims mix {m['mix']}: {_pct(m['agreement'])} of its {m['requests']:,} "
                     f"requests decided alike.")
    g = s.grounding
    lines.append(f"Grounding: {g['verbatim']} of the candidate's {g['quotes']} quotes are verbatim in the source "
                 f"text ({_pct(g['precision'])}); it cites {g['cited']} of the reference's {g['reference_quotes']} "
                 f"quotes ({_pct(g['recall'])}); {g['interpretations']['not_verbatim_unmarked']} quote(s) not verbatim "
                 f"and not marked as interpretation.")
    st = s.structure
    n_st, n_cr, n_co = (len(st[k]) for k in ("statements", "criteria", "codes"))
    lines.append(f"Structure: {st['encoded']['statements']} of {n_st} statements, {st['encoded']['criteria']} of "
                 f"{n_cr} criteria and {st['encoded']['codes']} of {n_co} codes encoded alike.")
    for kind, ids in st["missed"].items():
        if ids:
            lines.append(f"{li}missed {kind}: {', '.join(w.label(i) if kind != 'codes' else i for i in ids)}")
    for kind, ids in st["inventions"].items():
        lines.append(f"{li}invented {kind}: {', '.join(ids)}")
    if s.regions:
        lines += ["", f"{h2}Disagreements (the reference → the candidate)"]
        for r in s.regions:
            ok = "witness confirmed" if r["witness_confirmed"] else "witness NOT confirmed"
            lines.append(f"{li}{r['kind'].replace('_', ' ')}: {r['transition']}")
            lines.append(f"{li}  where {r['in_words']}")
            wit = json.dumps(r["witness"], ensure_ascii=False)
            lines.append(f"{li}  {ok}: `{wit}`" if md else f"{li}  {ok}: {wit}")
    for g in s.grounding["not_verbatim"][:10]:
        lines.append(f"{li}not verbatim ({g['fact']}): \"{g['quote'][:100]}\"")
    lines += ["", f"{h2}Confusion matrix (rows: the reference; columns: the candidate; scenarios)", ""]
    lines += _matrix(s, w, md)
    return "\n".join(lines)


def _matrix(s: Any, w: Words, md: bool) -> list[str]:
    rows = sorted(s.confusion)
    cols = sorted({c for r in s.confusion.values() for c in r} | set(rows))
    label = lambda o: w.outcome(o) if w.outcome(o) else o  # noqa: E731
    if md:
        out = ["| reference \\ candidate | " + " | ".join(label(c) for c in cols) + " |",
               "|---|" + "---|" * len(cols)]
        out += [f"| {label(r)} | " + " | ".join(str(s.confusion[r].get(c, "")) for c in cols) + " |" for r in rows]
        return out
    width = max(len(label(o)) for o in cols + rows)
    out = [" " * (width + 2) + "  ".join(f"{label(c)[:14]:>14}" for c in cols)]
    out += [f"{label(r):<{width}}  " + "  ".join(f"{s.confusion[r].get(c, ''):>14}" for c in cols) for r in rows]
    return out


def confusion_dot(s: Any) -> str:
    """The confusion matrix as a Graphviz table: the diagonal (decided alike)
    on green, every other cell that holds scenarios on red, with its count."""
    w = _words(s)
    rows = sorted(s.confusion)
    cols = sorted({c for r in s.confusion.values() for c in r} | set(rows))
    cell = '<TD BGCOLOR="{bg}">{t}</TD>'
    head = "".join(cell.format(bg="#eeeeee", t=_html(w.outcome(c) or c)) for c in cols)
    body = []
    for r in rows:
        tds = []
        for c in cols:
            n = s.confusion[r].get(c, 0)
            bg = "#d8f0d8" if r == c else "#f6d0d0" if n else "#ffffff"
            tds.append(cell.format(bg=bg, t=f"{n:,}" if n else ""))
        body.append(f"<TR>{cell.format(bg='#eeeeee', t=_html(w.outcome(r) or r))}{''.join(tds)}</TR>")
    table = (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="6">'
             f'<TR><TD BGCOLOR="#eeeeee">{_html("reference ↓ · candidate →")}</TD>{head}</TR>{"".join(body)}</TABLE>>')
    g = graphviz.Digraph("confusion", encoding="utf-8")
    g.attr(label=_esc(headline(s)), labelloc="t", fontname="Helvetica", fontsize="11")
    g.node("matrix", label=table, shape="plaintext", fontname="Helvetica", fontsize="10")
    return g.source


def confusion_svg(s: Any) -> str:
    return to_svg(confusion_dot(s))
