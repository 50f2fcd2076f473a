"""The draft workspace in a real browser: Playwright drives Debian's
Chromium against a real covkb server on 127.0.0.1 (authentication on, its
store a temporary SQLite file holding two analysts).  An analyst logs in
through the form (sent there by the first page she opens), creates a draft, changes it in the form
and as text and sees its check and diff follow, adds test requests (a
failing one is named beside the change that breaks it), opens the shared
link in a second browser context (another analyst, logged in on the way),
meets a stale save, decides a request
against the draft on the Determine page, and exports it: the export written
into a scratch copy of kb/ (and queries/) passes `covkb check` and its test
requests run there as named queries."""

from __future__ import annotations

import json
import re
import tarfile

import pytest
from draft_export import check_export
from test_web_browser import expect, shot

pytestmark = pytest.mark.slow  # a real server and Chromium: not in make test-fast

NK = "nk_cell_testing_not_covered"
TAC = "antenatal_transabdominal_cerclage"
ANALYSTS = {"a.analyst": "a-analyst-password", "b.analyst": "b-analyst-password"}
TAC_REQUEST = {"date_of_service": "2025-06-01", "service": "transabdominal_cerclage", "pregnant": True,
               "prior_pregnancy_losses": 2, "findings": ["shortened_cervical_length"], "unlisted_findings": "absent"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from service_server import Server

    from covkb.store import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('drafts-store') / 'covkb.db'}"
    with Store.open(url) as kept:
        for name, password in ANALYSTS.items():
            kept.save_user(name, password, "analyst")
    s = Server("--store", url, workers=1, auth=True)
    s.store = url
    yield s
    assert s.stop() in (0, -15)


def _context(browser, server):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, pg, errors


def log_in(pg, name: str) -> None:
    """The login form, where the page opened sent the browser; then back at that page."""
    pg.wait_for_url(re.compile(r"/login\?next="))
    pg.fill("#name", name)
    pg.fill("#password", ANALYSTS[name])
    with pg.expect_navigation():
        pg.get_by_role("button", name="Log in").click()
    expect(pg.locator("header.site form.who")).to_contain_text(f"{name} (analyst)")


def changes(pg) -> int:
    return pg.locator("section.draft-against ol.changes > li.change").count()


def submit(button) -> None:
    """Click a form's button and wait for the page it answers with."""
    with button.page.expect_navigation():
        button.click()


def add_test(pg, request: dict, outcome: str, why: str) -> None:
    pg.locator("#add-test > summary").click()
    pg.fill("#t-request", json.dumps(request))
    pg.select_option("#t-outcome", outcome)
    pg.fill("#t-why", why)
    submit(pg.get_by_role("button", name="Add the test request"))


