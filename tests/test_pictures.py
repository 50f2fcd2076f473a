"""Pictures of a derivation and of a diff (covkb.pictures), drawn by the
real Graphviz from determinations of the real engines.

An SVG is read back with xml.etree: a graph node is a ``<g class="node">``
whose id is the one the DOT gave it, its text the ``<text>`` lines, its
tooltip the ``xlink:title`` of its ``<a>``.

A node is labelled in the policy's words, as text and Markdown read it
(``render.label`` with the determination's ``words``); ids stay in the
machine's attributes (the node's ``id``).  Data-driven over every named
query of every installed policy and of the test policy: no id with a label
or template shows in a picture (``wording_checks.ids_shown``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest
from samples import in_make_test, sampled
from wording_checks import ids_shown

from covkb import KnowledgeBase, PictureError
from covkb.determination import Citation, Determination, Node
from covkb.diff import DiffReport, diff
from covkb.pictures import REGIONS_SHOWN, WORD_JOINER, determination_dot, diff_dot, node_id, to_svg
from covkb.policy import Policy, policy_folders
from covkb.queries import NamedQuery, load_queries, load_query
from covkb.render import label
from covkb.wording import Words

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
COVKB = [sys.executable, "-m", "covkb.cli"]
ENGINES = ["prolog", "asp"]

# named queries of the installed policy: one per kind of derivation
QUERIES = [
    "cpt_59325_with_cone_biopsy_is_medically_necessary",                # ontology step, criteria
    "cpt_59325_without_conditions_criteria_not_met",                   # every criterion fails
    "cpt_83520_without_analyte_needs_more_information",                # cases
    "cpt_96365_ivig_is_referred_to_the_immune_globulin_policy",        # code, referral
    "in_2024_nk_cell_testing_is_unknown",                              # a partly known version
]


@pytest.fixture(scope="module", params=ENGINES)
def engine_kb(request: pytest.FixtureRequest) -> KnowledgeBase:
    if request.param == "prolog":  # one SWI-Prolog per process: share the session's
        kb: KnowledgeBase = request.getfixturevalue("kb")
        return kb
    return KnowledgeBase(engine="asp", today=request.getfixturevalue("kb").today)


def _determine(kb: KnowledgeBase, name: str) -> Determination:
    q = load_query(name)
    return kb.determine(q.request, version=q.version_ref())


def _nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


def _text(g: ET.Element) -> str:
    return " ".join(t.text or "" for t in g.iter(f"{SVG}text")).replace(WORD_JOINER, "")


def _tooltip(g: ET.Element) -> str:
    """The node's tooltip, less the invisible word joiners that keep dot
    from reading a backslash as an escape."""
    return next(a.get(f"{XLINK}title", "") for a in g.iter(f"{SVG}a")).replace(WORD_JOINER, "")


def _squash(s: str) -> str:
    return "".join(s.split())


def _paths(n: Node, path: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Node]]:
    out = [(path, n)]
    for i, c in enumerate(n.children):
        out += _paths(c, (*path, i))
    return out


def _worded(det: Determination) -> dict[tuple[int, ...], str]:
    """Each node's path → its line in words, as the text tree words it (a
    criterion read under the statement it belongs to)."""
    words = det.words or Words()
    out: dict[tuple[int, ...], str] = {}

    def walk(n: Node, path: tuple[int, ...], statement: str | None) -> None:
        statement = n.get("id") if n.kind == "statement" else statement
        out[path] = label(n, words, statement)
        for i, c in enumerate(n.children):
            walk(c, (*path, i), statement)

    walk(det.explanation, (), None)
    return out


# --- a determination ----------------------------------------------------------

@pytest.mark.parametrize("name", QUERIES)
def test_every_derivation_node_becomes_exactly_one_graph_node_with_its_path_as_id(
        engine_kb: KnowledgeBase, name: str) -> None:
    det = _determine(engine_kb, name)
    nodes = _nodes(to_svg(determination_dot(det)))
    assert sorted(nodes) == sorted(node_id(p) for p, _ in _paths(det.explanation))


@pytest.mark.parametrize("name", QUERIES)
def test_each_graph_node_says_what_the_text_tree_says_of_its_derivation_node(
        engine_kb: KnowledgeBase, name: str) -> None:
    from covkb.render import details

    det = _determine(engine_kb, name)
    section_path = engine_kb.policy.data(det.version).section_path
    nodes = _nodes(to_svg(determination_dot(det, section_path=section_path)))
    seen: set[str] = set()
    worded = _worded(det)
    nodes_at = dict(_paths(det.explanation))
    for path, n in _paths(det.explanation):
        # a quote without a section of its own stands in the section of the statement above (as the text tree says)
        above = next((nodes_at[path[:i]].get("section") for i in range(len(path) - 1, -1, -1)
                      if nodes_at[path[:i]].get("section")), None)
        words = [worded[path], *details(n, section_path, seen, above)]
        g = nodes[node_id(path)]
        assert _tooltip(g) == "\n".join(words)
        assert _squash(_text(g)) == _squash(" ".join(words))


def test_the_picture_of_a_medically_necessary_determination_holds_the_statements_verbatim_quotes(
        engine_kb: KnowledgeBase) -> None:
    det = _determine(engine_kb, QUERIES[0])
    assert det.outcome == "medically_necessary"
    shown = _squash(" ".join(_text(g) for g in _nodes(to_svg(determination_dot(det))).values()))
    statement_quotes = [q for _, n in _paths(det.explanation) if n.kind == "statement" for q in n.get("quotes")]
    assert statement_quotes and all(_squash(q) in shown for q in statement_quotes)
    assert all(_squash(c.quote) in shown for c in det.citations)


def test_the_picture_opens_with_the_decision_sentence_and_labels_its_nodes_in_words(kb: KnowledgeBase) -> None:
    det = _determine(kb, QUERIES[0])
    svg = to_svg(determination_dot(det))
    caption = " ".join(t.text or "" for t in ET.fromstring(svg).find(f"{SVG}g").findall(f"{SVG}text"))
    assert _squash(caption).startswith(_squash(det.reading().summary))
    shown = [_text(g) for g in _nodes(svg).values()]
    assert any(t.startswith("Met: prior cervical trauma [") for t in shown)  # then its quote
    assert "Medically necessary: how covkb derived it" in shown
    assert not any("prior_cervical_trauma" in t or "medically_necessary" in t for t in shown)
    assert "n0" in _nodes(svg)  # the ids stay, in the machine's attributes


TEST_POLICY = str(Path(__file__).parent / "policies" / "example_pap")
POLICIES = [p.name.replace("_", "-") for p in policy_folders()] + [TEST_POLICY]
_KBS: dict[tuple[str, str], KnowledgeBase] = {}


def _policy_kb(policy: str, engine: str = "prolog") -> KnowledgeBase:
    if (policy, engine) not in _KBS:
        _KBS[(policy, engine)] = KnowledgeBase(policy=policy, engine=engine)
    return _KBS[(policy, engine)]


NAMED = [(p, q) for p in POLICIES for q in load_queries(_policy_kb(p).policy.queries_dir) if "error" not in q.expect]
# a picture says what the text tree says (render.label, on every named query's text in test_sentences.py),
# and Graphviz lays out the largest derivations (several hundred cases) in half a minute each: a sample
# of the queries in make test, every one in the exhaustive tier (tests/samples.py)


@pytest.mark.parametrize("policy,query", sampled(NAMED))
def test_no_picture_of_a_named_query_shows_an_id_that_has_words(policy: str, query: NamedQuery) -> None:
    kb = _policy_kb(policy)
    det = kb.determine(query.request, version=query.version_ref())
    svg = to_svg(determination_dot(det, section_path=kb.policy.data(det.version).section_path))
    root = ET.fromstring(svg)
    shown = " ".join(t.text or "" for t in root.iter(f"{SVG}text")).replace(WORD_JOINER, "")
    tooltips = "\n".join(a.get(f"{XLINK}title", "") for a in root.iter(f"{SVG}a")).replace(WORD_JOINER, "")
    assert ids_shown(shown, det.words) == []
    assert ids_shown(tooltips, det.words) == []


def test_interpretations_are_drawn_in_italics_after_the_word_interpretation(kb: KnowledgeBase) -> None:
    det = _determine(kb, QUERIES[0])
    nodes = _nodes(to_svg(determination_dot(det)))
    marked = [node_id(p) for p, n in _paths(det.explanation) if n.get("interpretation")]
    assert marked
    for nid in marked:
        lines = list(nodes[nid].iter(f"{SVG}text"))
        first = next(i for i, t in enumerate(lines) if (t.text or "").startswith("interpretation:"))
        assert all(t.get("font-style") == "italic" for t in lines[first:])
        assert all(t.get("font-style") != "italic" for t in lines[:first])


BORDERS = [  # a node kind's status, its words (as a justification's step says it), the border that says it without colour
    ("criterion", {"holds": True}, "Met: ", None),
    ("criterion", {"holds": False}, "Not met: ", "5,2"),
    ("scope", {"value": "unknown"}, "Not known whether the policy addresses it", "1,5"),
]


@pytest.mark.parametrize("kind,attrs,mark,dashes", BORDERS, ids=[f"{k} {a} is drawn with {d or 'a solid'} border"
                                                                for k, a, _, d in BORDERS])
def test_a_status_is_told_by_words_and_border_not_colour_alone(kind: str, attrs: dict[str, object], mark: str,
                                                              dashes: str | None) -> None:
    n = Node.from_dict({"kind": kind, "id": "x", **attrs})
    g = _nodes(to_svg(determination_dot(_by_hand(n))))["n0"]
    assert _text(g).startswith(mark)
    assert next(g.iter(f"{SVG}path")).get("stroke-dasharray") == dashes


def test_link_gives_each_node_with_a_section_its_url_opened_in_the_whole_window(kb: KnowledgeBase) -> None:
    det = _determine(kb, QUERIES[0])
    nodes = _nodes(to_svg(determination_dot(det, link=lambda n: f"/policy/p/v#{n.get('section')}"
                                            if n.get("section") else None)))
    for path, n in _paths(det.explanation):
        a = next(nodes[node_id(path)].iter(f"{SVG}a"))
        if n.get("section"):
            assert (a.get(f"{XLINK}href"), a.get("target")) == (f"/policy/p/v#{n.get('section')}", "_top")
        else:
            assert a.get(f"{XLINK}href") is None


HOSTILE = [
    'say "hi"',
    "back\\slash \\N \\G \\l \\n end\\",
    "<b>bold</b> <BR/> & &amp; &#39; ]]> --> <!--",
    "}; digraph x { a -> b [label=\"pwn\"] } //",
    "ünïcödé ı 𝔘 ✓ مرحبا \u200f",
    "two\nlines",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_id_quote_or_url_is_escaped_and_shown_as_sent(text: str) -> None:
    n = Node.from_dict({"kind": "criterion", "id": text, "holds": True, "section": "s", "quote": text,
                        "children": [{"kind": "fact", "id": text, "value": "yes", "source": "request"}]})
    det = _by_hand(n)
    dot = determination_dot(det, link=lambda _: f"/policy?q={text}")
    nodes = _nodes(to_svg(dot))
    assert sorted(nodes) == ["n0", "n0-0"]  # no node or edge more than the derivation's
    g = nodes["n0"]
    assert _tooltip(g) == f'Met: {text}\n[s] "{text}"'
    href = next(g.iter(f"{SVG}a")).get(f"{XLINK}href", "")
    assert unquote(href) == f"/policy?q={text}"  # percent-encoded where a URL may not hold the text
    assert href.isascii() and not set(href) & set(' "<>\\\n')
    assert _squash(_text(g)) == _squash(f'Met: {text} [s] "{text}"')


def _by_hand(n: Node) -> Determination:
    return Determination(outcome="medically_necessary", policy="p", version="v", statement=None, criteria_met=(),
                         missing=(), possible_outcomes=(), referral=None,
                         citations=(Citation("s", "s", "q"),), explanation=n)


def test_svg_output_is_well_formed_xml_with_one_svg_root(engine_kb: KnowledgeBase) -> None:
    root = ET.fromstring(to_svg(determination_dot(_determine(engine_kb, QUERIES[2]))))
    assert root.tag == f"{SVG}svg"


def test_dot_that_graphviz_cannot_read_is_a_one_line_picture_error() -> None:
    with pytest.raises(PictureError) as exc:
        to_svg("digraph { a -> }")
    assert exc.value.code == "picture" and "\n" not in exc.value.message


# --- a diff ----------------------------------------------------------------------

DIFFS = [("2024-04-15", "2025-02-15"), ("before-2024-04-15", "2025-02-15")]


@pytest.fixture(scope="module", params=DIFFS, ids=["-".join(d) for d in DIFFS])
def report(request: pytest.FixtureRequest) -> DiffReport:
    return diff(Policy(policy="cigna-0284"), *request.param)


@pytest.mark.slow
def test_a_diff_draws_a_cluster_per_change_and_at_most_a_few_regions_each(report: DiffReport) -> None:
    svg = to_svg(diff_dot(report, witness_link=lambda r: "/determine?" + r.root.get("service", r.root.get("cpt", ""))))
    root = ET.fromstring(svg)
    clusters = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]
    changes = report.changes()
    assert len(clusters) == len(changes)
    nodes = _nodes(svg)
    for i, c in enumerate(changes):
        regions = [k for k in nodes if k.startswith(f"c{i}-r")]
        assert len(regions) == min(len(c["regions"]), REGIONS_SHOWN)
        hidden = len(c["regions"]) - REGIONS_SHOWN
        assert (f"c{i}-more" in nodes) == (hidden > 0)
        if hidden > 0:
            assert f"and {hidden} more region" in _text(nodes[f"c{i}-more"])
        for k, j in enumerate(c["regions"][:REGIONS_SHOWN]):
            r = report.regions[j]
            g = nodes[f"c{i}-r{k}"]
            assert r.transition(report.words) in _tooltip(g)
            assert next(g.iter(f"{SVG}a")).get("target") == "_top"
    assert len(nodes) <= 1 + len(changes) * (2 + REGIONS_SHOWN)


@pytest.mark.slow
def test_a_diffs_changes_and_regions_are_drawn_in_words_and_only_the_witness_request_keeps_ids(
        report: DiffReport) -> None:
    nodes = _nodes(to_svg(diff_dot(report)))
    for i, c in enumerate(report.changes()):
        head = _tooltip(nodes[f"c{i}"])
        assert head.startswith(c["kind"].replace("_", " ") + ": ") and ids_shown(head, report.words) == []
        for k, j in enumerate(c["regions"][:REGIONS_SHOWN]):
            described, transition, witness = _tooltip(nodes[f"c{i}-r{k}"]).split("\n")
            r = report.regions[j]
            assert transition == r.transition(report.words) and described == r.describe(report.words)
            assert ids_shown(f"{described} {transition}", report.words) == []
            assert witness.startswith("witness: {")


def test_a_large_diff_is_collapsed_per_change(report: DiffReport) -> None:
    if max(len(c["regions"]) for c in report.changes()) <= REGIONS_SHOWN:
        pytest.skip("no change of this diff has more regions than are drawn")
    assert len(_nodes(to_svg(diff_dot(report)))) < 1 + len(report.changes()) + len(report.regions)


# --- the command line -------------------------------------------------------------

def covkb(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COVKB, *args], capture_output=True, text=True, timeout=180, env=env)


DETERMINE = ["determine", "--cpt", "59325", "--losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.slow
def test_determine_format_svg_prints_an_svg_with_every_derivation_node(engine_kb: KnowledgeBase, engine: str) -> None:
    r = covkb(*DETERMINE, "--engine", engine, "--format", "svg")
    assert r.returncode == 0, r.stderr
    det = engine_kb.determine(load_query(QUERIES[0]).request)
    assert r.stdout.lstrip().startswith("<?xml") and "<svg" in r.stdout
    assert len(_nodes(r.stdout)) == len(_paths(det.explanation))


def test_determine_format_dot_prints_dot_source_graphviz_reads() -> None:
    r = covkb(*DETERMINE, "--format", "dot")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("digraph determination {")
    ET.fromstring(to_svg(r.stdout))


@pytest.mark.slow
def test_diff_format_dot_of_two_real_versions_is_dot_graphviz_reads() -> None:
    r = covkb("diff", "--policy", "cigna-0284", *DIFFS[0], "--format", "dot")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("digraph diff {") and "cluster_c0" in r.stdout
    ET.fromstring(to_svg(r.stdout))


@pytest.mark.slow
def test_diff_format_svg_prints_an_svg() -> None:
    r = covkb("diff", "--policy", "cigna-0284", *DIFFS[0], "--format", "svg")
    assert r.returncode == 0, r.stderr
    assert ET.fromstring(r.stdout).tag == f"{SVG}svg"


def test_a_command_that_draws_nothing_refuses_format_svg_in_one_line() -> None:
    r = covkb("check", "2025-02-15", "--format", "svg")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "'svg' is not one of" in r.stderr


@pytest.mark.slow
def test_svg_without_graphviz_dot_on_path_is_a_one_line_error_and_exit_2(tmp_path: Path) -> None:
    bin_ = tmp_path / "bin"  # a PATH with the engines' programs but no dot
    bin_.mkdir()
    for prog in ("swipl",):
        if (where := shutil.which(prog)) is not None:
            (bin_ / prog).symlink_to(where)
    env = {**os.environ, "PATH": str(bin_)}
    for args in (DETERMINE, ["diff", "--policy", "cigna-0284", *DIFFS[0]]):
        r = covkb(*args, "--format", "svg", env=env)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "needs Graphviz's `dot`" in r.stderr
        assert "Traceback" not in r.stderr
    assert covkb(*DETERMINE, "--format", "dot", env=env).returncode == 0  # DOT source needs no dot


FICTIONAL = [(p, q) for p, q in NAMED if p == TEST_POLICY]


@pytest.mark.slow
@pytest.mark.parametrize("policy,query", sampled(FICTIONAL))
def test_the_fictional_test_policys_determinations_draw_one_graph_node_per_derivation_node(
        policy: str, query: NamedQuery) -> None:
    det = _policy_kb(policy, "asp").determine(query.request, version=query.version_ref())
    assert len(_nodes(to_svg(determination_dot(det)))) == len(_paths(det.explanation))


def test_the_sample_of_pictures_has_every_outcome_of_every_policy() -> None:
    shown = in_make_test(sampled(NAMED))
    assert {(p, q.expect.get("outcome")) for p, q in NAMED} == {(p, q.expect.get("outcome")) for p, q in
                                                                 (x.values for x in shown)}
    assert len(in_make_test(sampled(FICTIONAL))) >= 5
