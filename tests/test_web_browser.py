"""The web pages in a real browser: Playwright drives Debian's Chromium
(headless) against a real covkb server on 127.0.0.1.  Each test clicks
through one task a user does; every page is also saved as a screenshot
under tests/artifacts/ (ignored by git) on every run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.slow  # a real server and Chromium: not in make test-fast


@pytest.fixture(scope="module")
def server(web_server):
    return web_server


@pytest.fixture
def page(browser, server, request):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=False)
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def outcome(pg) -> str:
    return pg.locator(".outcome[data-outcome]").get_attribute("data-outcome")


def test_a_pregnant_patient_with_a_prior_cone_biopsy_ordering_59325_is_medically_necessary(page) -> None:
    page.goto("/determine?policy=cigna-0284")
    page.fill("#cpt", "59325")
    page.check("#field-pregnant input[value=yes]")
    page.fill("#prior_pregnancy_losses", "2")
    page.fill("#date_of_service", "2025-06-01")
    page.fill("#finding-search", "cone")  # the search box leaves the matching findings only
    assert page.locator("#finding-table tbody tr:visible").count() == 1
    page.get_by_label("Prior cone biopsy of the cervix: present").check()
    page.get_by_role("button", name="Determine").click()
    page.wait_for_selector(".outcome[data-outcome]")
    assert outcome(page) == "medically_necessary"
    assert page.locator(".outcome h2").inner_text().endswith("Medically necessary")
    assert "cpt=59325" in page.url and "finding=cone_biopsy" in page.url  # the address is the request
    assert not re.search(r"[?&](service|engine)=", page.url)  # ... and only what it states
    shot(page, "determine")

    # the decision first: its sentence and reasons in words; the whole derivation folded below
    lines = [x for x in page.locator("#result").inner_text().split("\n") if x.strip()]
    assert lines[0] == "Medically necessary" and lines[1].startswith("Medically necessary: ")
    expect(page.get_by_role("button", name="Collapse all")).to_be_hidden()
    page.locator("details.why > summary").click()

    # the derivation as a tree: collapse it, then open the deciding statement
    page.get_by_role("button", name="Collapse all").click()
    statement = page.locator("li.kind-statement.state-yes").first
    quote_link = statement.locator("ul.items a.src").first
    expect(quote_link).to_be_hidden()
    page.get_by_role("button", name="Expand all").click()
    expect(quote_link).to_be_visible()
    quoted = statement.locator("ul.items blockquote").first.inner_text()

    # follow the quote to the policy view: it is marked there, beside its encoding
    quote_link.click()
    page.wait_for_url(re.compile(r"/policy/cigna-0284/2025-02-15#[qs]-"))
    anchor = page.url.split("#", 1)[1]
    marked = page.locator(f"#{anchor} ~ a.q").first
    expect(marked).to_be_in_viewport()
    words = marked.evaluate("e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('')")
    assert " ".join(words.split()) in " ".join(quoted.split())
    assert marked.locator(".sr-only").inner_text().strip() == "(encoded by a statement)"  # the kind, not by colour alone
    page.locator("#st-antenatal_transabdominal_cerclage").scroll_into_view_if_needed()
    shot(page, "policy")
    assert "antenatal_transabdominal_cerclage" in page.locator("#st-antenatal_transabdominal_cerclage pre").inner_text()


def test_a_missing_fact_answered_in_place_decides_the_request(page) -> None:
    page.goto("/determine?policy=cigna-0284&service=transabdominal_cerclage&date_of_service=2025-06-01"
              "&pregnant=yes&finding=cone_biopsy")
    assert outcome(page) == "insufficient_information"
    question = page.locator(".question[data-fact=recurrent_pregnancy_loss]")
    assert question.is_visible()
    shot(page, "determine-question")
    page.evaluate("window.__sameDocument = true")
    question.locator("a.answer[data-value=yes]").click()
    page.wait_for_selector(".outcome[data-outcome=medically_necessary]")
    assert page.evaluate("window.__sameDocument === true")  # updated in place, not reloaded
    assert "prior_pregnancy_losses=2" in page.url
    assert page.input_value("#prior_pregnancy_losses") == "2"  # the form states the answer too
    assert page.evaluate("document.activeElement.matches('.outcome h2')")  # focus moves to the new answer


def test_a_diff_between_two_versions_opens_its_witness_on_both_sides(page) -> None:
    page.goto("/revisions?policy=cigna-0284")
    page.select_option("#a", "before-2024-04-15")
    page.select_option("#b", "2024-04-15")
    page.get_by_role("button", name="Compare versions").click()
    page.wait_for_selector("ol.changes li.change")
    assert "a=before-2024-04-15" in page.url
    shot(page, "revisions")
    change = page.locator("li.change:not(.kind-maybe_changed)").filter(has=page.locator("a.open-after")).first
    title = change.get_attribute("data-change")  # the change by outcome ids (its heading says it in words)
    before_href = change.locator("a.open-before").get_attribute("href")
    change.locator("a.open-after").click()
    page.wait_for_selector(".outcome[data-outcome]")
    after = outcome(page)
    assert "version=2024-04-15" in page.url and after in title
    page.goto(before_href)
    assert outcome(page) in title and outcome(page) != after


def test_a_draft_uploaded_on_the_revisions_page_shows_what_it_would_change(page) -> None:
    page.goto("/revisions?policy=cigna-0284")
    page.get_by_text("Or check and diff a draft file").click()
    page.set_input_files("#draft", str(Path(__file__).parents[1] / "queries/drafts/drop_non_pregnant_cerclage.toml"))
    page.get_by_role("button", name="Check and diff the draft").click()
    page.wait_for_selector("ol.changes li.change")
    assert page.locator("h3", has_text="Draft drop_non_pregnant_cerclage.toml").is_visible()
    # the dropped statement, in its words (the ids stay in the change's attributes, for machines)
    assert "the statement on cervical cerclage for a patient who is not pregnant" in page.locator("ol.changes").inner_text()
    shot(page, "revisions-draft")


def test_an_invalid_request_shows_its_one_line_error_in_place(page) -> None:
    page.goto("/determine?policy=cigna-0284")
    page.fill("#cpt", "57700")  # nonobstetrical cerclage
    page.check("#field-pregnant input[value=yes]")
    page.get_by_role("button", name="Determine").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cannot decide this request")
    assert page.input_value("#cpt") == "57700"  # the form keeps what was sent


def test_the_non_pregnant_cerclage_criteria_are_marked_in_their_own_list(page) -> None:
    page.goto("/policy/cigna-0284/2025-02-15")
    own = page.locator("a.q[href='#st-non_pregnant_cerclage']", has_text="shortened cervical length")
    antenatal = page.locator("a.q[href='#st-antenatal_transabdominal_cerclage']", has_text="shortened cervical length")
    assert own.count() == 1 and antenatal.count() == 1
    assert own.bounding_box()["y"] > antenatal.bounding_box()["y"]  # the second list, after the antenatal one


def test_every_form_control_has_a_label(page) -> None:
    page.goto("/determine?policy=cigna-0284")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.name || e.id)""")
    assert unlabelled == []


