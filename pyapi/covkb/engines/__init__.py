"""Evaluators: one small adapter per engine over the same kb/ facts.

An engine is loaded for one policy version.  It does what only it can do:
resolve the request's service, derive the facts the request settles and
decide every completion of the unknowns.  ``cases`` returns one typed
``Case`` per completion (with its derivation, built from the engine's trace
by covkb.explain) or raises CovkbError; the aggregation into a
determination is written once (determination.aggregate).

The request an engine receives is ``Request.engine_dict()``: service, cpt,
qualifiers {q: v}, values {field: yes|no|value|number}, codes {field:
[codes]}, findings, unknown_findings, absent_findings, unlisted_findings
(unknown or absent: how a finding not listed is read), explain — validated
values only.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..determination import Case
from ..policy import VersionData


class Engine(Protocol):
    name: str

    def cases(self, request: dict[str, Any]) -> list[Case]: ...

    def traces(self, request: dict[str, Any]) -> list[tuple[tuple[tuple[str, Any, int], ...], frozenset[Any]]]:
        """Each case's assignment and trace atoms (kb/derivation.pl: trace_atom/3),
        what covkb.explain builds its derivation from; the same from both engines."""
        ...

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
