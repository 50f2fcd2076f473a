"""Drafts kept in the workspace: covkb.store's drafts (SQLite, and a real
PostgreSQL for the migration) and covkb.workspace over them.

What is asserted: a store of the revision before the drafts is brought to
head with what it kept; every revision of a draft is kept and a stale save is
refused (409's error); bad drafts and test requests are refused in one line,
a draft over the size limit as too large; a draft that does not compile is
kept with its one-line error as its finding, and nothing it holds is ever
read as Prolog; a review decides each test request and names, for a failing
one, the diff region that holds its request; a draft is checked again when
the knowledge base it revises changes (a scratch copy); an export written
into a scratch copy of kb/ and queries/ passes `covkb check` and its test
requests run there as named queries and pass.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from draft_export import check_export
from postgres import fresh_database

from covkb import workspace
from covkb.draft import DraftError
from covkb.errors import InvalidRequest
from covkb.limits import MAX_DRAFT
from covkb.policy import Policy
from covkb.store import DraftTooLarge, StaleDraft, Store, UnknownDraft, models

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "tests" / "policies" / "example_pap"
UTC = dt.timezone.utc
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.slow)]


def with_wording(toml: Path) -> str:
    """A draft file and its proposed wording (the .txt beside it) as one stored text."""
    text, wording = toml.read_text(encoding="utf-8"), toml.with_suffix(".txt").read_text(encoding="utf-8")
    return text.replace("\ntitle = ", f"\nwording = '''\n{wording}'''\ntitle = ", 1)


TIGHTEN = with_wording(EXAMPLE / "drafts" / "tighten_threshold.toml")
AHI_15 = {"date_of_service": "2026-06-01", "service": "cpap_device", "apnea_hypopnea_index": 15,
          "oxygen_saturation_nadir": 86, "findings": ["excessive_daytime_sleepiness"]}
TESTS = [
    {"name": "ahi_15_no_longer_suffices", "request": AHI_15, "expect": {"outcome": "criteria_not_met"},
     "why": "The draft asks for an AHI of 20 or more."},
    {"name": "ahi_15_still_suffices", "request": AHI_15, "expect": {"outcome": "medically_necessary"},
     "why": "What the base version decided: the draft changes it, so this test fails."},
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}") as s:
        yield s


@pytest.fixture(scope="module")
def example() -> Policy:
    return Policy(policy=EXAMPLE)


# -- the store -----------------------------------------------------------------------------
def test_a_store_of_the_revision_before_drafts_is_brought_to_head_with_what_it_kept(url: str) -> None:
    from covkb.store import _engine, migrate

    engine = _engine(url)
    try:
        migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(models.decisions.insert().values(
                kind="pas", key="OLD-1", policy="p", version="v", kb_digest="d", request={"a": 1}, answer={},
                status="pended", created_at=dt.datetime(2026, 1, 2, tzinfo=UTC)))
            conn.execute(models.secrets.insert().values(name="k", value={"v": 1}, created_at=dt.datetime.now(UTC)))
    finally:
        engine.dispose()
    with Store.open(url) as s:
        assert s.decision("OLD-1").request == {"a": 1}
        assert s.secret("k", lambda: {"v": 2}) == {"v": 1}
        saved = s.save_draft("example_pap", text=TIGHTEN, note="n", author="a", tests=TESTS)
        assert s.draft(saved.id) == saved


def test_every_revision_of_a_draft_is_kept_and_a_stale_save_is_refused(store: Store) -> None:
    first = store.save_draft("example_pap", text=TIGHTEN, note="first", author="ana", tests=TESTS)
    assert (first.revision, first.revision_of, first.tests) == (1, "2026-01-01", tuple(TESTS))
    second = store.save_draft("example_pap", text=TIGHTEN + "\n# edited\n", note="second", author="bo",
                              draft_id=first.id, expected_revision=1)
    assert (second.revision, second.tests, second.created) == (2, tuple(TESTS), first.created)  # tests kept
    with pytest.raises(StaleDraft) as stale:
        store.save_draft("example_pap", text=TIGHTEN, draft_id=first.id, expected_revision=1)
    assert stale.value.code == "conflict" and "revision 2, not 1" in stale.value.message
    history = store.draft_history(first.id)
    assert [(d.revision, d.note, d.author) for d in history] == [(1, "first", "ana"), (2, "second", "bo")]
    assert history[0].text == TIGHTEN and history[1].text.endswith("# edited\n")
    other = store.save_draft("cigna_0284", text='revision_of = "2025-02-15"\n')
    assert [d.id for d in store.drafts("example_pap")] == [first.id]
    assert [d.id for d in store.drafts()] == [other.id, first.id]  # last updated first
    assert store.draft("no-such-draft") is None
    with pytest.raises(UnknownDraft):
        store.save_draft("example_pap", text=TIGHTEN, draft_id="no-such-draft")


@pytest.mark.parametrize("draft, error, says", [
    ({"text": "x" * (MAX_DRAFT + 1)}, DraftTooLarge, "at most 256 KiB"),
    ({"text": 3}, InvalidRequest, "a draft's text is a string"),
    ({"text": "", "note": "n" * 5000}, InvalidRequest, "note has at most 4000"),
    ({"text": "", "tests": {"name": "x"}}, InvalidRequest, "tests are a list"),
    ({"text": "", "tests": [{"name": "Bad Name", "request": {}, "expect": {"outcome": "x"}}]}, InvalidRequest,
     "lower-case letters"),
    ({"text": "", "tests": [{"name": "a", "request": {}, "expect": {}}]}, InvalidRequest, "expect names an outcome"),
    ({"text": "", "tests": [{"name": "a", "request": [], "expect": {"outcome": "x"}}]}, InvalidRequest,
     "its request is a JSON object"),
    ({"text": "", "tests": [TESTS[0], TESTS[0]]}, InvalidRequest, "two test requests are named"),
    ({"text": "", "tests": [{**TESTS[0], "request": {"a": [[[[[[[[[1]]]]]]]]]}}]}, InvalidRequest, "nested deeper"),
    ({"text": "", "tests": [{**TESTS[0], "run": "halt."}]}, InvalidRequest, "unknown key 'run'"),
    ({"text": "", "draft_id": "x", "expected_revision": True}, InvalidRequest, "expected revision is a whole number"),
], ids=["too-large", "not-text", "long-note", "tests-not-a-list", "test-name", "no-outcome", "request-not-object",
        "duplicate-name", "too-deep", "unknown-key", "revision-not-a-number"])
def test_a_bad_draft_is_refused_in_one_line(store: Store, draft: dict[str, Any], error: type, says: str) -> None:
    with pytest.raises(error) as refused:
        store.save_draft("example_pap", **draft)
    assert says in refused.value.message and "\n" not in refused.value.message


# -- covkb.workspace -----------------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ('revision_of = "2026-01-01"\n[[drop]]\n', "[[drop]] needs 'statement'"),
    ("revision_of(\"2026-01-01\").\nstatement(x, y, z) :- halt.\n", "TOML syntax"),
    ('revision_of = "1999-01-01"\n', "no version '1999-01-01'"),
], ids=["incomplete", "prolog-is-not-read", "unknown-base"])
def test_a_draft_that_does_not_compile_is_kept_with_its_error(store: Store, example: Policy, text: str,
                                                             says: str) -> None:
    saved = workspace.save(store, example, text=text, tests=TESTS)
    kept = store.draft(saved.id)
    assert kept.findings["compiles"] is False and says in kept.findings["error"]["message"]
    assert kept.findings["error"]["code"] == "invalid_draft" and "\n" not in kept.findings["error"]["message"]
    with pytest.raises(DraftError):
        workspace.version_of(example, kept)
    review = workspace.review(example, kept)
    assert not review.ok and review.error["code"] == "invalid_draft"
    assert [t.passed for t in review.tests] == [None, None]


def test_a_review_decides_each_test_and_names_the_change_that_broke_a_failing_one(store: Store,
                                                                                  example: Policy) -> None:
    saved = workspace.save(store, example, text=TIGHTEN, tests=TESTS)
    assert saved.findings["compiles"] and saved.findings["check"]["ok"]
    assert [(t["name"], t["passed"]) for t in saved.findings["tests"]] == [(TESTS[0]["name"], True),
                                                                           (TESTS[1]["name"], False)]  # run on save
    review = workspace.review(example, store.draft(saved.id)).to_dict()
    assert review["tests_summary"] == {"passed": 1, "failed": 1, "total": 2}
    passing, failing = review["tests"]
    assert (passing["passed"], passing["regions"]) == (True, [])
    assert failing["actual"] == {"outcome": "criteria_not_met", "statement": "cpap_device_medically_necessary"}
    assert failing["problems"] == ["outcome: expected 'medically_necessary', got 'criteria_not_met'"]
    broke = [review["diff"]["regions"][i] for i in failing["regions"]]
    assert len(broke) == 1
    assert broke[0]["region"]["service"] == "cpap_device"
    assert (broke[0]["before"]["outcome"], broke[0]["after"]["outcome"]) == ("medically_necessary", "criteria_not_met")
    # the region of AHI 15-19 (moderate or severe OSA, not the draft's 20) with a nadir of 85-87: there the
    # daytime sleepiness the request states decides nothing
    fixed = broke[0]["region"]["fixed"]
    assert (fixed["moderate_to_severe_osa"], fixed["ahi_at_least_20"]) == ("yes", "no")
    assert "excessive_daytime_sleepiness" not in fixed


def test_a_draft_is_checked_again_when_the_knowledge_base_it_revises_changes(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "example_pap"
    shutil.copytree(EXAMPLE, folder)
    saved = workspace.save(store, Policy(policy=folder), text=TIGHTEN)
    assert workspace.recheck(store, Policy(policy=folder), store.draft(saved.id)) == store.draft(saved.id)
    # the base version's statement the draft changes is gone from the knowledge base: the draft no longer compiles
    rules = folder / "2026-01-01" / "coverage_policy.pl"
    rules.write_text(rules.read_text(encoding="utf-8").replace("cpap_device_medically_necessary",
                                                               "cpap_device_covered"), encoding="utf-8")
    rechecked = workspace.recheck(store, Policy(policy=folder), store.draft(saved.id))
    assert rechecked.kb_digest != saved.kb_digest and rechecked.findings["compiles"] is False
    assert "cpap_device_medically_necessary" in rechecked.findings["error"]["message"]
    assert store.draft(saved.id) == rechecked  # kept


def test_an_export_becomes_a_version_that_passes_check_and_runs_its_tests_as_named_queries(
        store: Store, tmp_path: Path) -> None:
    cigna = Policy(policy="cigna_0284")
    request = {"date_of_service": "2025-06-01", "service": "intralipid_infusion", "prior_pregnancy_losses": 3}
    tests = [{"name": "intralipid_is_not_medically_necessary_under_the_draft", "request": request,
              "expect": {"outcome": "not_medically_necessary"}, "why": "The draft adds it to the list."}]
    saved = workspace.save(store, cigna, text=with_wording(REPO / "queries" / "drafts" /
                                                          "intralipid_not_medically_necessary.toml"), tests=tests)
    files = workspace.export(cigna, saved)
    vid = workspace.export_version_id(saved)
    assert sorted(files) == sorted([f"kb/policies/cigna_0284/{vid}/draft.pl", f"kb/policies/cigna_0284/source/{vid}.txt",
                                    "kb/policies/cigna_0284/policy.pl", f"queries/cigna_0284/{tests[0]['name']}.json"])
    assert check_export(files, tmp_path, "cigna_0284") == [tests[0]["name"]]


def test_covkb_drafts_lists_shows_rechecks_and_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from covkb.commands import app

    shutil.copytree(REPO / "kb", tmp_path / "kb")
    shutil.copytree(EXAMPLE, tmp_path / "kb" / "policies" / "example_pap")
    monkeypatch.setenv("COVKB_KB", str(tmp_path / "kb"))
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store.open(url) as s:
        saved = workspace.save(s, Policy(policy="example_pap"), text=TIGHTEN, note="tighten", tests=TESTS[:1])

    def covkb(*args: str) -> str:
        r = CliRunner().invoke(app, [*args, "--store", url])
        assert r.exit_code == 0, r.output
        return r.output

    assert f"draft:{saved.id}  example_pap revising 2026-01-01, revision 1" in covkb("drafts", "list")
    assert "checks clean" in covkb("drafts", "show", saved.id) and "tighten" in covkb("drafts", "show", saved.id)
    assert "0 draft(s) checked again" in covkb("drafts", "recheck")
    vocabulary = tmp_path / "kb" / "policies" / "example_pap" / "vocabulary.pl"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + '\nfinding(new_finding, "A new finding").\n',
                          encoding="utf-8")
    out = covkb("drafts", "recheck")
    assert f"draft:{saved.id}: checked again: checks clean; 1 of 1 test(s) pass" in out
    assert "1 draft(s) checked again" in out
    covkb("drafts", "export", saved.id, "--to", str(tmp_path / "out"))
    vid = workspace.export_version_id(saved)
    assert (tmp_path / "out" / "kb" / "policies" / "example_pap" / vid / "draft.pl").is_file()
    assert (tmp_path / "out" / "kb" / "policies" / "example_pap" / "queries" / f"{TESTS[0]['name']}.json").is_file()  # its own queries/
