"""The web pages over HTTP: a real server on 127.0.0.1 (the engines, never
mocks), its pages fetched with httpx.  What a page shows is what the API
answers; the address is the request; every quote a page links to is marked
in the policy view; hostile addresses stay data.  The browser tests
(tests/test_web_browser.py) click through the same server's pages."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings, strategies as st

from samples import sampled

from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.web.forms import answered, query_from_request, request_from_query
from covkb.web.views import quote_anchor

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a real server (and many pages): not in make test-fast
POLICIES = [Policy(policy=f) for f in policy_folders()]
CIGNA = next(p for p in POLICIES if p.number == "cigna-0284")
QUERIES = [(p, q) for p in POLICIES for q in load_queries(p.queries_dir)
           if q.version is None or q.version in {v.id for v in p.versions}]


@pytest.fixture(scope="module")
def server(web_server):
    return web_server


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120, follow_redirects=True) as c:
        yield c


class Page(HTMLParser):
    """The ids, links and data-outcome of a page, as a browser would read them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.outcome: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("data-outcome"):
            self.outcome = a["data-outcome"]


def page_query(p: Policy, request: dict, version: str | None = None) -> str:
    params = [("policy", p.number)] + query_from_request(request) + ([("version", version)] if version else [])
    return "/determine?" + urlencode(params)


# -- Determine ---------------------------------------------------------------------

@pytest.mark.parametrize("policy,query", QUERIES, ids=[f"{p.number}:{q.name}" for p, q in QUERIES])
def test_the_determine_page_decides_each_named_query_as_it_expects(client, policy, query) -> None:
    r = client.get(page_query(policy, query.request, query.version))
    expected = query.expect.get("outcome")
    if "error" in query.expect:  # the error the CLI gives is the page's one-line error
        assert r.status_code == 422 and 'class="error" role="alert"' in r.text
        return
    assert r.status_code == 200, r.text[:300]
    page = Page(r.text)
    assert page.outcome == expected
    if query.expect.get("statement"):
        assert f"#st-{query.expect['statement']}" in r.text


ONE_PER_OUTCOME = list({(p.number, q.expect.get("outcome")): (p, q) for p, q in QUERIES if "outcome" in q.expect}.values())


@pytest.mark.parametrize("policy,query", ONE_PER_OUTCOME, ids=[f"{p.number}:{q.name}" for p, q in ONE_PER_OUTCOME])
def test_the_clingo_engine_decides_on_the_page_as_prolog_does(client, policy, query) -> None:
    pages = {e: client.get(page_query(policy, query.request, query.version) + f"&engine={e}").text
             for e in ("prolog", "asp")}
    assert Page(pages["asp"]).outcome == Page(pages["prolog"]).outcome == query.expect["outcome"]
    assert "engine asp" in pages["asp"]


def test_the_page_shows_what_the_api_answers(client) -> None:
    q = {"cpt": "59325", "pregnant": True, "findings": ["cone_biopsy"], "prior_pregnancy_losses": 2,
         "date_of_service": "2025-06-01"}
    api = client.post("/v1/determine?policy=cigna-0284", json=q).json()
    page = client.get(page_query(CIGNA, q)).text
    assert Page(page).outcome == api["outcome"] == "medically_necessary"
    for c in api["citations"]:  # every citation is on the page, linked to its place in the policy view
        assert f"#{quote_anchor(c['quote'])}" in page
    dl = client.get(page_query(CIGNA, q).replace("/determine?", "/determine.json?"))
    assert dl.json() == api and "attachment" in dl.headers["content-disposition"]


_VIEWS: dict[str, Page] = {}  # the policy views, each fetched once


