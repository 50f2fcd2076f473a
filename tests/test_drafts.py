"""Drafts written as TOML (covkb.draft): every mistake is one line naming
the line and key; each shipped draft compiles to exactly the facts of the
.pl draft it replaces; the format expresses the faulty drafts of
tests/drafts/; scaffold -> compile round trip; `covkb draft check`;
`covkb vocab --draft` and the vocabulary of a version in Python."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from covkb.draft import DraftError, compile_draft, compile_text, scaffold
from covkb.facts import Fact, Term, fact_text, read_facts
from covkb.policy import Policy, policy_folders

REPO = Path(__file__).parents[1]
SHIPPED = REPO / "queries" / "drafts"
GOLDEN = Path(__file__).parent / "golden" / "drafts"
FAULTY = Path(__file__).parent / "drafts"
TEST_POLICY = Path(__file__).parent / "policies" / "example_pap"
POLICY = Policy()
BASE = 'revision_of = "2025-02-15"\n'
NEW = BASE + ('[[add]]\nstatement = "new_one"\nsection = "treatment"\noutcome = "not_covered"\n'
       'quotes = ["intralipid infusion"]\nservices = ["intralipid_infusion"]\n')
VOCAB_HINT = "; `covkb vocab --version 2025-02-15` lists them"

# one mistake per row: the draft's text, the one-line message (file x.toml)
MISTAKES = [
    ("toml syntax", BASE + '[[drop]\nstatement = "x"\n',
     "x.toml:2: TOML syntax: Expected ']]' at the end of an array declaration (column 7)"),
    ("unterminated string", BASE + 'title = "no end\n',
     "x.toml:2: TOML syntax: Illegal character '\\n' (column 16)"),
    ("no base", 'title = "x"\n',
     'x.toml:1: (top level): a draft needs revision_of = "2025-02-15" (the version it revises)'),
    ("unknown base", 'revision_of = "2025-02-16"\n',
     "x.toml:1: revision_of: no version '2025-02-16' of cigna-0284 (did you mean '2025-02-15'?)"),
    ("a version of another policy", 'revision_of = "undated"\n',
     "x.toml:1: revision_of: no version 'undated' of cigna-0284; it is a version of aetna-0348: "
     "give --policy aetna-0348"),
    ("base not a string", "revision_of = 2025-02-15\n",
     "x.toml:1: revision_of: expected a version id (a string), found a date or time"),
    ("unknown top-level key", BASE + 'titel = "x"\n',
     "x.toml:2: titel: unknown key 'titel' (did you mean 'title'?)"),
    ("unknown table", BASE + '\n[[rewrite]]\nstatement = "x"\n',
     "x.toml:3: rewrite: unknown key 'rewrite' (did you mean 'reword'?)"),
    ("unknown key in a table", BASE + '[[drop]]\nstatment = "nk_cell_testing_not_covered"\n',
     "x.toml:3: drop.statment: unknown key 'statment' (did you mean 'statement'?)"),
    ("missing key", BASE + '[[reword]]\nstatement = "nk_cell_testing_not_covered"\n',
     "x.toml:2: reword: [[reword]] needs 'quotes'"),
    ("a table, not an array of tables", BASE + '[drop]\nstatement = "non_pregnant_cerclage"\n',
     "x.toml:2: drop: write each as a [[drop]] table (found a table)"),
    ("drop a statement that does not exist", BASE + '[[drop]]\nstatement = "nk_cell_testing_not_coverd"\n',
     "x.toml:3: drop.statement: version 2025-02-15 has no statement 'nk_cell_testing_not_coverd' "
     "(did you mean 'nk_cell_testing_not_covered'?)" + VOCAB_HINT),
    ("drop, nothing near", BASE + '[[drop]]\nstatement = "zzz"\n',
     "x.toml:3: drop.statement: version 2025-02-15 has no statement 'zzz'" + VOCAB_HINT),
    ("unknown service, on its own line of a list",
     NEW.replace('services = ["intralipid_infusion"]', 'services = [\n  "ivig",\n  "intralipid_infusoin",\n]'),
     "x.toml:9: add.services: version 2025-02-15 has no service 'intralipid_infusoin' "
     "(did you mean 'intralipid_infusion'?)" + VOCAB_HINT),
    ("unknown section", NEW.replace('"treatment"', '"treatmnt"'),
     "x.toml:4: add.section: version 2025-02-15 has no section 'treatmnt' (did you mean 'treatment'?)" + VOCAB_HINT),
    ("unknown outcome", NEW.replace('"not_covered"', '"denied"'),
     "x.toml:5: add.outcome: version 2025-02-15 has no outcome 'denied'" + VOCAB_HINT),
    ("malformed id", NEW.replace('"new_one"', '"New-One"'),
     "x.toml:3: add.statement: 'New-One' is not a statement id (ids are lower_snake_case: ^[a-z][a-z0-9_]*$)"),
    ("an id that would be Prolog", NEW.replace('"new_one"', '"x). drops_statement(y"'),
     "x.toml:3: add.statement: 'x). drops_statement(y' is not a statement id "
     "(ids are lower_snake_case: ^[a-z][a-z0-9_]*$)"),
    ("wrong type: a string for a list", NEW.replace('["intralipid infusion"]', '"intralipid infusion"'),
     "x.toml:6: add.quotes: expected a list of strings, found a string"),
    ("wrong type: a number for an id", NEW.replace('["intralipid_infusion"]', '[7]'),
     "x.toml:7: add.services: expected a service id (a string), found a number"),
    ("empty quote", NEW.replace('["intralipid infusion"]', '["intralipid infusion", " "]'),
     "x.toml:6: add.quotes: expected text, found an empty string"),
    ("add a statement that exists", NEW.replace('"new_one"', '"non_pregnant_cerclage"'),
     "x.toml:3: add.statement: statement non_pregnant_cerclage exists already in 2025-02-15; "
     "use [[change]] or [[reword]] for it"),
    ("unknown fact in requires", NEW + 'requires = [{fact = "pregnent", value = "yes", quote = "q"}]\n',
     "x.toml:8: add.requires.fact: version 2025-02-15 has no fact 'pregnent' (did you mean 'pregnant'?)" + VOCAB_HINT),
    ("value outside the fact's values", NEW + 'requires = [{fact = "pregnant", value = "maybe", quote = "q"}]\n',
     "x.toml:8: add.requires.value: fact pregnant has no value 'maybe'; it is one of yes, no"),
    ("unknown key in an inline table", NEW + 'requires = [\n  {fact = "pregnant", valeu = "yes", quote = "q"},\n]\n',
     "x.toml:9: add.requires.valeu: unknown key 'valeu' (did you mean 'value'?)"),
    ("wrong type: a table for a list", NEW + 'requires = {fact = "pregnant", value = "yes", quote = "q"}\n',
     "x.toml:8: add.requires: expected a list of {fact, value, quote} tables, found a table"),
    ("criteria mode", NEW + 'criteria = {mode = "some", quote = "q"}\n',
     "x.toml:8: add.criteria.mode: criteria has no mode 'some'; it is one of any, all"),
    ("criterion tables need criteria", NEW + '[[add.criterion]]\nfinding = "cone_biopsy"\nquote = "q"\n',
     'x.toml:2: add: criteria = {mode = "any"|"all", quote = "..."} is needed with criterion tables'),
    ("unknown criterion to drop", BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\n'
                                         'drop_criteria = ["short_cervical_length"]\n',
     "x.toml:4: change.drop_criteria: statement non_pregnant_cerclage has no criterion 'short_cervical_length' "
     "(did you mean 'shortened_cervical_length'?); it is one of prior_cervical_trauma, "
     "prior_failed_history_indicated_transvaginal_cerclage, shortened_cervical_length"),
    ("unknown finding in the second criterion", BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\n\n'
     '[[change.criterion]]\nfinding = "cervical_laceration_during_delivery"\nquote = "q"\n\n'
     '[[change.criterion]]\nfinding = "cone_biopsi"\nquote = "q"\n',
     "x.toml:10: change.criterion.finding: version 2025-02-15 has no finding 'cone_biopsi' "
     "(did you mean 'cone_biopsy'?)" + VOCAB_HINT),
    ("a criterion the statement has", BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\n'
     '[[change.criterion]]\nfinding = "prior_cervical_trauma"\nquote = "q"\n',
     "x.toml:5: change.criterion.finding: statement non_pregnant_cerclage already has a criterion or group "
     "'prior_cervical_trauma'; give the new one an id"),
    ("unknown group", BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\n'
     '[[change.criterion]]\nfinding = "cone_biopsy"\nquote = "q"\ngroup = "both"\n',
     "x.toml:7: change.criterion.group: statement non_pregnant_cerclage has no group 'both'; it is one of "),
    ("a change of nothing", BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\n',
     "x.toml:2: change: [[change]] of non_pregnant_cerclage changes nothing: give criteria, criterion, "
     "drop_criteria, group, outcome, quotes, referral, requires, section, services"),
    ("one statement in two tables", BASE + '[[drop]]\nstatement = "non_pregnant_cerclage"\n\n'
     '[[change]]\nstatement = "non_pregnant_cerclage"\noutcome = "not_covered"\n',
     "x.toml:6: change.statement: non_pregnant_cerclage is already in [[drop]] on line 3; a draft names it once"),
    ("a new finding needs a label", BASE + '[[finding]]\nid = "cone_biopsi"\n',
     "x.toml:3: finding.id: finding 'cone_biopsi' is new (did you mean 'cone_biopsy'?): a new finding needs a label"),
    ("an existing finding takes no label", BASE + '[[finding]]\nid = "cone_biopsy"\nlabel = "Cone biopsy"\n',
     "x.toml:4: finding.label: finding cone_biopsy exists already; give no label"),
    ("a threshold is a whole number", BASE + '[[patient_fact]]\nid = "long_run"\nlabel = "x"\n'
     'at_least = {field = "prior_pregnancy_losses", number = "3", section = "general_background", quote = "q"}\n',
     "x.toml:5: patient_fact.at_least.number: expected a whole number, found a string"),
    ("a threshold on a field that is no number", BASE + '[[patient_fact]]\nid = "long_run"\nlabel = "x"\n'
     'at_least = {field = "pregnant", number = 3, section = "general_background", quote = "q"}\n',
     "x.toml:5: patient_fact.at_least.field: version 2025-02-15 has no count or measurement field 'pregnant'; "
     "it is one of consecutive_spontaneous_abortions, prior_pregnancy_losses"),
    ("drop a code that does not exist", BASE + '[[drop_code]]\ncode = "99999"\n',
     "x.toml:3: drop_code.code: version 2025-02-15 has no code '99999' (did you mean '58999'?)"),
    ("add a code that exists", BASE + '[[add_code]]\ncode = "86357"\nsection = "coding_diagnostic_testing"\n'
     'description = "x"\n',
     "x.toml:3: add_code.code: code 86357 exists already; use [[change_code]] for it"),
    ("a code that is no code", BASE + '[[drop_code]]\ncode = "86 357"\n',
     "x.toml:3: drop_code.code: '86 357' is not a code (letters, digits and dots)"),
    ("a code implies an undeclared value (tests/drafts/vocabulary.pl)",
     BASE + '[[change_code]]\ncode = "59325"\nimplies = [{fact = "pregnant", value = "maybe", quote = "q"}]\n',
     "x.toml:4: change_code.implies.value: fact pregnant has no value 'maybe'; it is one of yes, no"),
    ("lines after a multi-line wording that looks like TOML",
     BASE + "wording = '''\nTreatment\n[[drop]]\nstatement = \"x\"\n'''\n\n[[drop]]\nstatement = \"nope\"\n",
     "x.toml:9: drop.statement: version 2025-02-15 has no statement 'nope'" + VOCAB_HINT),
]


@pytest.mark.parametrize("text,message", [(t, m) for _, t, m in MISTAKES], ids=[n for n, _, _ in MISTAKES])
def test_a_mistake_is_one_line_naming_its_line_and_key(text: str, message: str) -> None:
    with pytest.raises(DraftError) as err:
        compile_text(text, POLICY, "x.toml")
    got = str(err.value)
    assert "\n" not in got
    assert got.startswith(message) if message.endswith("one of ") else got == message


@pytest.mark.parametrize("toml", sorted(SHIPPED.glob("*.toml")), ids=lambda p: p.stem)
def test_each_shipped_draft_compiles_to_exactly_the_facts_of_its_old_pl(toml: Path) -> None:
    compiled = compile_draft(toml, POLICY)
    assert list(compiled.facts) == read_facts([GOLDEN / f"{toml.stem}.pl"])
    # and through Policy.draft: the same effective facts as the .pl draft
    via_toml = POLICY.data(POLICY.draft(toml)).facts
    via_pl = POLICY.data(POLICY.draft(GOLDEN / f"{toml.stem}.pl")).facts
    assert via_toml == via_pl


def test_every_old_pl_draft_has_its_toml_and_none_is_left_in_queries() -> None:
    assert {p.stem for p in GOLDEN.glob("*.pl")} == {p.stem for p in SHIPPED.glob("*.toml")}
    assert not list(SHIPPED.glob("*.pl"))


@pytest.mark.parametrize("toml", sorted(FAULTY.glob("*.toml")), ids=lambda p: p.stem)
def test_the_format_expresses_the_faulty_drafts_of_the_check_tests(toml: Path) -> None:
    assert list(compile_draft(toml, POLICY).facts) == read_facts([toml.with_suffix(".pl")])


def test_the_test_policy_draft_in_toml_has_the_facts_of_its_pl() -> None:
    """Patient facts with thresholds, and a new criterion inside an existing group."""
    p = Policy(policy=TEST_POLICY)
    toml = TEST_POLICY / "drafts" / "tighten_threshold.toml"
    assert set(compile_draft(toml, p).facts) == set(read_facts([toml.with_suffix(".pl")]))


def test_change_and_reword_restate_the_statement_with_its_other_facts() -> None:
    text = BASE + ('[[change]]\nstatement = "non_pregnant_cerclage"\noutcome = "not_covered"\n'
                   'drop_criteria = ["shortened_cervical_length"]\n'
                   '[[reword]]\nstatement = "antenatal_transabdominal_cerclage"\nquotes = ["a", "b"]\n')
    facts = compile_text(text, POLICY).facts
    s, t = Term("non_pregnant_cerclage"), Term("antenatal_transabdominal_cerclage")
    assert Fact("drops_statement", (s,)) in facts and Fact("drops_statement", (t,)) in facts
    assert Fact("statement", (s, Term("treatment"), Term("not_covered"))) in facts
    names = [f.name for f in facts if f.args and f.args[0] == s]
    assert "requires" in names and "criteria" in names and names.count("criterion") == 2
    assert any(f.name == "interpretation" and "non_pregnant_cerclage" in str(f.args[0]) for f in facts)
    assert [f.args[2] for f in facts if f.name == "statement_quote" and f.args[0] == t] == ["a", "b"]
    assert sum(f.name == "criterion" and f.args[0] == t for f in facts) == 3
    unrequired = compile_text(BASE + '[[change]]\nstatement = "non_pregnant_cerclage"\nrequires = []\n', POLICY).facts
    assert not any(f.name == "requires" for f in unrequired) and any(f.name == "criterion" for f in unrequired)
    v = POLICY.data(POLICY.version("2025-02-15"))
    from covkb.policy import apply_revision

    revised = apply_revision(list(v.facts), list(facts))
    assert Fact("statement", (s, Term("treatment"), Term("medically_necessary"))) not in revised
    assert not any(f.name == "criterion" and f.args[:2] == (s, Term("shortened_cervical_length")) for f in revised)


def test_strings_never_become_prolog_source() -> None:
    evil = 'x"). drops_statement(nk_cell_testing_not_covered). %\n:- halt.'
    text = f"title = {json.dumps(evil)}\n" + NEW.replace('"intralipid infusion"', json.dumps(evil))
    compiled = compile_text(text, POLICY)
    assert Fact("statement_quote", (Term("new_one"), 1, evil)) in compiled.facts
    pl = compiled.text()
    assert sum(bool(line) and not line.startswith("%") for line in pl.splitlines()) == len(compiled.facts)
    tmp = Path(__file__).parent / ".tmp_evil_draft.pl"
    try:
        tmp.write_text(pl, encoding="utf-8")
        assert read_facts([tmp]) == list(compiled.facts)
    finally:
        tmp.unlink()
    assert fact_text(compiled.facts).count("drops_statement") == 1  # only inside the quoted string


def _examples(text: str) -> list[str]:
    """The scaffold's example tables, each uncommented."""
    blocks = [b for b in text.split("\n\n") if "\n# [[" in b]
    return [re.sub(r"(?m)^# (?=\[\[|[a-z_]+ = )", "", b) for b in blocks]


