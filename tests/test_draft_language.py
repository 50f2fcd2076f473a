"""Check and both loaders accept exactly the same draft language.

A draft (.pl) is read by the shared fact reader (covkb.facts: what
`covkb check` and `covkb diff` read it with); each engine then loads the
facts it accepted, SWI-Prolog through the evaluator's loader and clingo
through its own parser.  Drafts mixing ground facts of the schema with what
a careless or hostile author writes (directives, `#include`, classical
negation, variables, rules, primes, tuples, comments of either language,
strings with quotes and escapes, Unicode, a BOM) must be accepted by all
three, to the same facts, or refused by the reader with one line: a draft
the reader refuses reaches no engine.  Found disagreements are kept below
as cases.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import clingo
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from covkb.errors import KnowledgeBaseError
from covkb.facts import Fact, Term, Value, _value, fact_text, read_facts

HEAD = 'revision_of("2025-02-15").\n'

GOOD_IDS = ["zz_new", "a", "aB", "a1_b", "is", "mod", "xor", "dynamic", "table", "initialization", "end_of_file",
            "not_", "true", "fail", "inf", "sup"]
BAD_IDS = ["_a", "a'", "A", "Ab", "caf\u00e9", "a-b", "not"]
GOOD_TEXTS = ["A label", "", "say \\\"hi\\\"", "back\\\\slash", "two\\nlines", "caf\u00e9 \u2265 2 \U0001F600",
              "%not a comment", "'single'", "#include", ":- halt.", "0'c", "/* not a comment */"]
BAD_TEXTS = ["tab\there", "bad \\t escape", "\ufeffbom", "new\nline"]
GOOD_NUMBERS = ["0", "7", "-1", "007", "2147483647", "-2147483647"]
BAD_NUMBERS = ["2147483648", "1.5", "0x1F", "1..3", "- 1", "1e3", "1-2"]


def _value_text(clean: bool) -> st.SearchStrategy[str]:
    good = st.one_of(st.sampled_from(GOOD_IDS), st.sampled_from(GOOD_NUMBERS),
                     st.sampled_from(GOOD_TEXTS).map(lambda t: f'"{t}"'), st.sampled_from(["f(a)", "f(g(a), 1)"]))
    bad = st.one_of(st.sampled_from(BAD_IDS), st.sampled_from(BAD_NUMBERS),
                    st.sampled_from(BAD_TEXTS).map(lambda t: f'"{t}"'),
                    st.sampled_from(["(a,b)", "-a", "a;b", "X", "_", "'Quoted'", "[a]", "{a}", "a b", "f()"]))
    return good if clean else st.one_of(good, good, good, bad)


def _fact(clean: bool) -> st.SearchStrategy[str]:
    """A line a draft might hold: mostly facts of schema predicates, some
    hostile constructs, comments of both languages."""
    facts = st.builds(lambda n, xs: f"{n}({', '.join(xs)}).",
                      st.sampled_from(["service", "finding", "patient_fact"]), st.lists(_value_text(clean), min_size=2,
                                                                                         max_size=2))
    three = st.builds(lambda xs: f"field_range({', '.join(xs)}).", st.lists(_value_text(clean), min_size=3, max_size=3))
    hostile = st.sampled_from([
        ":- initialization(halt).", '#include "/etc/hostname".', "#const n = 2.", '#script (python) x = 1 #end.',
        '-service(zz_new, "x").', 'service(X, "x").', 'service(Z, "x") :- finding(Z, _).', "service(a, \"x\") :- .",
        "not service(a, \"x\").", '{service(a, "x")}.', 'service(a, "x"); finding(b, "y").', "shell(1).",
        "service.", "service(a).", '% a comment', '%* a block\ncomment *%', '/* a Prolog comment */',
        '"a string alone".', "service(a, \"x\")", "\t", "\r\n"])
    comments = st.sampled_from(["% a comment", "%* a block\ncomment *%"])
    return st.one_of(facts, three, comments) if clean else st.one_of(facts, three, hostile)


def drafts() -> st.SearchStrategy[str]:
    """Half clean (facts and comments only: each must load alike), half mixed
    with hostile lines and values."""
    def draft(clean: bool) -> st.SearchStrategy[str]:
        return st.builds(lambda bom, lines, sep: ("\ufeff" if bom else "") + HEAD + sep.join(lines) + "\n",
                         st.booleans(), st.lists(_fact(clean), min_size=1, max_size=5),
                         st.sampled_from(["\n", "\r\n", " "]))

    return st.one_of(draft(True), draft(False))


# -- the three readers ---------------------------------------------------------

def by_reader(path: Path) -> tuple[str, Any]:
    try:
        return "ok", read_facts([path])
    except KnowledgeBaseError as err:
        assert "\n" not in err.message
        return "refused", err.message


def _from_prolog(v: Any) -> Value:
    from pyswip import Atom, Functor

    if isinstance(v, Atom):
        return Term(v.value)
    if isinstance(v, Functor):
        return Term(v.name.value, tuple(_from_prolog(a) for a in v.args))
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v


_modules = iter(range(10**9))


def by_swi(facts: list[Fact], tmp: Path) -> list[Fact]:
    """The facts SWI-Prolog holds after its loader read the reader's facts."""
    from pyswip import Functor, Query, Variable

    from covkb.engines.prolog import _evaluator_goal, _solve_once, _swipl

    _swipl()
    module = f"covkb_draft_language_{next(_modules)}"
    file = tmp / "facts.pl"
    file.write_text(fact_text(facts), encoding="utf-8")
    status = Variable()
    res = _solve_once(_evaluator_goal("load_kb_status", module, [str(file)], status), status)
    text = res.decode("utf-8") if isinstance(res, bytes) else str(res)
    assert text == "ok", text
    out = []
    for name, arity in dict.fromkeys((f.name, len(f.args)) for f in facts):
        args = [Variable() for _ in range(arity)]
        q = Query(Functor("call", 1)(Functor(":", 2)(module, Functor(name, arity)(*args))))
        try:
            while q.nextSolution():
                out.append(Fact(name, tuple(_from_prolog(a.value) for a in args)))
        finally:
            q.closeQuery()
    return out


