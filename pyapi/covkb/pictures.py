"""Pictures: a determination's derivation and a diff as Graphviz graphs.

The words are the text renderers' own: a derivation node's line is
``render.label`` in the policy's words (the determination's ``words``, as
text and Markdown read it), its quotes and interpretations
``render.detail_lines``; the caption is the decision sentence and what the
answer is about (``covkb.sentences``, ``render.about``).  Ids stay in the
machine's attributes only (each graph node's ``id``, the path of its
derivation node).  A diff's change and region lines come from ``diff`` in
the policy's words (``change_heading``, ``change_affects``,
``Region.describe``, ``Region.transition``, given the report's ``words``);
a region's witness is shown as the request it is (JSON, with ids).  This
module only lays them out, so a picture says exactly what the text says.

Every outcome is shown by colour *and* by something else: the derivation's
own words ("Met", "Not met", "not stated"), the border (solid: holds or favourable; dashed: does not
hold or less favourable; dotted: unknown or undecided) and the words.

Graphs are built with the ``graphviz`` binding's ``Digraph``, which quotes
identifiers and attribute values; labels are Graphviz HTML-like labels whose
text is escaped here (``_html``), plain attribute values have their
backslashes neutralised (``_esc``) and links are percent-encoded (``_url``),
so no text a request or a policy carries can change the DOT source's
structure or what it shows.  ``to_svg`` runs Graphviz's ``dot``.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import graphviz

from .determination import Determination, Node
from .diff import DiffReport, Region, change_affects, change_heading
from .errors import PictureError
from .outcomes import Outcomes
from .render import Detail, about, detail_lines, label
from .wording import Words

SectionPath = Callable[[str], str]
NodeLink = Callable[[Node], str | None]
RegionLink = Callable[[Region], str | None]

WRAP = 60          # characters per line of a node's text
REGIONS_SHOWN = 4  # regions drawn per change of a diff; the rest are counted
FONT = "Helvetica"


@dataclass(frozen=True, slots=True)
class Tone:
    """How a node shows its status: a light fill with dark text and border
    (WCAG AA contrast), and a border style that says the same without colour."""

    fill: str
    border: str
    style: str  # "solid" | "dashed" | "dotted"

    def attrs(self) -> dict[str, str]:
        return {"fillcolor": self.fill, "color": self.border, "style": f"rounded,filled,{self.style}",
                "penwidth": "1.5"}


# Okabe-Ito inspired: told apart by colour-blind readers too, and by the border style.
FAVOURABLE = Tone("#dff0e3", "#1b6e35", "solid")   # holds; medically necessary; coverage relaxed
ADVERSE = Tone("#fbe3e1", "#a3241c", "dashed")     # does not hold; coverage restricted
OPEN = Tone("#fff1cc", "#8a5a00", "dotted")        # unknown; needs more information
NEUTRAL = Tone("#eeeeee", "#4a4a4a", "solid")      # a fact, a service, a code, not addressed

# How an outcome is drawn is declared with its meaning (meaning_tone/2 in kb/vocabulary.pl).
OUTCOME_TONES = {"favourable": FAVOURABLE, "adverse": ADVERSE, "open": OPEN, "neutral": NEUTRAL}
_CHANGE_TONES = {
    "gained": FAVOURABLE, "relaxed": FAVOURABLE, "repaired": FAVOURABLE, "became_decided": FAVOURABLE,
    "broken": ADVERSE, "revoked": ADVERSE, "restricted": ADVERSE, "became_conditional": ADVERSE,
    "conditional_changed": OPEN, "maybe_changed": OPEN, "reason_changed": NEUTRAL,
}
_DETAIL_COLOURS = {"quote": "#1a1a1a", "note": "#1a1a1a", "referral": "#1a1a1a", "interpretation": "#2b4c7e"}
LEGEND = ("border: solid = holds / favourable · dashed = does not hold / less favourable · "
          "dotted = unknown / undecided")


def outcome_tone(outcome: str, meanings: Outcomes) -> Tone:
    """The tone of an outcome id, as its meaning is declared to be drawn."""
    return OUTCOME_TONES[meanings[outcome].tone]


def node_tone(n: Node, meanings: Outcomes) -> Tone:
    """The tone of one derivation node, read from the same attributes as
    the words its line says it in ("Met", "Not met", ...)."""
    g = n.get
    if n.kind in ("determination", "case", "outcome"):
        return outcome_tone(g("outcome"), meanings)
    if n.kind == "statement":
        return FAVOURABLE if g("applies") is True else ADVERSE
    if n.kind in ("requirement", "criteria", "criterion", "criterion_group"):
        return FAVOURABLE if g("holds") is True else ADVERSE
    if n.kind == "scope":
        return OPEN if g("value") == "unknown" else FAVOURABLE if g("value") == "yes" else ADVERSE
    if n.kind in ("fact", "partial_version") and (g("value") == "unknown" or n.kind == "partial_version"):
        return OPEN
    return NEUTRAL


def node_id(path: Sequence[int]) -> str:
    """The stable id of the derivation node at this path of child indexes
    from the root: ``n0`` is the root, ``n0-2-1`` its third child's second."""
    return "-".join(["n0", *map(str, path)])


