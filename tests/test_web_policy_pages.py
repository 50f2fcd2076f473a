"""The web pages per policy (issue 21 item 6, and the form's part of item 2).

Over both installed policies and the test policy (served together from a
scratch copy of kb/ with tests/policies/example_pap added, COVKB_KB): the
form asks exactly what the policy's rules read (``covkb.reads``), its
findings are present / absent / not stated and a finding not stated is
unknown; the policy view shows the source text without its extraction's
debris, and its code wraps between tokens (real Chromium); Revisions shows
the changes first, the check findings after, and folds the changes that
change no outcome unless asked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings, strategies as st

from covkb import scenarios
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.reads import reads
from covkb.request import request_model
from covkb.web import forms
from covkb.web.text import clean, code_html
from samples import sampled

REPO = Path(__file__).resolve().parents[1]
TEST_POLICY = REPO / "tests" / "policies" / "example_pap"
POLICIES = [Policy(policy=f) for f in policy_folders()] + [Policy(policy=TEST_POLICY)]
VERSIONS = [(p, v) for p in POLICIES for v in p.versions]
VERSION_IDS = [f"{p.number}:{v.id}" for p, v in VERSIONS]
CIGNA = next(p for p in POLICIES if p.number == "cigna-0284")
AETNA = next(p for p in POLICIES if p.number == "aetna-0348")
# the request fields of issue 21 item 2 (helper "silence"): until the request model has them, the tests
# that state a finding absent outright, or read an unlisted one as unknown by the field, cannot run
SILENCE = "absent_findings" in request_model(CIGNA.data(CIGNA.latest()).vocabulary).model_fields
needs_silence = pytest.mark.skipif(not SILENCE, reason="the request model has no absent_findings / unlisted_findings "
                                                       "yet (issue 21 item 2, helper silence): not on main")
# a label run into a date, as a table's cells read when the extraction lost the cell boundary
GLUED = re.compile(r"[A-Za-z]\d{1,2}/\d{1,2}/\d{4}")


def policy_reads(p: Policy, version=None):
    import functools
    import operator

    return functools.reduce(operator.or_, [reads(p.data(v)) for v in ([version] if version else p.versions)])


# -- what a version reads ------------------------------------------------------------

@pytest.mark.parametrize("policy,version", VERSIONS, ids=VERSION_IDS)
def test_what_a_version_reads_is_what_its_scenarios_vary(policy, version) -> None:
    """Two readings of the KB agree: every field and finding the relevant
    scenarios (covkb.scenarios) vary is one the version reads, and every
    finding it reads some scenario varies.  (A code list it reads may be
    one way of several to settle a fact: scenarios use the first.)"""
    data = policy.data(version)
    r = reads(data)
    varied: set[str] = set()
    found: set[str] = set()
    for req in scenarios.scenarios(data):
        varied |= set(req)
        for k in ("findings", "unknown_findings"):
            found |= set(req.get(k, ()))
    vocab = data.vocabulary
    assert varied & set(vocab.fields) <= r.fields
    assert varied & set(vocab.qualifiers) <= r.qualifiers
    assert found == r.findings
    for name in r.fields - varied:
        assert vocab.fields[name].kind == "code_list", f"{name} is read but no scenario states it"


@pytest.mark.parametrize("policy,absent", [
    (CIGNA, ("consecutive_spontaneous_abortions", "subsequent_spontaneous_abortion",
             "partner_balanced_translocation_or_inversion")),
    (AETNA, ("prior_pregnancy_losses", "pregnant", "cone_biopsy", "prior_cervical_trauma")),
], ids=["cigna-0284", "aetna-0348"])
def test_a_policy_does_not_read_what_only_another_policy_sharing_its_vocabulary_reads(policy, absent) -> None:
    r = policy_reads(policy)
    vocab = policy.data(policy.latest()).vocabulary
    for name in absent:
        assert name in vocab.fields or name in vocab.findings  # the shared vocabulary declares it ...
        assert name not in r.fields | r.findings                # ... and this policy's rules never read it


# -- the form's findings: present / absent / not stated ------------------------------------

FINDING = "cone_biopsy"


def cigna_vocab():
    return CIGNA.data(CIGNA.latest()).vocabulary


@pytest.mark.parametrize("choice,field", [("present", "findings"), ("absent", "absent_findings")])
def test_a_findings_choice_is_the_request_list_it_names(choice, field) -> None:
    if field == "absent_findings" and not SILENCE:
        pytest.skip("the request model has no absent_findings yet (issue 21 item 2, helper silence): not on main")
    req = forms.form_request([(f"finding.{FINDING}", choice)], cigna_vocab(), [FINDING])
    assert req[field] == [FINDING]
    assert forms.finding_choice(req, FINDING) == choice
    assert (field[:-1], FINDING) in forms.query_from_request(req)  # the address lists it


@needs_silence
def test_a_finding_not_stated_is_left_out_and_read_as_unknown() -> None:
    req = forms.form_request([(f"finding.{FINDING}", ""), ("cpt", "59325")], cigna_vocab(), [FINDING])
    assert req == {"cpt": "59325", "unlisted_findings": "unknown"}
    assert forms.finding_choice(req, FINDING) == ""


def test_a_finding_not_stated_is_never_absent() -> None:
    """Whichever fields the request model has, a finding the form asked
    and left not stated is not read as absent."""
    req = forms.form_request([(f"finding.{FINDING}", ""), ("cpt", "59325")], cigna_vocab(), [FINDING])
    assert FINDING not in req.get("absent_findings", ())
    assert req.get("unlisted_findings") == "unknown" or FINDING in req.get("unknown_findings", ())
    assert forms.finding_choice(req, FINDING) == ""


CIGNA_FINDINGS = sorted(policy_reads(CIGNA).findings)


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({f: st.sampled_from(["present", "absent", ""]) for f in CIGNA_FINDINGS}))
def test_the_forms_choices_survive_the_round_trip_through_the_request_and_its_address(choices) -> None:
    """Whatever is chosen for each finding, the request the form states,
    written as an address and read back, gives the same choices."""
    params = [("cpt", "59325")] + [(f"finding.{f}", c) for f, c in choices.items()]
    req = forms.form_request(params, cigna_vocab(), CIGNA_FINDINGS)
    again = forms.request_from_query(parse_qsl(urlencode(forms.query_from_request(req))), cigna_vocab())
    assert again == req
    assert {f: forms.finding_choice(again, f) for f in CIGNA_FINDINGS} == choices


@pytest.mark.parametrize("choice,value", [("yes", True), ("no", False), ("", None)])
def test_a_boolean_is_yes_no_or_not_stated(choice, value) -> None:
    req = forms.form_request([("pregnant", choice), (f"finding.{FINDING}", "")], cigna_vocab(), [FINDING])
    assert req.get("pregnant") is value


@pytest.mark.parametrize("key,value", [("finding.nonsense_finding", "present"), (f"finding.{FINDING}", "maybe")])
def test_a_bad_finding_choice_is_a_one_line_error(key, value) -> None:
    from covkb.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as e:
        forms.request_from_query([(key, value)], cigna_vocab())
    assert "\n" not in str(e.value)


# -- the source text and the code as shown ---------------------------------------------

@pytest.mark.parametrize("raw,shown", [
    ("[Comparative Genomic Hybridization \\(CGH\\)/Microarray](#)", "Comparative Genomic Hybridization (CGH)/Microarray"),
    ("Effective Date2/15/2025", "Effective Date\t2/15/2025"),
    ("Focused review\t<ul style=\"list-style-type: none\"> Revised the", "Focused review\t Revised the"),
    ("58999 ^{††}\tUnlisted", "58999 ††\tUnlisted"),
    ("address: <https://example.org/a?b=c>", "address: https://example.org/a?b=c"),
    ("i.e., <15 weeks gestation", "i.e., <15 weeks gestation"),  # text, not a tag: kept
])
def test_the_source_text_reads_without_its_extractions_markup(raw, shown) -> None:
    assert clean(raw) == shown


def test_code_may_wrap_after_a_comma_or_bracket_and_between_the_words_of_a_long_id() -> None:
    html = str(code_html('requires(antenatal_cerclage,pregnant,yes,"a <b>")'))
    assert html == 'requires(<wbr>antenatal_cerclage,<wbr>pregnant,<wbr>yes,<wbr>&#34;a &lt;b&gt;&#34;)'
    long = str(code_html("criterion(s,prior_failed_history_indicated_transvaginal_cerclage)"))
    assert long == "criterion(<wbr>s,<wbr>prior_<wbr>failed_<wbr>history_<wbr>indicated_<wbr>transvaginal_<wbr>cerclage)"


# -- the pages, served ------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server on 127.0.0.1 over a copy of kb/ with the test policy installed too."""
    from service_server import Server

    kb = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(REPO / "kb", kb)
    shutil.copytree(TEST_POLICY, kb / "policies" / TEST_POLICY.name)
    old = os.environ.get("COVKB_KB")
    os.environ["COVKB_KB"] = str(kb)
    try:
        s = Server(workers=1)
    finally:
        if old is None:
            os.environ.pop("COVKB_KB")
        else:
            os.environ["COVKB_KB"] = old
    yield s
    assert s.stop() in (0, -15)


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120, follow_redirects=True) as c:
        yield c


