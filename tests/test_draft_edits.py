"""The draft form's common changes (covkb.draft.edits): each edit kind
written into a draft compiles to the facts it says; two edits of one
statement share one [[change]]; the text around them is kept; a bad id is
one line naming the field; hostile strings stay data."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from covkb.draft import DraftError, compile_text, edits, scaffold
from covkb.policy import Policy

POLICY = Policy(policy=Path(__file__).parent / "policies" / "example_pap")
BASE = '# my notes\nrevision_of = "2026-01-01"\ntitle = "A draft"\n'
CPAP = "cpap_device_medically_necessary"
POSITIONAL = "positional_therapy_device_not_covered"


def facts_of(text: str) -> set[str]:
    return {str(f) for f in compile_text(text, POLICY).facts}


def run(*es: dict) -> str:
    text = BASE
    for e in es:
        text = edits.apply(text, e, POLICY)
    return text


# edits -> facts the compiled draft holds, facts it does not
CASES = [
    ("change an outcome",
     [{"kind": "outcome", "statement": POSITIONAL, "outcome": "medically_necessary"}],
     [f"statement({POSITIONAL},pap_devices,medically_necessary).", f"drops_statement({POSITIONAL})."],
     [f"statement({POSITIONAL},pap_devices,not_covered)."]),
    ("an outcome with a referral",
     [{"kind": "outcome", "statement": POSITIONAL, "outcome": "refer_to_other_policy", "referral": "Policy EX-9"}],
     [f"statement({POSITIONAL},pap_devices,refer_to_other_policy).", f'referral({POSITIONAL},"Policy EX-9").'], []),
    ("remove a criterion",
     [{"kind": "remove_criterion", "statement": CPAP, "criterion": "hypertension"}],
     [f"drops_criterion({CPAP},hypertension)."], []),
    ("add a criterion",
     [{"kind": "add_criterion", "statement": CPAP, "finding": "hypertension", "id": "high_blood_pressure",
       "quote": "high blood pressure", "group": "osa_symptoms"}],
     [f'criterion({CPAP},high_blood_pressure,hypertension,"high blood pressure").',
      f"member_of({CPAP},high_blood_pressure,osa_symptoms)."], []),
    ("add then remove the same new criterion: nothing left",
     [{"kind": "add_criterion", "statement": CPAP, "finding": "hypertension", "id": "hbp", "quote": "q"},
      {"kind": "remove_criterion", "statement": CPAP, "criterion": "hbp"},
      {"kind": "remove_criterion", "statement": CPAP, "criterion": "hypertension"}],
     [f"drops_criterion({CPAP},hypertension)."], [f'criterion({CPAP},hbp,hypertension,"q").']),
    ("outcome and criteria of one statement",
     [{"kind": "remove_criterion", "statement": CPAP, "criterion": "hypertension"},
      {"kind": "outcome", "statement": CPAP, "outcome": "not_medically_necessary"}],
     [f"statement({CPAP},pap_devices,not_medically_necessary)."], [f'criterion({CPAP},hypertension,hypertension,"hypertension").']),
    ("list a code under a service",
     [{"kind": "list_code", "code": "E0601", "service": "bilevel_device"}],
     ['code_reports("E0601",bilevel_device).'], []),
    ("move a code to another service",
     [{"kind": "move_code", "code": "95811", "from": "bilevel_titration_study", "to": "pap_titration_study"}],
     ['drops_code("95811").', 'code_reports("95811",pap_titration_study).', 'code_reports("95811",cpap_titration_study).'],
     ['code_reports("95811",bilevel_titration_study).', 'code_qualifier("95811",bilevel_titration_study,titration_device,bilevel).']),
    ("reword one quote",
     [{"kind": "reword", "statement": POSITIONAL, "number": 2, "text": "a sleep position trainer"}],
     [f'statement_quote({POSITIONAL},2,"a sleep position trainer").'], []),
    ("reword, then change the outcome: one [[change]]",
     [{"kind": "reword", "statement": POSITIONAL, "quotes": ["Only these words."]},
      {"kind": "outcome", "statement": POSITIONAL, "outcome": "medically_necessary"}],
     [f'statement_quote({POSITIONAL},1,"Only these words.").', f"statement({POSITIONAL},pap_devices,medically_necessary)."],
     [f'statement_quote({POSITIONAL},2,"a positional therapy device (sleep position trainer)").']),
]


@pytest.mark.parametrize("name,es,present,absent", CASES, ids=[c[0] for c in CASES])
def test_each_edit_compiles_to_what_it_says(name: str, es: list[dict], present: list[str], absent: list[str]) -> None:
    text = run(*es)
    got = facts_of(text)
    assert set(present) <= got, sorted(got)
    assert not set(absent) & got
    assert text.startswith(BASE)  # what was written before stays as written
    doc = tomllib.loads(text)
    statements = [t["statement"] for k in ("change", "reword") for t in doc.get(k, [])]
    assert len(statements) == len(set(statements))  # one table a statement


def test_edits_merge_into_a_table_where_it_stands_keeping_comments() -> None:
    text = BASE + f'\n[[change]]\nstatement = "{CPAP}"\ndrop_criteria = ["hypertension"]\n\n# keep me\n[[drop]]\nstatement = "{POSITIONAL}"\n'
    out = edits.apply(text, {"kind": "outcome", "statement": CPAP, "outcome": "not_covered"}, POLICY)
    assert "# keep me\n[[drop]]" in out and out.index("[[change]]") < out.index("[[drop]]")
    assert tomllib.loads(out)["change"] == [{"statement": CPAP, "drop_criteria": ["hypertension"], "outcome": "not_covered"}]


def test_an_edit_of_the_scaffold_compiles() -> None:
    text = scaffold(POLICY, "2026-01-01")
    out = edits.apply(text, {"kind": "outcome", "statement": CPAP, "outcome": "not_covered"}, POLICY)
    assert out.startswith(text.rstrip("\n")) and f"statement({CPAP},pap_devices,not_covered)." in facts_of(out)


NEW_CODE = BASE + '\n[[add_code]]\ncode = "E9999"\nsection = "coding_devices"\ndescription = "A new device"\nservices = ["cpap_device"]\n'
NEW_STATEMENT = BASE + (f'\n[[add]]\nstatement = "new_one"\nsection = "pap_devices"\noutcome = "not_covered"\n'
                        'quotes = ["a new device"]\nservices = ["pap_cleaning_machine"]\n')


# a draft's own new code or statement: the edit changes the table that adds it
OWN = [
    (NEW_CODE, {"kind": "list_code", "code": "E9999", "service": "bilevel_device"},
     ("add_code", {"services": ["cpap_device", "bilevel_device"]}), ['code_reports("E9999",bilevel_device).']),
    (NEW_CODE, {"kind": "move_code", "code": "E9999", "from": "cpap_device", "to": "bilevel_device"},
     ("add_code", {"services": ["bilevel_device"]}), ['code_reports("E9999",bilevel_device).']),
    (NEW_STATEMENT, {"kind": "outcome", "statement": "new_one", "outcome": "convenience_item"},
     ("add", {"outcome": "convenience_item"}), ["statement(new_one,pap_devices,convenience_item)."]),
    (NEW_STATEMENT, {"kind": "reword", "statement": "new_one", "quotes": ["other words"]},
     ("add", {"quotes": ["other words"]}), ['statement_quote(new_one,1,"other words").']),
]


@pytest.mark.parametrize("text,edit,table,present", OWN, ids=[f"{o[1]['kind']} of the draft's own" for o in OWN])
def test_an_edit_of_what_the_draft_adds_changes_its_table(text: str, edit: dict, table: tuple, present: list[str]) -> None:
    out = edits.apply(text, edit, POLICY)
    kind, keys = table
    doc = tomllib.loads(out)
    assert list(doc) == ["revision_of", "title", kind] and len(doc[kind]) == 1
    assert keys.items() <= doc[kind][0].items()
    assert set(present) <= facts_of(out)


HOSTILE = ['say "hi"', "two\nlines", "'''", '"""', "back\\slash \\n \\u0041", "tab\there", "# not a comment",
           "]] [[drop]]", "caf\u00e9 \u2265 \U0001F600", "del\x7f"]