# --- escaping -----------------------------------------------------------------

WORD_JOINER = "\u2060"


def _esc(s: str) -> str:
    """A plain DOT attribute value (a tooltip), read back from the SVG as
    the text: & as ``&amp;`` (dot keeps an entity as it is), a line break as
    DOT's ``\\n``, and each backslash doubled and followed by an invisible
    word joiner, since dot 2.43 expands ``\\N``, ``\\G``… even after a
    doubled backslash (the quotes are the binding's to escape)."""
    out = s.replace("\r", "").replace("&", "&amp;").replace("\\", "\\\\" + WORD_JOINER)
    return str(graphviz.nohtml(out.replace("\n", "\\n")))


# RFC 3986's unreserved and reserved characters but ' and &, and % (a
# caller's own escapes): every other character of a URL is percent-encoded.
_URL_SAFE = "-._~:/?#[]@!$()*+,;=%"


def _url(url: str) -> str:
    """A link target safe in the SVG: characters a URL may not hold
    (quotes, < >, spaces, backslashes, non-ASCII…) percent-encoded, since
    dot 2.43 writes ``xlink:href`` unescaped, and & as the entity ``&amp;``,
    which later dots keep as an entity: either way the SVG's href reads back
    as the URL."""
    return str(graphviz.nohtml(quote(url, safe=_URL_SAFE + "&").replace("&", "&amp;")))


def _html(s: str) -> str:
    """Text inside an HTML-like label: &, <, > and quotes as entities, and
    each backslash followed by a word joiner (dot 2.43 expands ``\\N``,
    ``\\G``… in these labels too, also when written ``&#92;N``)."""
    return html.escape(s, quote=True).replace("&#x27;", "&#39;").replace("\\", "\\" + WORD_JOINER)


def _lines(text: str, width: int = WRAP) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _block(text: str, *, bold: bool = False, italic: bool = False, colour: str | None = None,
           width: int = WRAP) -> str:
    """Wrapped text as left-aligned lines of an HTML-like label."""
    body = '<BR ALIGN="LEFT"/>'.join(_html(line) for line in _lines(text, width)) + '<BR ALIGN="LEFT"/>'
    if bold:
        body = f"<B>{body}</B>"
    if italic:
        body = f"<I>{body}</I>"
    if colour:
        body = f'<FONT COLOR="{colour}">{body}</FONT>'
    return body


def _label(blocks: Sequence[str]) -> str:
    return "<" + "".join(blocks) + ">"


# --- a determination ----------------------------------------------------------

def determination_dot(det: Determination, *, section_path: SectionPath | None = None,
                      link: NodeLink | None = None) -> str:
    """The derivation tree of a determination as DOT source.

    One graph node per derivation node (``det.explanation.walk()``), an edge
    from each node to each of its children, laid out left to right like the
    text tree.  A node shows ``render.label`` in the policy's words
    (``det.words``) in bold, then each of its ``render.detail_lines``: verbatim quotes with their section path, and
    interpretations in italics, prefixed "interpretation:", so they are not
    read as the policy's words.  Its tooltip is the same text, unwrapped.

    :param det: the determination; its decision sentence and what it is
        about (``render.about``) become the graph's caption, with a legend
        of the border styles.
    :param section_path: a section id → its path ("Coverage Policy >
        Treatment"); by default read from ``det.citations`` (else the id).
    :param link: a derivation node → a URL or None; a URL becomes the
        node's ``URL`` with ``target="_top"``, so that an SVG embedded in a
        page opens it in the whole window.
    :returns: DOT source; each node's ``id`` is ``node_id(path)``
        (``n0``, ``n0-2-1``…), which SVG output keeps as the node's
        ``<g id=...>``.
    """
    paths = {c.section: c.section_path for c in det.citations}
    path_of: SectionPath = section_path or (lambda s: paths.get(s, s))
    words = det.words or Words()
    reading = det.reading()
    g = _digraph("determination", caption=[reading.summary, *about(det, reading), LEGEND])
    seen: set[str] = set()

    def add(n: Node, path: tuple[int, ...], statement: str | None = None, section: str | None = None) -> str:
        name = node_id(path)
        statement = n.get("id") if n.kind == "statement" else statement  # a criterion's statement
        line = label(n, words, statement)
        details = detail_lines(n, path_of, seen, section)
        tooltip = "\n".join([line, *(d.text for d in details)])
        attrs = {**node_tone(n, det.meanings).attrs(), "id": name, "tooltip": _esc(tooltip)}
        url = link(n) if link is not None else None
        if url:
            attrs.update(URL=_url(url), target="_top")
        g.node(name, _label([_block(line, bold=True), *map(_detail, details)]), **attrs)
        for i, child in enumerate(n.children):
            g.edge(name, add(child, (*path, i), statement, n.get("section") or section))
        return name

    add(det.explanation, ())
    return str(g.source)


