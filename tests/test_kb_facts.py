"""The KB's fact files: one syntax both engines read, every statement cited
verbatim, and nothing but facts of the schema."""

from __future__ import annotations

import re
from pathlib import Path

import clingo
import pytest

from covkb import KnowledgeBaseError
from covkb.facts import atom, read_facts
from covkb.policy import Policy, normalise_quote, policy_folders

POLICY = Policy()
POLICIES = [Policy(policy=folder) for folder in policy_folders()]
# every version of every installed policy, with its policy
VERSIONS = [(p, v) for p in POLICIES for v in p.versions]
VERSION_IDS = [f"{p.number}@{v.id}" for p, v in VERSIONS]
FACT_FILES = sorted(POLICY.root.rglob("*.pl"))
FACT_FILES = [f for f in FACT_FILES if "engine" not in f.parts]

@pytest.mark.parametrize("path", FACT_FILES, ids=lambda p: str(p.relative_to(POLICY.root)))
def test_fact_file_loads_into_clingo_unchanged(path: Path) -> None:
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(path))
    ctl.ground([("base", [])])
    assert any(a.is_fact for a in ctl.symbolic_atoms)


@pytest.mark.parametrize("path", FACT_FILES, ids=lambda p: str(p.relative_to(POLICY.root)))
def test_fact_file_uses_only_the_shared_syntax(path: Path) -> None:
    code = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("%"))
    assert ":-" not in code, "no directives or rules in fact files"
    assert not re.search(r"\[|'", re.sub(r'"(?:[^"\\]|\\.)*"', '""', code)), "no lists or quoted atoms"


@pytest.mark.parametrize("policy,version", VERSIONS, ids=VERSION_IDS)
def test_every_quote_is_verbatim_in_the_source_text(policy, version) -> None:
    data = policy.data(version)
    quotes = data.quotes()  # every argument kb/schema.pl calls a quote
    assert len(quotes) > 20
    missing = [(f.name, q) for f, q in quotes if normalise_quote(q) not in data.normalised_source]
    assert missing == []


@pytest.mark.parametrize("policy,version", VERSIONS, ids=VERSION_IDS)
def test_every_statement_has_a_section_an_outcome_a_quote_and_a_service(policy, version) -> None:
    data = policy.data(version)
    sections = set(data.sections)
    outcomes = set(data.vocabulary.outcomes)
    quoted = {atom(r[0]) for r in data.rows("statement_quote")}
    applied = {atom(r[0]) for r in data.rows("applies_to")}
    for sid, section, outcome in data.rows("statement"):
        assert atom(section) in sections, sid
        assert atom(outcome) in outcomes, sid
        assert atom(sid) in quoted and atom(sid) in applied, sid


@pytest.mark.parametrize("policy,version", VERSIONS, ids=VERSION_IDS)
def test_every_id_a_fact_uses_is_declared(policy, version) -> None:
    data = policy.data(version)
    v = data.vocabulary
    facts = set(v.findings) | set(v.patient_facts)
    for r in data.rows("applies_to") + data.rows("code_reports"):
        assert atom(r[1]) in v.services, r
    for r in data.rows("requires"):
        assert atom(r[1]) in facts and atom(r[2]) in {"yes", "no"}, r
    for r in data.rows("criterion"):
        assert atom(r[2]) in facts, r
    for r in data.rows("finding_example") + data.rows("finding_is_a"):
        assert atom(r[0]) in v.findings and atom(r[1]) in v.findings, r


@pytest.mark.parametrize("text,message", [
    ('statement(x, treatment, medically_necessary).\nrun :- shell("touch {m}").\n', "only facts are allowed"),
    ('#script (python)\nimport os\nos.system("touch {m}")\n#end.\n', "only facts are allowed"),
    ("statement(X, treatment, medically_necessary).\n", "must be ground"),
    ("shell(1).\n", "not a predicate of kb/schema.pl"),
])
def test_the_fact_reader_refuses_anything_but_schema_facts(tmp_path: Path, text: str, message: str) -> None:
    marker = tmp_path / "ran"
    bad = tmp_path / "draft.pl"
    bad.write_text(text.format(m=marker))
    with pytest.raises(KnowledgeBaseError, match=message):
        read_facts([bad])
    assert not marker.exists()


def test_the_prolog_loader_refuses_a_rule_even_past_the_reader(tmp_path: Path, kb) -> None:
    from covkb.engines.prolog import PrologEngine
    from covkb.policy import VersionData

    marker = tmp_path / "ran"
    data = VersionData(POLICY.latest(), ())
    data.__dict__["fact_text"] = f'statement(x, treatment, medically_necessary).\nrun :- shell("touch {marker}").\n'
    with pytest.raises(KnowledgeBaseError, match="not a fact of the KB schema"):
        PrologEngine(data)
    assert not marker.exists()


def test_read_facts_reports_a_syntax_error_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pl"
    bad.write_text("statement(x, treatment\n")
    with pytest.raises(KnowledgeBaseError) as exc:
        read_facts([bad])
    assert "\n" not in str(exc.value)


def test_a_fact_file_may_not_state_what_covkb_derives(tmp_path) -> None:
    """criterion_position/3 (the order explanations list criteria in) is
    derived from the source text for both engines, never written."""
    from covkb.errors import KnowledgeBaseError
    from covkb.policy import Policy

    draft = tmp_path / "derived.pl"
    draft.write_text('revision_of("2025-02-15").\n'
                     'criterion_position(antenatal_transabdominal_cerclage, prior_cervical_trauma, 3).\n')
    p = Policy()
    with pytest.raises(KnowledgeBaseError, match="criterion_position is derived by covkb"):
        p.data(p.draft(draft))


def test_both_engines_read_each_criterion_at_its_place_in_the_text() -> None:
    from covkb.policy import Policy

    p = Policy()
    data = p.data(p.latest())
    lines = [ln for ln in data.engine_text.splitlines() if ln.startswith("criterion_position(")]
    criteria = [f for f in data.facts if f.name in ("criterion", "criterion_group")]
    assert len(lines) == len(criteria) >= 6
    assert all(not ln.endswith(",-1).") for ln in lines), "every criterion's quote is found in the text"


@pytest.mark.parametrize("fact, predicate", [
    ('interpretation(scope(recurrent_pregnancy_loss), "a second reading").', "interpretation"),
    ('referral(ivig_refer_to_immune_globulin_policy, "another policy").', "referral"),
    ('code_note("58578", "a second note").', "code_note"),
])
def test_a_version_with_two_facts_where_the_schema_allows_one_is_refused(tmp_path, fact: str, predicate: str) -> None:
    """unique/3 in kb/schema.pl: where one fact is allowed there is one, so
    neither engine chooses among several by the order of the files."""
    draft = tmp_path / "ambiguous.pl"
    draft.write_text(f'revision_of("2025-02-15").\n{fact}\n')
    p = Policy()
    with pytest.raises(KnowledgeBaseError, match=f"allows one {predicate} here"):
        p.data(p.draft(draft))
