"""Reasons in words (issue 21, items 1 and 3): covkb.sentences reads each
determination's derivation as sentences, decision first, through the
templates each policy declares in kb/ (kb/schema.pl: outcome_reads/2,
fact_reads/3, fact_asks/2, statement_reads/2, criterion_reads/3), else the
labels; the CLI's text and Markdown open with that sentence.

Data-driven over every named query of every installed policy and of the
test policy: both engines read the same sentences, the first line of text
and Markdown states the decision in words, and no id with a label or
template shows in either.  An analyst's reports read in words too: `covkb
check`'s findings over every version and the faulty drafts, `covkb diff`'s
text (the conditions, "not stated: whether ..." included) over a pair of
versions of each policy that has two and the drafts; the Revisions page in
tests/test_web_policy_pages.py.  Only what a reader copies as a request
(a witness, JSON) and the notes on an id's own declaration (no template,
an undeclared id: what the analyst edits) name ids.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from typer.testing import CliRunner

from covkb import KnowledgeBase
from covkb.check import check
from covkb.commands import app
from covkb.diff import Region
from covkb.errors import CovkbError
from covkb.policy import policy_folders
from covkb.queries import NamedQuery, load_queries
from covkb.render import to_markdown, to_text
from covkb.wording import Words
from samples import sampled
from wording_checks import first_line, ids_shown, states_decision_first

TESTS = Path(__file__).parent
TEST_POLICY = str(TESTS / "policies" / "example_pap")
POLICIES = [p.name.replace("_", "-") for p in policy_folders()] + [TEST_POLICY]


@functools.cache
def _kb(policy: str, engine: str) -> KnowledgeBase:
    return KnowledgeBase(policy=policy, engine=engine)


QUERIES = [(p, q) for p in POLICIES for q in load_queries(_kb(p, "prolog").policy.queries_dir)
           if "error" not in q.expect]


def _determine(policy: str, q: NamedQuery, engine: str = "prolog"):
    return _kb(policy, engine).determine(q.request, version=q.version_ref())


def _ids(policy: str, q: NamedQuery) -> str:
    return f"{Path(policy).name}:{q.name}"


# both engines' whole JSON answers, the sentences in them, agree on every scenario (test_engine_agreement.py):
# a sample of the named queries here, every one in the exhaustive tier
@pytest.mark.parametrize("engine", ["prolog", "asp"])
@pytest.mark.parametrize("policy,query", sampled(QUERIES))
def test_an_answer_without_its_derivation_says_the_same_decision_sentence(policy: str, query: NamedQuery,
                                                                          engine: str) -> None:
    """explain=False keeps the deciding facts (covkb.sentences.deciding), read
    off the same derivation: its summary is the one the whole derivation reads
    as, and nothing else of the reading comes without the derivation."""
    kb = _kb(policy, engine)
    whole = kb.determine(query.request, version=query.version_ref()).to_dict()
    alone = kb.determine(query.request, version=query.version_ref(), explain=False).to_dict(explanation=False)
    assert alone["summary"] == whole["summary"]
    assert list(alone)[:2] == ["outcome", "summary"] and "justification" not in alone and "explanation" not in alone


@pytest.mark.parametrize("policy,query", sampled(QUERIES))
def test_both_engines_read_the_same_sentences(policy: str, query: NamedQuery) -> None:
    a, b = _determine(policy, query, "prolog"), _determine(policy, query, "asp")
    assert a.reading() == b.reading()
    assert a.reading().summary.startswith(a.words.outcome(a.outcome) + ":")


@pytest.mark.parametrize("policy,query", QUERIES, ids=[_ids(p, q) for p, q in QUERIES])
def test_text_and_markdown_state_the_decision_first_in_words(policy: str, query: NamedQuery) -> None:
    d = _determine(policy, query)
    paths = {c.section: c.section_path for c in d.citations}
    path = lambda section: paths.get(section, section)  # noqa: E731
    for out in (to_text(d, path), to_markdown(d, path)):
        assert states_decision_first(out, d), first_line(out)
        assert ids_shown(out, d.words) == []


def test_the_decision_and_its_deciding_facts_in_one_sentence() -> None:
    q = _query("cigna-0284", "tac_pregnant_with_cone_biopsy_is_medically_necessary")
    r = _determine("cigna-0284", q).reading()
    assert r.summary == ("Medically necessary: the patient is pregnant and had a cone biopsy, "
                         "which the policy counts as prior cervical trauma.")
    statement = r.justification[0]
    assert statement.section == "Coverage Policy > Treatment" and "ANY of the following conditions" in statement.quote


def test_a_why_not_names_the_conditions_not_met() -> None:
    q = _query("cigna-0284", "tac_pregnant_without_any_condition_criteria_not_met")
    r = _determine("cigna-0284", q).reading()
    assert r.summary.startswith("Criteria not met: the patient is pregnant, but had no ")
    assert "no prior cervical trauma" in r.summary and "shortened cervical length" in r.summary


def test_an_undecided_answer_asks_each_missing_fact_with_where_each_answer_leads() -> None:
    q = _query("cigna-0284", "cerclage_of_unstated_approach_with_o26_21_and_cone_biopsy_needs_the_approach")
    r = _determine("cigna-0284", q).reading()
    assert r.summary.startswith("Not decided: the record does not say which service it is")
    [question] = r.questions
    assert question.text.startswith("Which service is it:")
    assert [a.outcome for a in question.answers] == ["medically_necessary", "not_addressed"]
    assert question.answers[0].leads_to.startswith("medically necessary")


def test_a_yes_no_question_reads_if_and_if_not() -> None:
    q = _query(TEST_POLICY, "cpap_with_ahi_8_and_unknown_daytime_sleepiness_needs_more_information")
    r = _determine(TEST_POLICY, q).reading()
    [question] = r.questions
    assert [a.value for a in question.answers] == ["yes", "no"]
    assert " If not: criteria not met" in question.sentence


def test_an_interpretation_is_covkbs_not_the_policys_words() -> None:
    q = _query("cigna-0284", "tac_pregnant_without_any_condition_criteria_not_met")
    d = _determine("cigna-0284", q)
    steps = [s for top in d.reading().justification for s in _walk(top)]
    [step] = [s for s in steps if s.interpretation]
    assert step.quote == "shortened cervical length" and step.interpretation.startswith("The policy sets no threshold")
    assert "covkb" in step.interpretation


def test_an_id_without_a_template_falls_back_to_its_label() -> None:
    q = _query(TEST_POLICY, "pap_cleaning_machine_is_a_convenience_item")
    d = _determine(TEST_POLICY, q)
    assert "convenience_item" not in d.words.outcome_words
    assert d.reading().summary.startswith("A convenience item: not covered")


def test_json_keeps_the_ids_and_adds_the_sentences() -> None:
    q = _query("cigna-0284", "tac_pregnant_with_cone_biopsy_is_medically_necessary")
    j = _determine("cigna-0284", q).to_dict()
    assert (j["outcome"], j["statement"], j["criteria_met"]) == (
        "medically_necessary", "antenatal_transabdominal_cerclage", ["prior_cervical_trauma"])
    assert j["summary"].startswith("Medically necessary: ")
    assert j["justification"][0]["section"] == "Coverage Policy > Treatment" and j["questions"] == []
    assert j["explanation"]["kind"] == "determination"


def test_check_notes_each_id_without_a_template() -> None:
    kb = _kb(TEST_POLICY, "prolog")
    notes = [f for f in check(kb.policy.data(kb.policy.latest())).findings if f.kind == "no_template"]
    said = " ".join(f.message for f in notes)
    assert notes and all(f.severity == "info" for f in notes)
    assert "hypertension" in said and "convenience_item" in said and "pressure_mode" in said
    assert "prior_cpap_failure has" not in said and "cpap_device_medically_necessary" not in said


# -- an analyst's reports: check and diff ---------------------------------------------

# the findings about an id's own declaration name it: the analyst edits that id
ABOUT_DECLARATIONS = ("no_template", "vocabulary")
CHECKED = [(p, v.id) for p in POLICIES for v in _kb(p, "prolog").policy.versions] + \
    [("cigna-0284", str(d)) for d in sorted((TESTS / "drafts").glob("*.pl")) if d.stem != "cycle"] + \
    [(TEST_POLICY, str(TESTS / "policies" / "example_pap" / "drafts" / "tighten_threshold.toml"))]
DIFFED = [("cigna-0284", "2024-04-15", "2025-02-15"),
          (TEST_POLICY, "2026-01-01", str(TESTS / "policies" / "example_pap" / "drafts" / "tighten_threshold.toml"))]


WITNESS = re.compile(r"witness:? \{.*\}$")


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code in (0, 1), r.output  # check exits 1 on errors
    return r.output


def _for_a_person(text: str) -> str:
    """The lines a person reads: not a witness (a request to replay, JSON), nor a note on a declaration."""
    return "\n".join(WITNESS.sub("", x) for x in text.splitlines()
                     if not any(k.replace("_", " ") in x for k in ABOUT_DECLARATIONS))


@pytest.mark.parametrize("policy,version", CHECKED, ids=[f"{Path(p).name}:{Path(v).name}" for p, v in CHECKED])
def test_checks_findings_read_in_words(policy: str, version: str) -> None:
    p = _kb(policy, "prolog").policy
    data = p.data(p.resolve(version))
    words = Words.of(data.vocabulary)
    for f in check(data).findings:
        if f.kind not in ABOUT_DECLARATIONS:
            assert ids_shown(f.message, words) == [], f.message


def test_checks_text_reads_in_words_the_kind_too() -> None:
    data = _kb("cigna-0284", "prolog").policy.data("2025-02-15")
    text = _cli("check", "--policy", "cigna-0284", "2025-02-15")
    assert ids_shown(_for_a_person(text), Words.of(data.vocabulary)) == []
    assert "info    ambiguous code         CPT 58578 reports transabdominal or laparoscopic" in text
    assert "ambiguous_code" not in text and "code_gap" not in text


@pytest.mark.slow
@pytest.mark.parametrize("policy,a,b", DIFFED, ids=[f"{Path(p).name}:{a}-{Path(b).stem}" for p, a, b in DIFFED])
def test_diffs_text_reads_in_words(policy: str, a: str, b: str) -> None:
    p = _kb(policy, "prolog").policy
    words = Words.of(*(p.data(p.resolve(v)).vocabulary for v in (a, b)))
    text = _cli("diff", "--policy", policy, a, b, "--regions")  # (Markdown's lines are the same lines)
    assert ids_shown(_for_a_person(text), words) == []
    if (a, b) == ("2024-04-15", "2025-02-15"):
        assert "not stated: whether the patient has recurrent pregnancy loss" in text
        assert "not stated: The individual" not in text  # the label, as a condition read before


def test_a_fact_not_stated_reads_as_what_the_record_does_not_say() -> None:
    words = _determine("cigna-0284", _query("cigna-0284", "tac_pregnant_with_cone_biopsy_is_medically_necessary")).words
    assert words.unknown("pregnant") == "whether the patient is pregnant"
    assert words.unknown("service") == "which service it is"
    region = Region({"cpt": "59325"}, {"pregnant": "yes"}, "became_conditional", {"outcome": "not_addressed"},
                    {"outcome": "insufficient_information", "missing": ["prior_cervical_trauma", "service"]})
    assert region.conditions(words) == ("the patient is pregnant; not stated: whether the patient had prior "
                                        "cervical trauma, which service it is")


def _query(policy: str, name: str) -> NamedQuery:
    return next(q for p, q in QUERIES if p == policy and q.name == name)


def _walk(step):
    yield step
    for c in step.children:
        yield from _walk(c)


def test_queries_with_errors_are_left_out_only_as_errors() -> None:
    errors = [(p, q) for p in POLICIES for q in load_queries(_kb(p, "prolog").policy.queries_dir) if "error" in q.expect]
    for p, q in errors:
        with pytest.raises(CovkbError):
            _determine(p, q)


def test_the_wording_checks_catch_an_id_and_a_decision_not_first() -> None:
    q = _query("cigna-0284", "tac_pregnant_with_cone_biopsy_is_medically_necessary")
    d = _determine("cigna-0284", q)
    old = "medically_necessary  (cigna-0284 version 2025-02-15)\n└── ✓ in scope: recurrent_pregnancy_loss = yes"
    assert ids_shown(old, d.words) == ["medically_necessary", "recurrent_pregnancy_loss"]
    assert not states_decision_first(old, d)
    assert ids_shown("policy cigna-0284, version 2025-02-15 (a_word_with_no_label)", d.words) == []