def _detail(d: Detail) -> str:
    interpretation = d.kind == "interpretation"
    return _block(d.text, italic=interpretation, colour=_DETAIL_COLOURS.get(d.kind))


# --- a diff --------------------------------------------------------------------

def diff_dot(report: DiffReport, *, witness_link: RegionLink | None = None,
             regions_shown: int = REGIONS_SHOWN) -> str:
    """A diff as DOT source: the two versions' summary line, one cluster per
    change (``report.changes()``), each with the change's node (its kind,
    what changed, the services and codes it affects) and a node per region
    (its conditions, before → after, its witness request).

    :param report: the diff.
    :param witness_link: a region → a URL or None (e.g. the region's witness
        opened in a determine page); a URL becomes the region node's ``URL``
        with ``target="_top"``.
    :param regions_shown: at most this many regions are drawn per change;
        the others are counted in one more node ("… and N more regions"),
        so a large diff stays legible.
    :returns: DOT source; ids are ``diff`` (the summary), ``c3`` (the fourth
        change) and ``c3-r0`` (its first region drawn), ``c3-more``.
    """
    words = report.words
    g = _digraph("diff", caption=[LEGEND])
    g.node("diff", _label([_block(f"covkb diff {report.a} → {report.b}", bold=True),
                           _block(report.summary_line())]),
           id="diff", tooltip=_esc(report.summary_line()), **NEUTRAL.attrs())
    for ci, c in enumerate(report.changes()):
        cid = f"c{ci}"
        tone = _CHANGE_TONES.get(c["kind"], NEUTRAL)
        with g.subgraph(name=f"cluster_{cid}") as sub:
            sub.attr(color=tone.border, style=tone.style, id=f"cluster-{cid}", label="")
            head = change_heading(c, words, report.regions[c["regions"][0]] if c["regions"] else None)
            affects = change_affects(c, words)
            sub.node(cid, _label([_block(head, bold=True), *(_block(line) for line in affects)]),
                     id=cid, tooltip=_esc("\n".join([head, *affects])), **tone.attrs())
            shown: list[tuple[str, str, dict[str, str]]] = []
            for k, i in enumerate(c["regions"][:regions_shown]):
                r = report.regions[i]
                rid = f"{cid}-r{k}"
                witness = json.dumps(r.witness, ensure_ascii=False)
                lines = [r.describe(words), r.transition(words), f"witness: {witness}"]
                attrs = {**_CHANGE_TONES.get(r.kind, NEUTRAL).attrs(), "id": rid, "tooltip": _esc("\n".join(lines))}
                url = witness_link(r) if witness_link is not None else None
                if url:
                    attrs.update(URL=_url(url), target="_top")
                shown.append((rid, _label([_block(lines[0]), _block(lines[1], bold=True),
                                           _block(lines[2], colour="#2b4c7e")]), attrs))
            hidden = len(c["regions"]) - regions_shown
            if hidden > 0:
                more = f"… and {hidden} more region{'s' if hidden > 1 else ''}"
                shown.append((f"{cid}-more", _label([_block(more, italic=True)]),
                              {"id": f"{cid}-more", "tooltip": _esc(more), **NEUTRAL.attrs()}))
            # dot stacks a cluster's nodes of one rank bottom-up when laid out
            # left to right: given last to first, they read top-down
            for name, text, attrs in reversed(shown):
                sub.node(name, text, **attrs)
                sub.edge(cid, name)
        g.edge("diff", cid)
    return str(g.source)


# --- shared ------------------------------------------------------------------

def _digraph(name: str, *, caption: Sequence[str]) -> graphviz.Digraph:
    g = graphviz.Digraph(name, encoding="utf-8")
    g.attr(rankdir="LR", ordering="out", fontname=FONT, fontsize="11", labelloc="t", labeljust="l",
           label=_label([_block(line, width=120) for line in caption]), id=name)
    g.attr("node", shape="box", fontname=FONT, fontsize="10", margin="0.12,0.06")
    g.attr("edge", color="#6b6b6b", arrowsize="0.6")
    return g


def to_svg(dot_source: str) -> str:
    """Lay a DOT source out with Graphviz's ``dot`` as SVG text.

    :raises PictureError: ``dot`` is not installed (not on PATH) or failed
        on the source; its message is one line.
    """
    try:
        svg: bytes = graphviz.Source(dot_source, encoding="utf-8").pipe(format="svg")
        return svg.decode("utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise PictureError("drawing a picture needs Graphviz's `dot` on PATH "
                           "(Debian: apt-get install graphviz; or `make graphviz`)") from exc
    except graphviz.CalledProcessError as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        first = next((line for line in err.splitlines() if line.strip()), f"exit status {exc.returncode}")
        raise PictureError(f"Graphviz's dot failed: {first.strip()[:300]}") from exc


__all__ = ["Tone", "determination_dot", "diff_dot", "node_id", "node_tone", "outcome_tone", "to_svg"]
