"""Evaluators: one small adapter per engine over the same kb/ facts.

An engine is loaded for one policy version and answers ``evaluate`` with the
evaluator's raw determination (a JSON-able dict) or raises CovkbError.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..policy import VersionData


class Engine(Protocol):
    name: str

    def evaluate(self, request: dict[str, Any]) -> dict[str, Any]: ...

    def relevant_findings(self, request: dict[str, Any]) -> frozenset[str]:
        """Findings that can change the answer for this service/code/qualifiers."""
        ...

    def close(self) -> None: ...


def make_engine(name: str, data: VersionData) -> Engine:
    if name == "prolog":
        from .prolog import PrologEngine

        return PrologEngine(data)
    if name == "asp":
        from .asp import AspEngine

        return AspEngine(data)
    from ..errors import InvalidRequest

    raise InvalidRequest(f"unknown engine {name!r} (choose prolog or asp)")


ENGINES = ("prolog", "asp")
