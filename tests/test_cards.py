"""CDS Hooks cards in the EHR: every CRD response carries one card per
order beside its coverage-information system action, in words (a summary
under 140 characters, no id a person would read), its indicator as the
outcome's meaning declares it (kb/vocabulary.pl, meaning_card/3), and a
link to the explanation that gives a browser a page and an API client JSON.

Data-driven over the named FHIR queries (queries/fhir) and, for each, every
code the policy names as the order; real engines in process, then a real
server on 127.0.0.1 in both process models."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy, normalise_quote, policy_folders
from covkb.service import crd
from covkb.service.examples import coverage_infos, examples, sub
from covkb.service.fhir_map import load_mapping, validate_resource
from covkb.service.negotiation import wants_html

TODAY = dt.date(2025, 6, 1)
EXAMPLES = examples()
POLICIES = {p.id: p for p in (Policy(policy=f) for f in policy_folders())}
CPT = "http://www.ama-assn.org/go/cpt"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
# an id as covkb writes them (snake_case), which nothing a person reads may show
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _policy_of(example: dict) -> Policy:
    sid = example["service"]
    return next((p for p in POLICIES.values() if sid == crd.service_id(example["hook_request"]["hook"], p.id)),
                Policy())


def _with_code(example: dict, code: str | None) -> dict:
    """The example's hook call, its (first) order made for this CPT code (None: as it is)."""
    call = json.loads(json.dumps(example["hook_request"]))
    if code is not None:
        order = call["context"]["draftOrders"]["entry"][0]["resource"]
        order["code"] = {"coding": [{"system": CPT, "code": code}]}
    return call


# every example as it is, and (the exhaustive tier) with every code its policy names as the order
CASES = [pytest.param(name, None, id=f"{name}:as-sent") for name, _ in EXAMPLES] + [
    pytest.param(name, code, id=f"{name}:{code}", marks=pytest.mark.exhaustive)
    for name, ex in EXAMPLES for code in sorted(_policy_of(ex).data(_policy_of(ex).latest()).vocabulary.codes)]


@pytest.fixture(scope="module")
def kbs():
    out = {pid: KnowledgeBase(engine="prolog", policy=p.folder, today=TODAY) for pid, p in POLICIES.items()}
    yield out
    for kb in out.values():
        kb.close()


def _words_only(text: str) -> str:
    """What a person reads of a card's text: without link targets (a token is not an id)."""
    return re.sub(r"\]\([^)]*\)", "]", text).replace("\\", "")


@pytest.mark.parametrize(("name", "code"), CASES)
def test_every_order_gets_a_card_in_words_beside_its_coverage_information(kbs, name, code) -> None:
    example = dict(EXAMPLES)[name]
    p = _policy_of(example)
    decided: list = []

    def decide(req):
        try:
            det = kbs[p.id].determine(req, explain=True)
        except CovkbError:
            decided.append(None)  # covkb could not decide: the card says so
            raise
        decided.append(det)
        return det

    call = _with_code(example, code)
    resp = crd.answer(call, call["hook"], p, load_mapping(p), decide, base_url="http://127.0.0.1:9", engine="prolog",
                      today=TODAY)
    actions, cards = resp["systemActions"], resp["cards"]
    assert len(cards) == len(actions) == len(coverage_infos(resp)) >= 1
    for action, card in zip(actions, cards):
        [ci] = coverage_infos({"systemActions": [action]})
        validate_resource(action["resource"], "systemActions.resource", "ServiceRequest")  # FHIR R4B, as before
        assert crd.invariant_violations(ci) == []
        # the card: CDS Hooks 2.0 attributes
        assert 0 < len(card["summary"]) < 140
        assert uuid.UUID(card["uuid"])
        assert card["source"]["topic"]["code"] == "coverage-info" and card["source"]["label"]
        link = crd.explanation_link(ci)
        assert card["links"] == [{"label": card["links"][0]["label"], "url": link, "type": "absolute"}]
        assert f"]({link})" in card["detail"]
        # in words: no id in what a person reads, the reason included
        reason = sub(ci, "reason")["text"]
        for text in (card["summary"], _words_only(card["detail"]), reason):
            assert not SNAKE.findall(text), (SNAKE.findall(text), text)
    # the indicator as the outcome's meaning declares it; the policy's quotes in the detail
    assert len(decided) == len(cards)
    for det, card in zip(decided, cards):
        if det is None:
            assert (card["indicator"], card["summary"]) == crd.FAILED_CARD
            continue
        meant = p.data(p.version(det.version)).outcomes[det.outcome]
        assert card["indicator"] == meant.card_indicator
        assert card["summary"].startswith(meant.card_heading) or card["summary"].startswith(meant.label)
        # every quote the card shows is the policy's words, verbatim (a quote of several parts joins them with …);
        # a decision shows at least one
        source = normalise_quote(p.version(det.version).source.read_text(encoding="utf-8"))
        shown = [line.strip()[2:].replace("\\", "") for line in card["detail"].splitlines() if line.strip().startswith("> ")]
        for line in shown:
            said = line if normalise_quote(line) in source else line.rsplit(" — ", 1)[0]  # the section may follow
            assert all(normalise_quote(part) in source for part in said.split(" … ")), line
        assert shown or not meant.decided


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_both_engines_give_the_same_card(kbs, name, example) -> None:
    p = _policy_of(example)
    cards = []
    with KnowledgeBase(engine="asp", policy=p.folder, today=TODAY) as asp:
        for kb, engine in ((kbs[p.id], "prolog"), (asp, "asp")):
            resp = crd.answer(example["hook_request"], example["hook_request"]["hook"], p, load_mapping(p),
                              lambda req, kb=kb: kb.determine(req, explain=True), base_url="http://127.0.0.1:9",
                              engine=engine, today=TODAY)
            # the same words; only the link (its token names the engine) and the card's id differ
            cards.append([(c["summary"], c["indicator"], _words_only(c["detail"])) for c in resp["cards"]])
    assert cards[0] == cards[1]