# a sample of the named queries (one per policy and outcome) in make test, the rest in the exhaustive tier
@pytest.mark.parametrize("policy,query", sampled(QUERIES, lambda p: p.number))
def test_every_quote_a_determine_page_links_is_marked_in_the_policy_view(client, policy, query) -> None:
    page = Page(client.get(page_query(policy, query.request, query.version)).text)
    for t in {urlsplit(h) for h in page.links if h.startswith("/policy/") and "#" in h}:
        _VIEWS.setdefault(t.path, Page(client.get(t.path).text))
        assert t.fragment in _VIEWS[t.path].ids, (query.name, t)


@pytest.mark.parametrize("request_,fact,decides", [
    # the closed reading: the answer to the one question then decides
    ({"service": "transabdominal_cerclage", "unlisted_findings": "absent"}, "recurrent_pregnancy_loss",
     {"yes": "criteria_not_met", "no": "not_addressed"}),
    ({"cpt": "83520", "prior_pregnancy_losses": 2}, "analyte",
     {"inhibin_b_test": "not_medically_necessary", "placental_ppar_test": "not_medically_necessary",
      "placental_tnf_alpha_test": "not_medically_necessary"}),
    ({"cpt": "58578", "prior_pregnancy_losses": 2, "pregnant": True, "findings": ["cone_biopsy"]}, "service",
     {"transabdominal_cerclage": "medically_necessary"}),
    ({"service": "transabdominal_cerclage", "pregnant": True, "prior_pregnancy_losses": 2,
      "unknown_findings": ["cone_biopsy"], "unlisted_findings": "absent"}, "prior_cervical_trauma",
     {"yes": "medically_necessary", "no": "criteria_not_met"}),
], ids=["a count settles recurrent pregnancy loss", "the analyte says which test CPT 83520 reports",
        "naming the service says what CPT 58578 reports",
        "no prior cervical trauma also settles the unknown cone biopsy, one of its examples"])
def test_an_undecided_request_asks_what_it_depends_on_and_each_answer_decides(client, request_, fact, decides) -> None:
    r = client.get(page_query(CIGNA, {**request_, "date_of_service": "2025-06-01"}))
    assert Page(r.text).outcome == "insufficient_information"
    block = re.search(rf'<div class="question" data-fact="{fact}">(.*?)</div>', r.text, re.S).group(1)
    answers = re.findall(r'<a class="answer" href="([^"]+)" data-value="(\w+)"', block)
    assert {v for _, v in answers} == set(decides)  # "another one" cannot be stated, so it has no link
    assert {v: Page(client.get(html.unescape(h)).text).outcome for h, v in answers} == decides


@pytest.mark.parametrize("address,why", [
    ("/determine?policy=cigna-0284&shoe_size=9", "unknown field"),
    ("/determine?policy=cigna-0284&service=nk_cell_tset", "did you mean"),
    ("/determine?policy=cigna-0284&prior_pregnancy_losses=two", "whole number"),
    ("/determine?policy=cigna-0284&pregnant=maybe", "not yes or no"),
    ("/determine?policy=cigna-0284&cpt=%3Cscript%3Ealert(1)%3C/script%3E", "not a CPT"),
    ("/determine?policy=cigna-0284&version=../../etc/passwd&service=ivig", "no version"),
])
def test_a_bad_address_is_a_one_line_error_on_the_page_never_a_traceback(client, address, why) -> None:
    r = client.get(address)
    assert r.status_code == 422
    error = re.search(r'<div class="error" role="alert">(.*?)</div>', r.text, re.S).group(1)
    assert why in error and "Traceback" not in r.text and "<script>" not in r.text