def test_the_skip_link_and_the_form_work_from_the_keyboard(page) -> None:
    page.goto("/determine?policy=cigna-0284")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip')")
    page.focus("#cpt")
    page.keyboard.type("86357")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector(".outcome[data-outcome]")
    assert "cpt=86357" in page.url


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("address,tone", [
    ("cpt=59325&prior_pregnancy_losses=2&finding=cone_biopsy", "favourable"),
    ("cpt=59325&prior_pregnancy_losses=2&unlisted_findings=absent", "adverse"),
    ("service=transabdominal_cerclage", "open"),
    ("service=ivig&prior_pregnancy_losses=2", "neutral"),
])
def test_each_outcome_colour_has_aa_contrast_and_a_mark_besides_colour(page, address, tone) -> None:
    page.goto(f"/determine?policy=cigna-0284&date_of_service=2025-06-01&{address}")
    box = page.locator(f".outcome.tone-{tone}")
    fg = box.locator("h2").evaluate("e => getComputedStyle(e).color")
    bg = box.evaluate("e => getComputedStyle(e).backgroundColor")
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 4.5
    mark = box.locator("h2").evaluate("e => getComputedStyle(e, '::before').content")
    assert mark not in ("none", "normal", '""')


def test_the_api_docs_render_from_covkbs_own_assets_under_its_csp(page, server) -> None:
    """/docs used to load Swagger UI from a CDN with an inline script."""
    asked: list[str] = []
    blocked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text
            and "script" in m.text else None)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 10  # every operation listed
    assert asked and all(u.startswith(server.url) for u in asked), [u for u in asked if not u.startswith(server.url)]
    assert not blocked, blocked


def test_a_crd_cards_explanation_link_opens_as_a_readable_page(page, server) -> None:
    """The link a CDS Hooks card (and its coverage information) carries: in
    a browser it opens the answer's page, the decision visible, nothing
    fetched from anywhere but covkb itself."""
    import httpx

    from covkb.service.examples import examples

    example = dict(examples())["pregnant_patient_with_prior_cone_biopsy_ordering_59325_is_covered"]
    resp = httpx.post(f"{server.url}/cds-services/{example['service']}", json=example["hook_request"], timeout=60).json()
    [card] = resp["cards"]
    link = card["links"][0]["url"]
    assert link.startswith(server.url)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(link)
    page.wait_for_selector(".outcome[data-outcome]")
    assert outcome(page) == "medically_necessary"
    expect(page.locator(".outcome h2")).to_be_visible()
    expect(page.locator(".outcome h2")).to_contain_text("Medically necessary")
    assert "covkb" in page.title()
    assert "cpt=59325" in page.url  # the page of the same request, at its own address
    shot(page, "crd-explanation-link")
    assert asked and all(u.startswith(server.url) for u in asked), [u for u in asked if not u.startswith(server.url)]


@pytest.mark.parametrize("address,outcome", [
    ("cpt=59325&pregnant=yes&prior_pregnancy_losses=2&finding=cone_biopsy", "Medically necessary"),
    ("cpt=83520&analyte=inhibin_b&prior_pregnancy_losses=2", "Not medically necessary"),
    ("service=transabdominal_cerclage&pregnant=yes&prior_pregnancy_losses=2&unknown_finding=shortened_cervical_length",
     "Cannot be decided from the facts given"),
])
def test_the_answer_shows_the_decision_first_and_prints_as_a_letter(page, server, address, outcome) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"/determine?policy=cigna-0284&date_of_service=2025-06-01&{address}")
    result = page.locator("#result")
    first = [x for x in result.inner_text().split("\n") if x.strip()]
    assert first[0].startswith(outcome)  # the decision in words
    assert first[1].endswith(".") and first[1] != first[0]  # then its sentence
    expect(page.locator("details.why .tree.root")).to_be_hidden()  # the proof tree is folded
    page.get_by_role("link", name="rationale to print or send").click()
    page.wait_for_url(re.compile(r"/determine/print\?"))
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()  # the letter alone on paper
    expect(page.locator(".letter h1")).to_contain_text(outcome)
    expect(page.locator(".letter")).to_contain_text("What documentation would change this decision")
    shot(page, f"print-{outcome.split()[0].lower()}")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert asked and all(u.startswith(server.url) for u in asked), [u for u in asked if not u.startswith(server.url)]