def test_an_analyst_drafts_tests_shares_decides_and_exports(browser, server, tmp_path) -> None:
    ctx, pg, errors = _context(browser, server)

    # create: policy and base version; the text starts from the commented skeleton
    pg.goto("/drafts/new?policy=cigna-0284")
    log_in(pg, "a.analyst")
    pg.select_option("#base", "2025-02-15")
    pg.fill("#note", "Transabdominal cerclage: a shortened cervix alone no longer suffices")
    expect(pg.locator("form.draft-new")).to_contain_text("Author: a.analyst")  # the logged-in user, no field
    pg.get_by_role("button", name="Create the draft").click()
    pg.wait_for_url(re.compile(r"/drafts/[A-Za-z0-9_-]+$"))
    link = pg.url
    did = link.rsplit("/", 1)[1]
    assert 'revision_of = "2025-02-15"' in pg.input_value("#text")
    assert changes(pg) == 0
    shot(pg, "draft-new")

    # the form: remove a criterion; the text gets its [[change]], the diff its change
    pg.locator("details.edit", has_text="Remove a criterion").locator("summary").click()
    pg.select_option("#r-criterion", f"{TAC} shortened_cervical_length")
    submit(pg.get_by_role("button", name="Remove the criterion"))
    text = pg.input_value("#text")
    assert f'[[change]]\nstatement = "{TAC}"\ndrop_criteria = ["shortened_cervical_length"]' in text
    tac_change = pg.locator(f"section.draft-against li.change[data-change*='{TAC}']")
    expect(tac_change.first).to_be_visible()
    assert "Check: 0 error(s)" in pg.locator("#status").inner_text()
    first = changes(pg)

    # ... change an outcome: the check follows (the code's heading no longer says what the statement says)
    pg.select_option("#o-statement", NK)
    pg.select_option("#o-outcome", "not_medically_necessary")
    submit(pg.get_by_role("button", name="Change the outcome"))
    nk_table = f'\n[[change]]\nstatement = "{NK}"\noutcome = "not_medically_necessary"\n'
    assert nk_table in pg.input_value("#text")
    expect(pg.locator(f"section.draft-against li.change[data-change*='{NK}'] h3")).to_have_text(
        "relaxed Not covered or reimbursable → Not medically necessary")
    assert "Check: 1 error(s)" in pg.locator("#status").inner_text()
    expect(pg.locator("section.checks li[data-kind=heading_mismatch]")).to_have_count(1)
    assert changes(pg) == first + 1

    # a mistake in the form is one line naming the field; nothing is saved
    before = pg.input_value("#text")
    pg.locator("details.edit", has_text="Reword a statement's quote").locator("summary").click()
    pg.select_option("#w-statement", NK)
    pg.fill("#w-number", "9")
    pg.fill("#w-text", "new words")
    submit(pg.get_by_role("button", name="Reword"))
    alert = pg.locator("div.error[role=alert]")
    expect(alert).to_contain_text(f"number: statement {NK} has quotes 1 to 2")
    assert "Traceback" not in pg.content() and "\n" not in alert.inner_text().strip()
    assert pg.input_value("#text") == before

    # as text: take the outcome change out again; check and diff follow the save
    pg.goto(link)
    pg.fill("#text", before.replace(nk_table, "\n"))
    submit(pg.get_by_role("button", name="Save", exact=True))
    assert f'statement = "{NK}"' not in pg.input_value("#text").splitlines()
    assert "Check: 0 error(s)" in pg.locator("#status").inner_text() and changes(pg) == first
    # ... and a broken text is kept, its one-line error shown
    good = pg.input_value("#text")
    pg.fill("#text", good + "\n[[drop]\n")
    submit(pg.get_by_role("button", name="Save", exact=True))
    expect(pg.locator("div.error[role=alert]")).to_contain_text("TOML syntax")
    assert "Does not compile" in pg.locator("#status").inner_text()
    pg.fill("#text", good)
    submit(pg.get_by_role("button", name="Save", exact=True))
    assert changes(pg) == first

    # test requests: one that passes, one that fails beside the change that breaks it
    add_test(pg, TAC_REQUEST, "criteria_not_met", "Under the draft a shortened cervix alone does not meet the criteria.")
    add_test(pg, TAC_REQUEST, "medically_necessary", "The 2025 policy covers it for a shortened cervix.")
    passing = pg.locator("li.test", has_text="Under the draft a shortened cervix")
    failing = pg.locator("li.test", has_text="The 2025 policy covers it")
    expect(passing.locator(".badge")).to_have_text("pass")
    expect(failing.locator(".badge")).to_have_text("fail")
    expect(tac_change.locator("p.broke-test").first).to_contain_text("the 2025 policy covers it")
    shot(pg, "draft-tests")
    submit(failing.get_by_role("button", name="Remove"))
    expect(pg.locator("li.test")).to_have_count(1)

    # the shared link, in a second browser context: the same draft
    ctx2, pg2, errors2 = _context(browser, server)
    pg2.goto(link)
    log_in(pg2, "b.analyst")
    assert pg2.url == link
    assert pg2.input_value("#text") == pg.input_value("#text")
    expect(pg2.locator("li.test .badge")).to_have_text("pass")
    note = "Transabdominal cerclage: a shortened cervix alone no longer suffices"
    assert pg2.input_value("#note") == note
    # ... where a save from a page read before someone else saved is refused, showing the newer text
    pg.fill("#note", note + " (reviewed)")
    submit(pg.get_by_role("button", name="Save", exact=True))
    pg2.fill("#text", pg2.input_value("#text") + "\n# my edit\n")
    submit(pg2.get_by_role("button", name="Save", exact=True))
    expect(pg2.locator(".conflict")).to_contain_text("changed by someone else since you opened it")
    assert pg2.input_value("#note") == note + " (reviewed)"
    assert pg2.input_value("#mine").endswith("# my edit\n") and "# my edit" not in pg2.input_value("#text")
    shot(pg2, "draft-conflict")
    # the drafts list shows it
    pg2.goto("/drafts?policy=cigna-0284")
    row = pg2.locator(f"tr[data-draft='{did}']")
    expect(row).to_contain_text("2025-02-15")
    expect(row).to_contain_text("a.analyst")  # the last revision's author (b.analyst's save was refused)
    ctx2.close()
    assert not errors2, errors2

    # decide a request against the draft on the Determine page, and keep it as a test request
    pg.goto(link)
    pg.get_by_role("link", name="Decide against this draft").click()
    expect(pg.locator("#version")).to_have_value(f"draft:{did}")
    pg.select_option("#service", "transabdominal_cerclage")
    pg.check("#field-pregnant input[value=yes]")
    pg.fill("#prior_pregnancy_losses", "2")
    pg.fill("#date_of_service", "2025-06-01")
    pg.get_by_label("Shortened cervical length: present").check()
    pg.get_by_role("button", name="Determine").click()
    pg.wait_for_selector(".outcome[data-outcome]")
    assert f"version=draft%3A{did}" in pg.url and "service=transabdominal_cerclage" in pg.url
    # the other criteria not stated: under the draft they decide it (the 2025 policy: medically necessary)
    assert pg.locator(".outcome[data-outcome]").get_attribute("data-outcome") == "insufficient_information"
    shot(pg, "draft-decide")
    submit(pg.get_by_role("link", name="add this request to its test requests"))
    assert json.loads(pg.input_value("#t-request"))["findings"] == ["shortened_cervical_length"]
    pg.select_option("#t-outcome", "insufficient_information")
    pg.fill("#t-why", "Under the draft the other criteria decide a shortened cervix.")
    submit(pg.get_by_role("button", name="Add the test request"))
    expect(pg.locator("li.test .badge")).to_have_text(["pass", "pass"])

    # export: the files that would make it a version, checked in a scratch copy of kb/
    with pg.expect_download() as dl:
        pg.get_by_role("link", name=re.compile("^Export")).click()
    archive = tmp_path / "export.tar.gz"
    dl.value.save_as(archive)
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read().decode("utf-8") for m in tar.getmembers() if m.isfile()}
    assert len(check_export(files, tmp_path / "scratch", "cigna_0284")) == 2
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def analyst(server):
    """An analyst's httpx client, logged in through the form, its CSRF token sent as htmx sends it."""
    import httpx

    with httpx.Client(base_url=server.url, timeout=300) as c:
        form = c.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
        r = c.post("/login", data={"name": "a.analyst", "password": ANALYSTS["a.analyst"], "login_token": token})
        assert r.status_code == 303, r.text
        c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/logout").text).group(1)
        yield c