def by_clingo(facts: list[Fact]) -> set[Fact]:
    """The facts clingo holds after it parsed and grounded the reader's facts."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], fact_text(facts))
    ctl.ground([("base", [])])
    return {Fact(a.symbol.name, tuple(_value(x) for x in a.symbol.arguments)) for a in ctl.symbolic_atoms}


def in_order_by_predicate(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.name, len(f.args)))  # stable: each predicate's facts keep their order


def assert_all_three_agree(text: str, tmp: Path) -> str:
    draft = tmp / "draft.pl"
    draft.write_bytes(text.encode("utf-8"))
    verdict, got = by_reader(draft)
    if verdict == "refused":
        return verdict
    assert in_order_by_predicate(by_swi(got, tmp)) == in_order_by_predicate(got)
    assert by_clingo(got) == set(got)
    assert not re.search(r"[^\x00-\x7f]", "".join(f.name for f in got))
    return verdict


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(text=drafts())
def test_generated_drafts_are_read_alike_by_check_and_both_loaders(text: str, tmp_path: Path) -> None:
    event(assert_all_three_agree(text, tmp_path))  # shown by --hypothesis-show-statistics


FOUND = [
    ("an id with a prime, which SWI-Prolog reads as the start of a quoted atom", 'service(zz\', "x").', "refused"),
    ("an id with a leading underscore, a variable to SWI-Prolog", 'service(_zz, "x").', "refused"),
    ("a classically negated fact, which clingo's parser reads as the fact", '-service(zz, "x").', "refused"),
    ("an include, which clingo's parser would follow", '#include "/etc/hostname".', "refused"),
    ("a tuple, a comma term to SWI-Prolog", 'service((a,b), "x").', "refused"),
    ("a BOM inside the text, once a crash of clingo's logger", 'service(a, "x").\ufeff', "refused"),
    ("a non-ASCII id", 'service(caf\u00e9, "x").', "refused"),
    ("a raw tab inside a string", 'service(a, "x\ty").', "refused"),
    ("a number clingo cannot hold", "field_range(a, 2147483648, 1).", "refused"),
    ("an interval", "field_range(a, 1..3, 1).", "refused"),
    ("a leading BOM, as Windows editors write it, is dropped", '\ufeffservice(a, "x").', "ok"),
    ("quotes, backslashes and newlines escaped in a string", 'service(a, "say \\"hi\\" \\\\ \\n").', "ok"),
    ("Unicode inside a string", 'service(a, "caf\u00e9 \u2265 \U0001F600").', "ok"),
    ("ids that are Prolog operators", 'service(dynamic, "x").\nservice(is, "y").\nfinding(mod, "z").', "ok"),
    ("clingo's comments", '% one\n%* two\nlines *% service(a, "x").', "ok"),
]


@pytest.mark.parametrize("line,verdict", [(t, v) for _, t, v in FOUND], ids=[n for n, _, _ in FOUND])
def test_a_found_case_is_read_alike_by_check_and_both_loaders(line: str, verdict: str, tmp_path: Path) -> None:
    text = line[1:] if line.startswith("\ufeff") else line
    text = ("\ufeff" if line.startswith("\ufeff") else "") + HEAD + text + "\n"
    assert assert_all_three_agree(text, tmp_path) == verdict