@pytest.mark.parametrize("folder", policy_folders() + [TEST_POLICY], ids=lambda p: p.name)
def test_scaffold_compiles_as_is_and_with_every_example_uncommented(folder: Path) -> None:
    p = Policy(policy=folder)
    for v in p.versions:
        text = scaffold(p, v.id)
        assert compile_text(text, p).facts == (Fact("revision_of", (v.id,)),)
        examples = _examples(text)
        assert len(examples) == 5
        kinds = {f.name for e in examples for f in compile_text(text + "\n" + e, p).facts}
        assert {"drops_statement", "statement", "statement_quote", "applies_to", "requires"} <= kinds
        if p.data(v).rows("criterion"):
            assert {"drops_criterion", "criterion"} <= kinds
        for s in p.data(v).vocabulary.statements:  # every statement is listed
            assert f"#   {s}: " in text


def covkb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "covkb.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


@pytest.mark.slow
def test_draft_new_then_compile_and_check_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "mine.toml"
    r = covkb("draft", "new", "--from", "2025-02-15", "-o", str(out))
    assert r.returncode == 0 and out.is_file()
    assert covkb("draft", "new", "-o", str(out)).returncode == 2  # never overwrites
    out.write_text(out.read_text().replace('# [[drop]]\n# statement', '[[drop]]\nstatement'))
    pl = tmp_path / "mine.pl"
    r = covkb("draft", "compile", str(out), "-o", str(pl))
    assert r.returncode == 0, r.stderr
    assert [f.name for f in read_facts([pl])] == ["revision_of", "drops_statement"]