def test_every_meaning_declares_its_card() -> None:
    meanings = Policy().data(Policy().latest()).outcomes
    assert {o.card_indicator for o in meanings.values()} <= {"info", "warning"}  # CRD: critical is for clinical harm
    assert all(o.card_heading and not SNAKE.search(o.card_heading) for o in meanings.values())
    # a denial warns; a coverage informs
    assert {o.card_indicator for o in meanings.values() if o.meaning == "denied"} == {"warning"}
    assert {o.card_indicator for o in meanings.values() if o.meaning == "covered"} == {"info"}


def test_a_summary_is_cut_at_a_word_under_140_characters() -> None:
    long = "Covered — " + " ".join(["cerclage"] * 40)
    out = crd._shorten(long)
    assert len(out) < 140 and out.endswith("…") and long.startswith(out[:-1])
    assert crd._shorten("Covered") == "Covered"


@pytest.mark.parametrize(("accept", "html"), [
    (BROWSER, True), ("text/html", True), ("*/*", False), ("application/json", False), (None, False), ("", False),
    ("application/json, text/html;q=0.5", False), ("text/html;q=0, */*", False), ("text/*", False),
    ("application/json;q=0.5, text/html", True)])
def test_accept_decides_page_or_json(accept, html) -> None:
    assert wants_html(accept) is html


# -- a real server, both process models ---------------------------------------------------

@pytest.fixture(scope="module", params=["inline", "pool"])
def client(request):
    from service_server import Server

    s = Server("--mode", request.param, workers=1)
    with httpx.Client(base_url=s.url, timeout=120) as c:
        yield c
    assert s.stop() in (0, -15)


def _link(client: httpx.Client, example: dict) -> tuple[dict, str]:
    r = client.post(f"/cds-services/{example['service']}", json=example["hook_request"])
    assert r.status_code == 200, r.text
    resp = r.json()
    [card] = resp["cards"]
    return card, card["links"][0]["url"].removeprefix(str(client.base_url).rstrip("/"))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_the_explanation_link_gives_a_browser_the_page_and_a_client_json(client, name, example) -> None:
    card, link = _link(client, example)
    assert 0 < len(card["summary"]) < 140
    # an API client: JSON, as before, whatever it accepts
    for accept in ("application/json", "*/*"):
        r = client.get(link, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert "accept" in r.headers["vary"].lower()
        outcome = r.json()["outcome"]
    # a browser: the web page of the same answer
    r = client.get(link, headers={"Accept": BROWSER})
    assert r.status_code == 303 and "accept" in r.headers["vary"].lower()
    page = client.get(r.headers["location"], headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'data-outcome="{outcome}"' in page.text
    p = _policy_of(example)
    assert p.data(p.latest()).vocabulary.outcomes[outcome] in page.text


@pytest.mark.slow
def test_a_browser_asking_for_a_token_of_no_policy_gets_the_404(client) -> None:
    r = client.get(f"/v1/explanations/{crd.token('/tmp/elsewhere', 'prolog', {})}", headers={"Accept": BROWSER})
    assert r.status_code == 404


def test_the_info_needed_of_a_code_too_coarse_to_decide_is_declared_with_the_meaning() -> None:
    """kb/vocabulary.pl's meaning_crd_code/2 (detail-code for an undecided outcome), read through
    covkb.outcomes: crd.py names no meaning for it."""
    p = Policy()
    outcomes = p.data(p.latest()).outcomes
    said = {o: outcomes[o].crd_code_info_needed for o in outcomes}
    assert {o for o, code in said.items() if code} == set(outcomes.with_meaning("undecided"))
    assert set(said.values()) == {None, "detail-code"}
    assert '"undecided"' not in (Path(__file__).parents[1] / "pyapi" / "covkb" / "service" / "crd.py").read_text()
