"""A long-running worker keeps at most KEPT_DRAFTS drafts compiled, and the
Prolog module of each draft revision it drops is unloaded: saving and
deciding by 20 revisions of one draft leaves at most KEPT_DRAFTS of their
modules loaded in SWI-Prolog (asked of SWI-Prolog itself), and a draft
dropped and asked for again is loaded again and decides as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covkb.engines.prolog import PrologEngine
from covkb.policy import Policy
from covkb.service.draft_ops import KEPT_DRAFTS
from covkb.service.ops import Worker
from test_workspace import AHI_15, EXAMPLE, TIGHTEN

# (drafts kept compiled, revisions saved): a sample in make test (a worker keeping 1), the worker's own
# bound and 20 revisions in make test-exhaustive (each draft compiled costs a second or so)
SIZES = [pytest.param(1, 3, id="keeping-1"),
         pytest.param(KEPT_DRAFTS, 20, id=f"keeping-{KEPT_DRAFTS}", marks=pytest.mark.exhaustive)]


def _loaded(modules: list[str]) -> int:
    """How many of these modules SWI-Prolog holds (asked by name: a draft's
    module is temporary, and SWI-Prolog does not list those)."""
    from pyswip import Prolog

    return sum(1 for m in modules if list(Prolog.query(f"current_module({m})")))


def _revision(n: int) -> str:
    """A revision of the tightening draft of its own content: the AHI that suffices is 20 + n."""
    return TIGHTEN.replace("number = 20,", f"number = {20 + n},", 1)


@pytest.fixture()
def worker(tmp_path: Path, kb: Any) -> Worker:  # kb: SWI-Prolog started by the session's knowledge base first
    w = Worker({"preload_policies": [], "today": "2026-06-01", "store": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    w._policies["example_pap"] = Policy(policy=EXAMPLE)
    return w


def _call(w: Worker, op: str, body: Any, **args: Any) -> dict[str, Any]:
    status, _media, out = w.handle({"op": op, "args": args}, json.dumps(body).encode())
    assert status in (200, 201), out
    return json.loads(out)


@pytest.mark.parametrize(("kept", "revisions"), SIZES)
def test_dropped_draft_revisions_are_unloaded(worker: Worker, kept: int, revisions: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from covkb.service import draft_ops

    monkeypatch.setattr(draft_ops, "KEPT_DRAFTS", kept)
    modules, outcomes = [], []
    made = None
    for n in range(revisions):  # kept as the workspace keeps them (its checks left out: not what is tested)
        made = worker.store.save_draft("example_pap", text=_revision(n), note="", author="a", tests=[],
                                       draft_id=made and made.id, expected_revision=made and made.revision)
        outcomes.append(_call(worker, "determine", AHI_15, policy="example_pap", version=made.version_id)["outcome"])
        p = Policy(policy=EXAMPLE)
        modules.append(PrologEngine.module_of(p.data(p.draft_text(_revision(n), made.id))))
        assert _loaded(modules[-1:]) == 1  # the revision asked for is loaded
        assert _loaded(modules) <= kept
    assert len(set(modules)) == revisions and made.revision == revisions
    assert set(outcomes) == {"criteria_not_met"}  # every revision asks for more than an AHI of 15
    assert _loaded(modules[:revisions - kept]) == 0  # those dropped: unloaded
    # one dropped and asked for again: loaded again, deciding as before
    first = worker.store.save_draft("example_pap", text=_revision(0), note="", author="a", tests=[])
    assert _call(worker, "determine", AHI_15, policy="example_pap", version=first.version_id)["outcome"] == outcomes[0]