@pytest.mark.slow
def test_draft_check_passes_a_good_draft_and_flags_a_faulty_one(tmp_path: Path) -> None:
    good = covkb("draft", "check", "queries/drafts/intralipid_not_medically_necessary.toml", "-f", "json")
    assert good.returncode == 0 and json.loads(good.stdout)["ok"] is True
    conflict = covkb("draft", "check", str(FAULTY / "conflict.toml"))
    assert conflict.returncode == 1 and "conflict" in conflict.stdout and "witness" in conflict.stdout
    syntax = tmp_path / "syntax.toml"
    syntax.write_text(BASE + "[[drop]\n")
    r = covkb("draft", "compile", str(syntax))
    assert (r.returncode, r.stdout) == (2, "") and r.stderr.count("\n") == 1 and f"{syntax}:2: TOML syntax" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE + '\n[[drop]]\nstatement = "nk_cell_testing"\n')
    r = covkb("draft", "check", str(bad))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (f"covkb: error: {bad}:4: drop.statement: version 2025-02-15 has no statement "
                        f"'nk_cell_testing' (did you mean 'nk_cell_testing_not_covered'?){VOCAB_HINT}\n")
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_vocab_of_a_draft_shows_the_statement_it_adds_and_of_a_version_its_own() -> None:
    draft = covkb("vocab", "--draft", "queries/drafts/intralipid_not_medically_necessary.toml", "-f", "json")
    assert "intralipid_infusion_not_medically_necessary" in json.loads(draft.stdout)["statements"]
    latest = json.loads(covkb("vocab", "-f", "json").stdout)["statements"]
    assert "intralipid_infusion_not_medically_necessary" not in latest
    old = json.loads(covkb("vocab", "--version", "before-2024-04-15", "-f", "json").stdout)["statements"]
    assert set(old) < set(latest) | set(old) and len(old) < len(latest)
    # the same in Python
    v = POLICY.data(POLICY.resolve(str(SHIPPED / "cervical_length_threshold.toml"))).vocabulary
    assert "cervical_length_under_25_mm" in v.findings
    assert "non_pregnant_cerclage" not in POLICY.data(
        POLICY.resolve(str(SHIPPED / "drop_non_pregnant_cerclage.toml"))).vocabulary.statements


