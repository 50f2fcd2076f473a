"""Shared fixtures: one KnowledgeBase per engine per test session.

pyswip allows one SWI-Prolog per process, so the Prolog engine is loaded
once and shared; tests use the real engines, never mocks.
"""

from __future__ import annotations

import datetime as dt

import pytest

from covkb import KnowledgeBase

TODAY = dt.date(2025, 6, 1)


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