@pytest.mark.parametrize("value", HOSTILE)
def test_strings_stay_data(value: str) -> None:
    text = run({"kind": "add_criterion", "statement": CPAP, "finding": "hypertension", "id": "hbp", "quote": value},
               {"kind": "reword", "statement": POSITIONAL, "number": 1, "text": value})
    facts = compile_text(text, POLICY).facts
    assert [f.args[3] for f in facts if f.name == "criterion" and str(f.args[1]) == "hbp"] == [value]
    assert [f.args[2] for f in facts if f.name == "statement_quote" and str(f.args[0]) == POSITIONAL][0] == value
    assert {f.name for f in facts} <= {"revision_of", "criterion", "drops_statement", "statement", "statement_quote",
                                        "applies_to", "member_of", "interpretation", "criteria", "criterion_group",
                                        "statement_reads", "criterion_reads", "evidence", "referral"}


MISTAKES = [
    ({"kind": "outcome", "statement": "cpap_devise_medically_necessary", "outcome": "not_covered"},
     "statement: version 2026-01-01 has no statement 'cpap_devise_medically_necessary' "
     "(did you mean 'cpap_device_medically_necessary'?)"),
    ({"kind": "outcome", "statement": CPAP, "outcome": "covered"}, "outcome: version 2026-01-01 has no outcome 'covered'"),
    ({"kind": "remove_criterion", "statement": CPAP, "criterion": "hypertensio"},
     f"criterion: statement {CPAP} has no criterion 'hypertensio' (did you mean 'hypertension'?)"),
    ({"kind": "add_criterion", "statement": CPAP, "finding": "Bad Id", "quote": "q"},
     "finding: 'Bad Id' is not a finding id (ids are lower_snake_case: ^[a-z][a-z0-9_]*$)"),
    ({"kind": "add_criterion", "statement": CPAP, "finding": "hypertension", "quote": ""},
     "quote: a add criterion edit needs 'quote'"),
    ({"kind": "list_code", "code": "E9999", "service": "cpap_device"}, "code: version 2026-01-01 has no code 'E9999'"),
    ({"kind": "list_code", "code": "E0601", "service": "cpap_devise"}, "service: version 2026-01-01 has no service 'cpap_devise'"),
    ({"kind": "move_code", "code": "E0601", "from": "bilevel_device", "to": "pap_device"},
     "from: code E0601 has no service 'bilevel_device'; it is one of cpap_device"),
    ({"kind": "reword", "statement": POSITIONAL, "number": 7, "text": "x"},
     f"number: statement {POSITIONAL} has quotes 1 to 2; found '7'"),
    ({"kind": "reword", "statement": POSITIONAL, "number": 1, "text": "nul\x00"}, "text: control characters are not allowed"),
    ({"kind": "rename", "statement": CPAP}, "kind: 'rename' is not an edit; one of outcome, add_criterion, "
     "remove_criterion, list_code, move_code, reword"),
    ({"kind": "outcome", "statement": CPAP, "outcome": "not_covered", "why": "x"},
     "why: a outcome edit takes statement, outcome, referral"),
]


@pytest.mark.parametrize("edit,message", MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_a_bad_edit_is_one_line_naming_the_field(edit: dict, message: str) -> None:
    with pytest.raises(DraftError) as exc:
        edits.apply(BASE, edit, POLICY)
    assert exc.value.message.startswith(message), exc.value.message
    assert "\n" not in exc.value.message


def test_a_draft_that_does_not_compile_is_its_own_one_line_mistake() -> None:
    with pytest.raises(DraftError, match=r"^draft.toml:4: TOML syntax"):
        edits.apply(BASE + "[[drop]\n", {"kind": "outcome", "statement": CPAP, "outcome": "not_covered"}, POLICY)