@pytest.mark.parametrize("doc", ["README.md", "docs/drafts.md"])
def test_the_documented_example_compiles(doc: str) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    section = text[text.index("# Drafts without writing Prolog"):]
    example = section[section.index("```toml\n") + 8:section.index("\n```", section.index("```toml"))]
    kinds = [f.name for f in compile_text(example, POLICY).facts]
    assert {"statement", "drops_statement", "finding", "drops_criterion", "criterion"} <= set(kinds)


SCAN = '''# a comment
revision_of = "2025-02-15" # trailing
"title" = 'a # not a comment ]'
wording = """x = 1
[[drop]]
  \\""" still "" inside """
other.dotted = 1

[[add]]
statement = "s"
quotes = [ "a,]", 'b',
  """c
d""", ]
requires = [{fact = "f", value = "v", quote = "q"},
            {fact = "g", value = "w", quote = "x = [y]"}]
  [[add.criterion]]
  finding = "k"
  [[add.criterion]]
  finding = "l"
[[add]]
statement = "t"
[[add.criterion]]
finding = "m"
[tbl.sub]
x = 1
'''


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_the_scanner_finds_the_line_of_every_key_and_element(newline: str) -> None:
    import tomllib

    from covkb.draft.toml_lines import Positions as _Positions

    text = SCAN.replace("\n", newline)
    pos = _Positions(text)
    lines = text.split("\n")

    def walk(value, path) -> None:
        if path:
            assert path in pos.lines, path
            if isinstance(path[-1], str):
                assert path[-1] in lines[pos.lines[path] - 1], path
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for k, v in items:
            walk(v, path + (k,))

    walk(tomllib.loads(text), ())
    expected = {("other",): 7, ("add", 0, "quotes", 2): 12, ("add", 0, "requires", 1, "quote"): 15,
                ("add", 0, "criterion", 1, "finding"): 19, ("add", 1, "criterion", 0, "finding"): 23,
                ("tbl", "sub", "x"): 25}
    assert {k: pos.lines[k] for k in expected} == expected


