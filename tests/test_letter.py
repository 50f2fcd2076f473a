"""The rationale letter (covkb.letter, `covkb determine --format letter`):
for every named query (both engines the same letter: a sample in make
test, every query in the exhaustive tier, as the engines' whole JSON
answers are compared in test_engine_agreement.py), it opens with
the decision in words; every reason quotes the policy verbatim with its
section; it says what documentation would change the decision, and names
the policy, version and date of service (what CMS-0057-F asks of a
denial's specific reason).  Real engines, the real CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache

import pytest
from samples import sampled

from covkb.kb import KnowledgeBase
from covkb.letter import Step, letter, to_text
from covkb.policy import Policy, normalise_quote, policy_folders
from covkb.queries import load_queries

POLICIES = [Policy(policy=f) for f in policy_folders()]
QUERIES = [(p, q) for p in POLICIES for q in load_queries(p.queries_dir)
           if "error" not in q.expect and (q.version is None or q.version in {v.id for v in p.versions})]
ONE_PER_OUTCOME = list({(p.number, q.expect["outcome"]): (p, q) for p, q in QUERIES}.values())
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@cache
def kb(policy: str, engine: str) -> KnowledgeBase:
    return KnowledgeBase(engine, policy=policy)


def the_letter(p: Policy, q, engine: str = "prolog"):
    k = kb(p.id, engine)
    det = k.determine(q.request, version=q.version_ref()).to_dict()
    return det, letter(det, q.request, k.policy)


def steps(ss: tuple[Step, ...]):
    for s in ss:
        yield s
        yield from steps(s.children)


@pytest.mark.parametrize("policy,query", sampled(QUERIES, lambda p: p.number))
def test_both_engines_write_the_same_letter(policy, query) -> None:
    assert to_text(the_letter(policy, query)[1]) == to_text(the_letter(policy, query, "asp")[1])


@pytest.mark.parametrize("policy,query", QUERIES, ids=[f"{p.number}:{q.name}" for p, q in QUERIES])
def test_the_letter_opens_with_the_decision(policy, query) -> None:
    det, lt = the_letter(policy, query)
    text = to_text(lt)
    label = policy.data(det["version"]).vocabulary.outcomes[query.expect["outcome"]]
    assert text.splitlines()[0] == f"COVERAGE DETERMINATION: {label.upper()}"
    assert lt.decision == label and lt.summary and text.split("\n\n")[1].startswith(lt.summary.split()[0])
    assert (lt.policy_number, lt.version) == (policy.number, det["version"])
    assert f"Version:           {det['version']}" in text and policy.number in text
    if query.request.get("date_of_service"):
        assert f"Date of service:   {query.request['date_of_service']}" in text


@pytest.mark.parametrize("policy,query", QUERIES, ids=[f"{p.number}:{q.name}" for p, q in QUERIES])
def test_every_reason_is_in_words_and_quotes_the_policy_verbatim_with_its_section(policy, query) -> None:
    det, lt = the_letter(policy, query)
    sources = " ".join(policy.data(v).normalised_source for v in policy.versions)
    shown = list(steps(lt.reasons + lt.scope + lt.alternatives))
    meaning = policy.data(det["version"]).outcomes[det["outcome"]].meaning
    assert lt.changes and (lt.reasons or meaning in ("not_addressed", "unknown"))  # else the summary is the reason
    for s in shown:
        assert not SNAKE.search(s.text), s.text  # labels, not ids, in covkb's own words
        for part in s.quote.split(" … ") if s.quote else ():  # the policy's words (… marks an omission)
            assert normalise_quote(part) in sources, part
    for words in (lt.summary, *lt.changes, *(q.text for q in lt.questions),
                  *(a.text + a.leads_to for q in lt.questions for a in q.answers)):
        assert not SNAKE.search(words), words


@pytest.mark.parametrize("policy,query", ONE_PER_OUTCOME, ids=[f"{p.number}:{q.name}" for p, q in ONE_PER_OUTCOME])
def test_each_outcome_has_its_letter_with_specific_reasons_and_citations(policy, query) -> None:
    det, lt = the_letter(policy, query)
    meanings = policy.data(det["version"]).outcomes
    meaning = meanings[det["outcome"]].meaning
    quoted = [s for s in steps(lt.reasons) if s.quote]
    if meaning in ("covered", "denied", "referred"):  # decided by a statement: its words are the reason
        assert quoted, "a decision by the policy quotes it"
    if meaning == "undecided":  # each missing fact asked, each answer leading to an outcome in words
        assert [q.fact for q in lt.questions] == det["missing"]
        for q in lt.questions:
            assert q.text.endswith("?") and q.answers
            assert all(a.leads_to and a.outcome in {*det["possible_outcomes"], "insufficient_information"}
                       for a in q.answers)
    if det["outcome"] == "criteria_not_met":  # the documentation that would meet the criteria
        assert any("would make it" in c for c in lt.changes)
    assert lt.citations == tuple((c["section"], c["quote"]) for c in det["citations"])


def test_the_cli_writes_the_letter() -> None:
    out = subprocess.run([sys.executable, "-m", "covkb.cli", "determine", "--policy", "cigna-0284", "--cpt", "59325",
                          "--pregnant", "--prior-pregnancy-losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01",
                          "--format", "letter"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "COVERAGE DETERMINATION: MEDICALLY NECESSARY"
    assert "WHAT DOCUMENTATION WOULD CHANGE THIS DECISION" in lines and "REASONS, IN THE POLICY'S WORDS" in lines
    text = " ".join(out.stdout.split())
    assert "cone biopsy" in out.stdout.split("\n\n")[1]  # the deciding fact, in the decision's sentence
    assert '[Coverage Policy > Treatment] "prior cervical trauma (e.g., cone biopsy, cervical laceration during ' \
           'delivery)"' in text  # ... with the policy's words
    assert "Date of service: 2025-06-01" in text and "Version: 2025-02-15, effective 2025-02-15" in text


def test_a_bad_request_to_the_letter_is_a_one_line_error() -> None:
    out = subprocess.run([sys.executable, "-m", "covkb.cli", "determine", "--policy", "cigna-0284", "--cpt", "5932X!",
                          "--format", "letter"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("covkb: error: ") and out.stderr.count("\n") == 1

