"""The web answer page and its print view over HTTP (a real server on
127.0.0.1, real engines): the answer opens with the decision in words and
its reasons; the scope, the statements not met and the whole derivation are
folded below; no mark contradicts the outcome; the print view shows the same
letter as `covkb determine --format letter`."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest

from covkb.letter import letter, reading
from covkb.policy import Policy, policy_folders
from covkb.queries import load_queries
from covkb.web.forms import query_from_request

pytestmark = pytest.mark.slow  # a real server: not in make test-fast
POLICIES = [Policy(policy=f) for f in policy_folders()]
QUERIES = [(p, q) for p in POLICIES for q in load_queries(p.queries_dir)
           if "outcome" in q.expect and (q.version is None or q.version in {v.id for v in p.versions})]
ONE_PER_OUTCOME = list({(p.number, q.expect["outcome"]): (p, q) for p, q in QUERIES}.values())
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def client(web_server):
    with httpx.Client(base_url=web_server.url, timeout=120, follow_redirects=True) as c:
        yield c


class Visible(HTMLParser):
    """The text a reader sees in #result, in order, each piece with whether it
    stands inside a closed <details> (folded) and inside a quote or an
    interpretation (the policy's or covkb's own prose, not covkb's labels)."""

    def __init__(self, html: str, root: str = "result") -> None:
        super().__init__()
        self.root, self.depth, self.quoted = root, 0, 0
        self.stack: list[tuple[str, bool, bool]] = []
        self.texts: list[tuple[str, bool, bool]] = []  # (text, folded, quoted)
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if not self.depth and a.get("id") != self.root:
            return
        if tag in ("br", "input", "img", "meta", "link"):
            return
        self.depth += 1
        folded = tag == "details" and "open" not in a
        quoted = tag in ("blockquote", "code") or "interp" in (a.get("class") or "").split()
        self.stack.append((tag, folded, quoted))
        self.quoted += quoted

    def handle_endtag(self, tag: str) -> None:
        if not self.depth or tag in ("br", "input", "img", "meta", "link"):
            return
        _, _, quoted = self.stack.pop()
        self.quoted -= quoted
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and data.strip():  # hidden by a closed <details> unless in its own <summary>
            st = self.stack
            folded = any(f and not (i + 1 < len(st) and st[i + 1][0] == "summary") for i, (_, f, _) in enumerate(st))
            self.texts.append((" ".join(data.split()), folded, self.quoted > 0))


def address(p: Policy, q, path: str = "/determine") -> str:
    params = [("policy", p.number)] + query_from_request(q.request) + ([("version", q.version)] if q.version else [])
    return f"{path}?{urlencode(params)}"


def api(client: httpx.Client, p: Policy, q) -> dict:
    version = f"&version={q.version}" if q.version else ""
    return client.post(f"/v1/determine?policy={p.id}{version}", json=q.request).json()


@pytest.mark.parametrize("policy,query", ONE_PER_OUTCOME, ids=[f"{p.number}:{q.name}" for p, q in ONE_PER_OUTCOME])
def test_the_answer_opens_with_the_decision_and_folds_the_rest(client, policy, query) -> None:
    page = client.get(address(policy, query)).text
    det = api(client, policy, query)
    data = policy.data(det["version"])
    lt = letter(det, query.request, policy)
    shown = Visible(page)
    first = [t for t, folded, _ in shown.texts if not folded]
    assert first[0] == data.vocabulary.outcomes[query.expect["outcome"]]  # the decision, in words, first
    assert first[1] == lt.summary  # then the decision sentence
    open_text = " ".join(t for t, folded, quoted in shown.texts if not folded and not quoted)
    assert not SNAKE.search(open_text), SNAKE.search(open_text)  # labels, not ids, where a reader looks first
    assert "The whole derivation" in [t for t, _, _ in shown.texts]  # the proof tree is there, folded
    every = " ".join(t for t, _, quoted in shown.texts if not quoted)
    assert not SNAKE.search(every), SNAKE.search(every)  # ... in words too
    tone = data.outcomes[det["outcome"]].tone
    if tone == "adverse":  # no mark of success stands under a denial outside the folded derivation
        assert "✓" not in open_text


@pytest.mark.parametrize("policy,query", ONE_PER_OUTCOME, ids=[f"{p.number}:{q.name}" for p, q in ONE_PER_OUTCOME])
def test_the_print_view_is_the_letter(client, policy, query) -> None:
    r = client.get(address(policy, query, "/determine/print"))
    assert r.status_code == 200
    det = api(client, policy, query)
    lt = letter(det, query.request, policy)
    shown = [t for t, _, _ in Visible(r.text, root="main").texts]
    assert shown[shown.index("Coverage determination") + 1] == lt.decision
    assert lt.summary in shown and lt.version in " ".join(shown)
    for c in lt.changes:
        assert c in shown
    for _, quote in lt.citations:
        assert f"“{quote}”" in shown


def test_the_undecided_answer_asks_in_words_what_each_answer_leads_to(client) -> None:
    cigna = next(p for p in POLICIES if p.number == "cigna-0284")
    q = {"service": "transabdominal_cerclage", "pregnant": True, "prior_pregnancy_losses": 2,
         "unknown_findings": ["shortened_cervical_length"], "unlisted_findings": "absent",  # one open finding
         "date_of_service": "2025-06-01"}
    page = client.get("/determine?" + urlencode([("policy", "cigna-0284")] + query_from_request(q))).text
    block = re.search(r'<div class="question" data-fact="shortened_cervical_length">(.*?)</div>', page, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(block)).split())
    det = client.post("/v1/determine?policy=cigna-0284", json=q).json()
    asked, = reading(det, cigna.data(det["version"])).questions  # the one reading the page shows
    assert text.startswith(asked.text) and asked.text.endswith("?") and not SNAKE.search(text)
    labels = cigna.data(det["version"]).outcomes
    for a in asked.answers:
        assert f"{a.text} → {a.leads_to}" in text
        assert a.outcome == {"yes": "medically_necessary", "no": "criteria_not_met"}[a.value] in labels


def test_the_print_view_of_no_request_is_a_one_line_error(client) -> None:
    r = client.get("/determine/print?policy=cigna-0284")
    assert r.status_code == 422 and "the page address states no request" in r.text and "Traceback" not in r.text