@pytest.fixture(scope="module")
def kept(server):
    """A draft kept in the server's store (the pages' store is the API's)."""
    from covkb.store import Store

    with Store.open(server.store) as s:
        return s.save_draft("cigna_0284", text='revision_of = "2025-02-15"\n').to_dict()


# (what is sent, status, the start of the page's one-line error)
MISTAKES = [
    ("edit", {"kind": "rename"}, 422, "kind: 'rename' is not an edit"),
    ("edit", {"kind": "outcome", "statement": "zzz", "outcome": "not_covered"}, 422,
     "statement: version 2025-02-15 has no statement 'zzz'"),
    ("edit", {"kind": "add_criterion", "statement": TAC, "finding": "x'); halt. %", "quote": "q"}, 422,
     "finding: \"x'); halt. %\" is not a finding id"),
    ("edit", {"kind": "list_code", "code": "59320\n[[drop]]", "service": "transabdominal_cerclage"}, 422,
     "code: '59320\\n[[drop]]' is not a code"),
    ("tests", {"request": "{not json", "outcome": "not_covered", "why": "w"}, 422, "request: not JSON"),
    ("tests", {"request": "[1]", "outcome": "not_covered", "why": "w"}, 422, "request: expected a JSON object"),
    ("tests", {"request": "{}", "outcome": "not_covered", "why": ""}, 422, "why: say in a sentence"),
    ("", {"text": "x" * (256 * 1024 + 1)}, 413, "a draft is at most 256 KiB"),
]


@pytest.mark.parametrize("path,data,status,says", MISTAKES, ids=[m[3][:30] for m in MISTAKES])
def test_a_mistake_on_a_draft_page_is_one_line_and_saves_nothing(server, analyst, kept, path, data, status,
                                                                 says) -> None:
    import html

    from covkb.store import Store

    url = f"/drafts/{kept['id']}" + (f"/{path}" if path else "")
    r = analyst.post(url, data={**data, "revision": "1"})
    assert r.status_code == status, r.text[-2000:]
    shown = html.unescape(re.search(r'<div class="error" role="alert">(.*?)</div>', r.text, re.S).group(1))
    assert shown.startswith(says) and "\n" not in shown and "Traceback" not in r.text
    with Store.open(server.store) as s:
        assert s.draft(kept["id"]).revision == 1


@pytest.mark.parametrize("address,status,says", [
    ("/drafts/nosuchdraft", 404, "no draft 'nosuchdraft'"),
    ("/drafts/..%2F..%2Fetc", 404, "Not Found"),
    ("/determine?policy=cigna-0284&service=nk_cell_test&version=draft:nosuch", 422, "no draft 'nosuch'")])
def test_an_unknown_draft_is_a_one_line_page(analyst, address, status, says) -> None:
    import html

    r = analyst.get(address)
    assert r.status_code == status and "Traceback" not in r.text
    assert says in html.unescape(r.text)


def test_a_draft_is_diffed_against_any_version_in_words(analyst, kept) -> None:
    r = analyst.get(f"/drafts/{kept['id']}", params={"against": "2024-04-15"}, timeout=600)
    assert r.status_code == 200
    assert f"Changes from 2024-04-15 to draft:{kept['id']}" in r.text and 'class="change ' in r.text
    assert '<option value="2024-04-15" selected>' in r.text