class Form(HTMLParser):
    """The names of a page's form controls, and which of its radios are checked."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.checked: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select") and a.get("name"):
            self.names.add(a["name"])
            if a.get("type") == "radio" and "checked" in a:
                self.checked[a["name"]] = a.get("value") or ""


@pytest.mark.slow
@pytest.mark.parametrize("policy", POLICIES, ids=[p.number for p in POLICIES])
def test_the_form_asks_exactly_what_the_policy_reads(client, policy) -> None:
    r = client.get(f"/determine?policy={policy.number}")
    assert r.status_code == 200
    form = Form(r.text)
    vocab = policy.data(policy.latest()).vocabulary
    read = policy_reads(policy)
    asked_fields = form.names & (set(vocab.fields) | set(vocab.qualifiers))
    asked_findings = {n.removeprefix(forms.FINDING_CHOICE) for n in form.names if n.startswith(forms.FINDING_CHOICE)}
    assert asked_fields == read.fields | read.qualifiers
    assert asked_findings == read.findings
    assert all(form.checked[f"{forms.FINDING_CHOICE}{f}"] == "" for f in asked_findings)  # not stated by default
    assert all(form.checked[n] == "" for n in asked_fields if n in form.checked)            # booleans too


@pytest.mark.slow
def test_a_record_silent_on_the_findings_is_undecided_on_the_form_not_denied(client) -> None:
    """CPT 59325 with 3 losses, pregnant, every finding not stated: the
    answer hangs on the findings, so it is insufficient information."""
    findings = sorted(policy_reads(CIGNA).findings)
    r = client.get("/determine", params=[("policy", "cigna-0284"), ("cpt", "59325"), ("pregnant", "yes"),
                                         ("prior_pregnancy_losses", "3"), ("date_of_service", "2025-06-01")]
                   + [(f"finding.{f}", "") for f in findings])
    assert r.status_code == 200
    assert 'data-outcome="insufficient_information"' in r.text
    query = dict(parse_qsl(urlsplit(str(r.url)).query))
    assert not any(k.startswith(forms.FINDING_CHOICE) for k in query)  # answered at the request's own address


@pytest.mark.slow
@needs_silence
def test_a_finding_stated_absent_on_the_form_is_sent_as_absent(client) -> None:
    r = client.get("/determine", params=[("policy", "cigna-0284"), ("cpt", "59325"), ("pregnant", "yes"),
                                         ("prior_pregnancy_losses", "3"), ("date_of_service", "2025-06-01"),
                                         (f"finding.{FINDING}", "absent")])
    assert r.status_code == 200
    assert ("absent_finding", FINDING) in parse_qsl(urlsplit(str(r.url)).query)
    assert Form(r.text).checked[f"finding.{FINDING}"] == "absent"


@pytest.mark.slow
@pytest.mark.parametrize("policy,version", VERSIONS, ids=VERSION_IDS)
def test_the_policy_view_shows_no_source_debris(client, policy, version) -> None:
    r = client.get(f"/policy/{policy.number}/{version.id}")
    assert r.status_code == 200
    text = r.text
    assert "](#)" not in text and "\\(" not in text and "\\)" not in text
    assert not GLUED.search(text), GLUED.search(text)
    assert "&lt;ul" not in text and "^{" not in text


@pytest.mark.slow
def test_revisions_shows_the_changes_first_and_folds_those_that_change_no_outcome(client) -> None:
    r = client.get("/revisions?policy=cigna-0284")  # the default pair
    assert r.status_code == 200
    html = r.text
    assert html.index('class="diff"') < html.index('class="checks"')
    listed, folded = html.split('class="same-outcome"', 1) if 'class="same-outcome"' in html else (html, "")
    first = re.search(r'<li class="change[^"]*" data-change="([^"]*)"', listed)
    before, after = (re.sub(r" \(.*\)$", "", side) for side in first.group(1).split(" → "))
    assert before != after, f"the default pair opens with a change of outcome, not {first.group(1)}"
    assert "same-outcome" not in re.search(r'<ol class="changes">.*?</ol>', html, re.S).group(0)
    assert re.search(r'<details class="same-outcome" id="same-outcome"\s*>', html)  # folded ...
    assert "insufficient_information → insufficient_information" in folded          # ... not gone
    shown = client.get("/revisions?policy=cigna-0284&all=1").text
    assert re.search(r'<details class="same-outcome" id="same-outcome"\s+open', shown)  # ... open when asked


class PageText(HTMLParser):
    """A page's text as a person reads it, without a check's notes on an id's own
    declaration (no template, an undeclared id: they name the id an analyst edits)."""

    SKIPPED = ("no_template", "vocabulary")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping and tag == "li":
            self.skipping += 1
        elif tag == "li" and dict(attrs).get("data-kind") in self.SKIPPED:
            self.skipping = 1

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == "li":
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.parts)


# the default pair and the test policy's draft (its ids without templates fall back to labels) in make test; the
# README's draft, of 381 regions, in the exhaustive tier
REVISED = [pytest.param(CIGNA, None, id="cigna-0284:default"),
           pytest.param(CIGNA, REPO / "queries" / "drafts" / "intralipid_not_medically_necessary.toml",
                        id="cigna-0284:intralipid_not_medically_necessary", marks=pytest.mark.exhaustive),
           pytest.param(next(p for p in POLICIES if p.number == "EX-101"), TEST_POLICY / "drafts" / "tighten_threshold.toml",
                        id="EX-101:tighten_threshold")]


@pytest.mark.slow
@pytest.mark.parametrize("policy,draft", REVISED)
def test_revisions_reads_in_words_no_id_with_a_label_shown(client, policy, draft) -> None:
    """The changes (the statements that decide them, what each side leaves
    open, the conditions) and the check findings, in the policy's words."""
    from covkb.wording import Words
    from wording_checks import ids_shown

    if draft is None:
        r = client.get(f"/revisions?policy={policy.number}&all=1")
        ids = [v.id for v in policy.versions][-2:]
        words = Words.of(*(policy.data(v).vocabulary for v in ids))
    else:
        r = client.post("/revisions/draft", data={"policy": policy.number},
                        files={"draft": (draft.name, draft.read_bytes())})
        words = Words.of(policy.data(policy.latest()).vocabulary, policy.data(policy.resolve(str(draft))).vocabulary)
    assert r.status_code == 200 and 'class="changes' in r.text and 'class="checks"' in r.text
    text = PageText(r.text).text
    assert ids_shown(text, words) == []
    assert "Statements:" not in text and "not stated: The" not in text  # as they read before


