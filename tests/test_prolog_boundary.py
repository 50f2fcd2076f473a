"""The Prolog engine's C boundary gives back what each call takes.

covkb calls the evaluator's text-in, text-out predicates through
SWI-Prolog's C interface (covkb.engines.prolog._TextCall).  PL_get_nchars
keeps the answer's text in SWI-Prolog's string buffers, which only a return
to Prolog frees; called from C at the top, they piled up, about 7 KB a
determination, until a long run (the exhaustive agreement tier) lost its
worker.  The call now releases them from a mark.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.policy import Policy, policy_folders
from covkb.scenarios import scenarios

CALLS = 3000
# Resident memory may grow a little (allocator pools, caches); the leak grew it by about 20 MiB
# over these calls.
MAX_GROWTH_MIB = 6


def _resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.slow
def test_many_determinations_do_not_grow_the_process() -> None:
    policy = Policy(policy=str(policy_folders()[0]))
    version = policy.versions[-1].id
    kb = KnowledgeBase(engine="prolog", policy=str(policy_folders()[0]), today=dt.date(2025, 6, 1))
    requests = list(itertools.islice(scenarios(policy.data(version)), 500))

    def run(n: int) -> None:
        for request in itertools.islice(itertools.cycle(requests), n):
            try:
                kb.determine(request, version=version)
            except CovkbError:
                pass

    run(len(requests))  # warm: versions loaded, caches filled
    before = _resident_mib()
    run(CALLS)
    grown = _resident_mib() - before
    assert grown < MAX_GROWTH_MIB, f"{CALLS} determinations grew the process by {grown:.1f} MiB"