def test_the_wording_key_is_proposed_text_the_quotes_may_cite(tmp_path: Path) -> None:
    words = "Intralipid infusion is considered not medically necessary for recurrent pregnancy loss."
    body = NEW.replace('["intralipid infusion"]', json.dumps([words]))
    with_wording = tmp_path / "with.toml"
    with_wording.write_text(f"wording = '''\nTreatment\n\n{words}\n'''\n" + body)
    without = tmp_path / "without.toml"
    without.write_text(body)
    assert POLICY.data(POLICY.draft(with_wording)).quote_position(words) >= 0
    assert POLICY.data(POLICY.draft(without)).quote_position(words) < 0


IVIG = "ivig_refer_to_immune_globulin_policy"
IVIG_REQUEST = {"service": "ivig", "prior_pregnancy_losses": 3, "date_of_service": "2025-06-01"}
# (what the draft does, its [[change]] of the IVIG statement, the referral determine then gives, check's findings on it)
REFERRAL_DRAFTS = [
    ("a new outcome drops the referral it does not state", 'outcome = "not_medically_necessary"\n', None, []),
    ("a new outcome keeps a referral the draft states, which check reports",
     'outcome = "not_medically_necessary"\nreferral = "Another policy"\n', "Another policy",
     ["referral_without_referring_outcome"]),
    ('referral = "" removes a referral', 'referral = ""\n', None, []),
    ("a new referral replaces the old", 'referral = "Another policy"\n', "Another policy", []),
]


@pytest.mark.parametrize(("what", "change", "referral", "findings"), REFERRAL_DRAFTS, ids=[r[0] for r in REFERRAL_DRAFTS])
def test_a_referral_belongs_to_its_outcome(tmp_path: Path, what: str, change: str, referral, findings: list) -> None:
    """A draft making IVIG not medically necessary used to keep "referral: Cigna ... Immune Globulin"."""
    from covkb import KnowledgeBase
    from covkb.check import check

    draft = tmp_path / "d.toml"
    draft.write_text(BASE + f'[[change]]\nstatement = "{IVIG}"\n' + change)
    kb = KnowledgeBase()
    det = kb.determine(IVIG_REQUEST, version=str(draft))
    assert det.referral == referral
    report = check(POLICY.data(POLICY.resolve(str(draft))))
    assert [f.kind for f in report.findings if f.statements == (IVIG,) and f.kind.startswith("referral")] == findings