# -- in Chromium ------------------------------------------------------------------------

@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# Each place a fact's text wraps: the characters either side of the break (read from the rendered layout).
_BREAKS = """() => {
  const out = [];
  for (const span of [...document.querySelectorAll('pre.facts .fact')]) {
    if (span.getClientRects().length < 2) continue;
    const walker = document.createTreeWalker(span, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      for (let i = 0; i < n.length; i++) {
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const box = r.getClientRects()[0];
        if (box) chars.push([n.data[i], box.top]);
      }
    for (let i = 1; i < chars.length; i++)
      if (chars[i][1] > chars[i - 1][1] + 2) out.push(chars[i - 1][0] + chars[i][0]);
    if (out.length > 400) break;
  }
  return out;
}"""


@pytest.mark.slow
def test_a_long_fact_wraps_between_tokens_never_inside_a_word(page) -> None:
    page.goto("/policy/cigna-0284/2025-02-15")
    breaks = page.evaluate(_BREAKS)
    assert len(breaks) > 20  # long facts do wrap
    inside = [b for b in breaks if re.fullmatch(r"[A-Za-z0-9]{2}", b)]
    assert not inside, f"facts broken inside a word: {inside[:10]}"
    overflow = page.evaluate("() => [...document.querySelectorAll('pre.facts')].filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert overflow == 0  # and nothing runs out of its box


@pytest.mark.slow
@pytest.mark.parametrize("policy,shown,not_shown", [
    ("cigna-0284", ["#prior_pregnancy_losses", "#field-pregnant", "tr[data-finding=cone_biopsy]"],
     ["#consecutive_spontaneous_abortions", "tr[data-finding=partner_balanced_translocation_or_inversion]",
      "tr[data-finding=subsequent_spontaneous_abortion]"]),
    ("aetna-0348", ["#consecutive_spontaneous_abortions", "tr[data-finding=subsequent_spontaneous_abortion]"],
     ["#prior_pregnancy_losses", "#field-pregnant", "tr[data-finding=cone_biopsy]"]),
    ("EX-101", ["#apnea_hypopnea_index", "tr[data-finding=hypertension]"], ["#prior_pregnancy_losses"]),
])
def test_the_form_shows_the_policys_own_fields(page, policy, shown, not_shown) -> None:
    page.goto(f"/determine?policy={policy}")
    for sel in shown:
        assert page.locator(sel).is_visible(), sel
    for sel in not_shown:
        assert page.locator(sel).count() == 0, sel
    row = page.locator(f"{shown[-1]}")
    assert row.locator("input[value='']").is_checked()  # a finding starts not stated


@pytest.mark.slow
def test_a_finding_stated_present_on_the_form_decides(page) -> None:
    page.goto("/determine?policy=cigna-0284")
    page.fill("#cpt", "59325")
    page.check("#field-pregnant input[value=yes]")
    page.fill("#prior_pregnancy_losses", "2")
    page.fill("#date_of_service", "2025-06-01")
    page.get_by_label("Prior cone biopsy of the cervix: present").check()
    page.get_by_role("button", name="Determine").click()
    page.wait_for_selector(".outcome[data-outcome]")
    assert page.locator(".outcome[data-outcome]").get_attribute("data-outcome") == "medically_necessary"
    assert "finding=cone_biopsy" in page.url and "finding." not in page.url  # the address is the request
    assert page.get_by_label("Prior cone biopsy of the cervix: present").is_checked()


@pytest.mark.slow
def test_revisions_opens_on_the_changes_and_the_no_change_rows_open_on_request(page) -> None:
    page.goto("/revisions?policy=cigna-0284")
    first = page.locator("ol.changes li.change").first
    checks = page.locator("section.checks")
    assert first.is_visible()
    assert first.bounding_box()["y"] < checks.bounding_box()["y"]
    assert not page.locator("section.checks ul.findings-list").first.is_visible()  # findings folded
    same = page.locator("li.change.same-outcome").first
    assert not same.is_visible()
    page.locator("details.same-outcome > summary").click()
    assert same.is_visible()


def test_answering_a_finding_takes_it_off_the_list_that_stated_it_otherwise() -> None:
    req = {"cpt": "59325", "absent_findings": [FINDING], "unknown_findings": ["prior_cervical_trauma"]}
    assert forms.answered(req, (FINDING,), {"findings": [FINDING]}) == {
        "cpt": "59325", "findings": [FINDING], "unknown_findings": ["prior_cervical_trauma"]}


@pytest.mark.slow
@pytest.mark.parametrize("address,why", [
    ("/determine?policy=cigna-0284&cpt=59325&finding.cone_biopsy=maybe", "is not present or absent"),
    ("/determine?policy=cigna-0284&cpt=59325&finding.%3Cscript%3Ex=present", "unknown finding"),
    ("/determine?policy=cigna-0284&cpt=59325&finding.partner_balanced_translocation_or_inversion=present"
     "&finding.cone_biopsy=present&prior_pregnancy_losses=x", "whole number"),
])
def test_a_bad_form_is_a_one_line_error_on_the_page_never_a_traceback(client, address, why) -> None:
    r = client.get(address)
    assert r.status_code == 422
    error = re.search(r'<div class="error" role="alert">(.*?)</div>', r.text, re.S).group(1)
    assert why in error and "Traceback" not in r.text and "<script>" not in r.text
    assert Form(r.text).checked.get("finding.cone_biopsy") in ("", "present")  # the form keeps what it can


# -- a silent record on the form: the same outcome as the API ---------------------------------

def _form_of(request: dict, asked: list[str]) -> list[tuple[str, str]]:
    """The form a person fills in to state this record: every finding the
    form asks sent (not stated unless the record says), every value as text."""
    choice = {f: "" for f in asked}
    choice.update({f: "" for f in request.get("unknown_findings", ())})
    choice.update({f: "present" for f in request.get("findings", ())})
    choice.update({f: "absent" for f in request.get("absent_findings", ())})
    params = []
    for k, v in request.items():
        if k in forms.FINDING_LISTS or k == "unlisted_findings":
            continue
        params.append((k, "yes" if v is True else "no" if v is False else " ".join(v) if isinstance(v, list) else str(v)))
    return params + [(f"finding.{f}", c) for f, c in choice.items()]


SILENT_QUERIES = [(p, q) for p in POLICIES for q in load_queries(p.queries_dir) if q.version is None]


# every named query's silent record through the form: a sample in make test (tests/samples.py), every query
# in the exhaustive tier, as test_silent_record.py sends them through the other surfaces
@pytest.mark.slow
@needs_silence
@pytest.mark.parametrize("policy,query", sampled(SILENT_QUERIES, lambda p: p.number))
def test_the_form_gives_a_silent_record_the_apis_outcome(client, policy, query) -> None:
    """Each named query's record as it stands (no reading stated), sent
    by the form and by the API: the same outcome, or both refuse it."""
    silent = {k: v for k, v in query.request.items() if k != "unlisted_findings"}
    stated = [f for k in forms.FINDING_LISTS for f in silent.get(k, ())]
    if len(stated) != len(set(stated)):
        pytest.skip("the record states a finding two ways: a form's choice states each finding one way")
    api = client.post("/v1/determine", params={"policy": policy.id}, content=json.dumps(silent),
                      headers={"content-type": "application/json"})
    expected = api.json()["outcome"] if api.status_code == 200 else "refused"
    r = client.get("/determine", params=[("policy", policy.number)]
                   + _form_of(silent, sorted(policy_reads(policy).findings)))
    got = re.search(r'data-outcome="(\w+)"', r.text)
    assert (got.group(1) if r.status_code == 200 and got else "refused") == expected
