"""Shared fixtures: one KnowledgeBase per engine per test session.

pyswip allows one SWI-Prolog per process, so the Prolog engine is loaded
once and shared; tests use the real engines, never mocks.  Under
pytest-xdist every worker is a process of its own, with its own session.

The seed of the engine-agreement test's random sample (COVKB_SAMPLE_SEED)
is chosen here, once, before the xdist workers start (they inherit it), and
printed at the end of the run so that a failure can be drawn again.
Every case either engine returns in the tests is checked against the
derivation's contract, kb/derivation.pl (COVKB_CHECK_CONTRACT; servers the
tests start inherit it).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import tempfile

import pytest

from covkb import KnowledgeBase
from postgres import postgres_url  # noqa: F401  (the throwaway PostgreSQL: tests/postgres.py)

TODAY = dt.date(2025, 6, 1)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("COVKB_SAMPLE_SEED", str(random.SystemRandom().randrange(10**9)))
    os.environ.setdefault("COVKB_CHECK_CONTRACT", "1")  # (it had slipped into pytest_unconfigure: checked nothing)
    if "COVKB_STATE" not in os.environ:  # the decision store of servers the tests start: never the user's own
        os.environ["COVKB_STATE"] = _STATE[0] = tempfile.mkdtemp(prefix="covkb-state-")


_STATE: list[str] = [""]  # the state directory this process made (xdist workers inherit the controller's)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STATE[0]:
        shutil.rmtree(_STATE[0], ignore_errors=True)


# The test files that take longest (measured on two cores), run first: under pytest-xdist
# (--dist loadfile --no-loadscope-reorder) the workers take whole files in this order, so that none
# is left starting a long file when the others are done.  Only the order changes, never what runs.
LONGEST_FIRST = ("test_spark.py", "test_diff_soundness.py", "test_diff.py", "test_engine_agreement.py",
                 "test_service_faults.py", "test_web.py", "test_hostile_input.py", "test_service.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    ran = [r for k in ("passed", "failed", "error") for r in terminalreporter.stats.get(k, ())]
    if any("random_sample" in getattr(r, "nodeid", "") for r in ran):
        seed = os.environ["COVKB_SAMPLE_SEED"]
        terminalreporter.write_line(f"engine agreement: random sample drawn with COVKB_SAMPLE_SEED={seed}")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase(engine="prolog", today=TODAY)


@pytest.fixture(scope="session")
def section_path(kb: KnowledgeBase):
    return kb.policy.data(kb.policy.latest()).section_path


@pytest.fixture(scope="session")
def web_server():
    """One real server on 127.0.0.1 for the web pages' tests (HTTP and browser)."""
    from service_server import Server

    s = Server(workers=1)
    yield s
    assert s.stop() in (0, -15)


# Chromium for the browser tests (Debian's, driven by Playwright); one per test module.  As root
# it needs --no-sandbox; the rest keep it off this machine's closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    import shutil

    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    assert exe, "Chromium is missing: `make setup` installs Debian's chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()