def test_a_form_sent_with_empty_fields_is_answered_at_the_short_address(client) -> None:
    r = client.get("/determine?policy=cigna-0284&service=&cpt=59325&pregnant=&engine=prolog", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/determine?policy=cigna-0284&cpt=59325"


def test_an_unknown_policy_or_version_is_a_404_page(client) -> None:
    for address, why in (("/determine?policy=no-such-policy", "no policy 'no-such-policy'; installed: "),
                         ("/policy/cigna-0284/1999-01-01", "no version '1999-01-01'")):
        r = client.get(address)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and why in html.unescape(r.text)


# -- the address is the request -----------------------------------------------------------

VOCAB = CIGNA.data(CIGNA.latest()).vocabulary
_request = st.fixed_dictionaries({}, optional={
    "service": st.sampled_from(sorted(VOCAB.services)),
    "cpt": st.sampled_from(sorted(VOCAB.codes)),
    "date_of_service": st.dates().map(lambda d: d.isoformat()),
    "findings": st.lists(st.sampled_from(sorted(VOCAB.findings)), min_size=1, unique=True),
    "unknown_findings": st.lists(st.sampled_from(sorted(VOCAB.findings)), min_size=1, unique=True),
    **{f.name: (st.booleans() if f.kind == "boolean" else st.integers(f.minimum or 0, f.maximum or 99) if f.numeric
                else st.lists(st.sampled_from(["N96", "O26.21", "Z87.51"]), min_size=1, unique=True))
       for f in VOCAB.fields.values()},
    **{q: st.sampled_from(vs) for q, vs in VOCAB.qualifier_values.items() if vs},
})


@settings(max_examples=200, deadline=None)
@given(_request)
def test_a_request_survives_the_round_trip_through_its_address(request) -> None:
    params = parse_qsl(urlencode([("policy", "x")] + query_from_request(request)))
    assert request_from_query(params, VOCAB) == request


def test_answering_an_unknown_finding_takes_it_off_the_unknown_list() -> None:
    req = {"service": "transabdominal_cerclage", "unknown_findings": ["cone_biopsy", "shortened_cervical_length"]}
    assert answered(req, ["cone_biopsy"], {"findings": ["cone_biopsy"]}) == {
        "service": "transabdominal_cerclage", "unknown_findings": ["shortened_cervical_length"], "findings": ["cone_biopsy"]}
    assert answered(req, ["cone_biopsy"], {}) == {"service": "transabdominal_cerclage",
                                                "unknown_findings": ["shortened_cervical_length"]}


# -- Policy (literate view) ------------------------------------------------------------------

@pytest.mark.parametrize("policy,version", [(p, v) for p in POLICIES for v in p.versions],
                         ids=[f"{p.number}@{v.id}" for p in POLICIES for v in p.versions])
def test_the_policy_view_marks_every_quote_of_the_version_found_in_its_text(client, policy, version) -> None:
    r = client.get(f"/policy/{policy.number}/{version.id}")
    assert r.status_code == 200
    page = Page(r.text)
    data = policy.data(version)
    found = {quote_anchor(q) for _, q in data.quotes() if data.quote_position(q) >= 0}
    assert found and found <= page.ids
    for st_id in data.vocabulary.statements:  # every statement's encoding has its place
        assert f"st-{st_id}" in page.ids
    if version.knowledge == "partial":
        assert "only partly known" in r.text


def test_the_policy_view_marks_interpretations_and_what_is_not_formalised(client) -> None:
    r = client.get("/policy/cigna-0284/2025-02-15").text
    assert "badge interp\">with interpretation" in r and "badge interp\">interpretation</span> <span class=\"fact fk-interpretation" in r
    assert "not formalised" in r and 'class="q k-not_formalised"' in r


# -- Revisions ------------------------------------------------------------------------------

def test_the_revisions_page_shows_the_diff_and_each_witness_opens_on_both_sides(client) -> None:
    r = client.get("/revisions?policy=cigna-0284&a=before-2024-04-15&b=2024-04-15")
    assert r.status_code == 200
    api = client.get("/v1/policies/cigna-0284/diff?a=before-2024-04-15&b=2024-04-15").json()
    assert r.text.count('<li class="change') == len(api["changes"]) > 0
    before = re.findall(r'class="open-before" href="([^"]+)"', r.text)
    after = re.findall(r'class="open-after" href="([^"]+)"', r.text)
    assert len(before) == len(after) == sum(1 for c in api["changes"] if c["witness"])
    change = next(c for c in api["changes"] if c["witness"] and c["kind"] != "maybe_changed")
    i = [c for c in api["changes"] if c["witness"]].index(change)
    got = [Page(client.get(h.replace("&amp;", "&")).text).outcome for h in (before[i], after[i])]
    assert got[0] != got[1] or change["kind"] in ("conditional_changed", "maybe_changed")


def test_an_uploaded_draft_is_checked_and_diffed_against_the_version_it_revises(client) -> None:
    draft = (REPO / "queries/drafts/drop_non_pregnant_cerclage.toml").read_bytes()
    r = client.post("/revisions/draft", data={"policy": "cigna-0284"},
                    files={"draft": ("drop_non_pregnant_cerclage.toml", draft, "application/toml")})
    assert r.status_code == 200, r.text[-500:]
    assert "Draft drop_non_pregnant_cerclage.toml" in r.text and "non_pregnant_cerclage" in r.text
    assert r.text.count('<li class="change') >= 1 and "covkb-draft-" not in r.text  # no temporary path leaks
    assert 'class="open-before"' in r.text and 'class="open-after"' not in r.text


@pytest.mark.parametrize("name,content,status,why", [
    ("shell.pl", b':- shell("touch /tmp/covkb-pwned").\nrevision_of("2025-02-15").\n', 422, "draft shell.pl"),
    ("include.pl", b'#include "/etc/passwd".\nrevision_of("2025-02-15").\n', 422, "draft include.pl"),
    ("notes.txt", b"revision_of = \"2025-02-15\"\n", 422, "a .toml or .pl file"),
    ("latin1.toml", "revision_of = \"2025-02-15\"\ntitle = \"caf\xe9\"\n".encode("latin-1"), 422, "UTF-8"),
    ("huge.toml", b"#" * (300 * 1024), 413, "at most 256 KiB"),
    ("no_base.pl", b"statement(x, coverage_policy, medically_necessary).\n", 422, "names no base version"),
])
def test_a_hostile_draft_upload_is_a_one_line_error_and_runs_nothing(client, name, content, status, why) -> None:
    r = client.post("/revisions/draft", data={"policy": "cigna-0284"}, files={"draft": (name, content)})
    assert r.status_code == status
    error = re.search(r'<div class="error" role="alert">(.*?)</div>', r.text, re.S).group(1)
    assert why in error and "\n" not in error.strip() and "Traceback" not in r.text
    assert not Path("/tmp/covkb-pwned").exists() and "/etc/passwd:" not in error  # nothing run, no file read


# -- Pictures ----------------------------------------------------------------------------------

def test_the_picture_of_a_determination_links_its_quotes_to_the_policy_view(client) -> None:
    q = page_query(CIGNA, {"cpt": "59325", "pregnant": True, "findings": ["cone_biopsy"], "prior_pregnancy_losses": 2})
    r = client.get(q.replace("/determine?", "/determine.svg?"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(r.content)
    links = [a.get("{http://www.w3.org/1999/xlink}href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    targets = {urlsplit(h) for h in links if h and h.startswith("/policy/")}
    assert targets
    view = Page(client.get(next(iter(targets)).path).text)
    assert all(t.fragment in view.ids for t in targets)


def test_the_picture_of_a_diff_links_each_witness_to_the_determine_page(client) -> None:
    r = client.get("/revisions.svg?policy=cigna-0284&a=2024-04-15&b=2025-02-15")
    assert r.status_code == 200
    root = ElementTree.fromstring(r.content)
    links = [a.get("{http://www.w3.org/1999/xlink}href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    witness = [h for h in links if h and h.startswith("/determine?")]
    assert witness and all("version=2025-02-15" in h for h in witness)
    assert Page(client.get(witness[0]).text).outcome is not None
