"""covkb: explainable coverage determinations over the policies in kb/.

    from covkb import KnowledgeBase
    with KnowledgeBase(policy=...) as kb:     # the only installed policy by default
        print(kb.determine({"cpt": ..., "findings": [...], ...}).outcome)

Each policy declares its own request fields (``covkb vocab`` lists them).

The names below are imported on first use (PEP 562), so that a command
that needs none of them (``covkb --help``, the CLI's start) does not pay
for pydantic, clingo or pyswip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (BatchInterrupted, CovkbError, EngineError, InvalidRequest, KnowledgeBaseClosed,
                     KnowledgeBaseError, OutputFailed, PictureError, UnknownId, VersionNotAvailable)

if TYPE_CHECKING:
    from .determination import Case, Citation, Determination, Node, Notice
    from .kb import KnowledgeBase
    from .request import Request

_LAZY = {
    "KnowledgeBase": "kb", "Request": "request", "Determination": "determination", "Citation": "determination",
    "Node": "determination", "Notice": "determination", "Case": "determination",
}

__all__ = [
    "KnowledgeBase", "Request", "Determination", "Citation", "Node", "Notice", "Case",
    "CovkbError", "InvalidRequest", "UnknownId", "VersionNotAvailable", "KnowledgeBaseError", "EngineError",
    "KnowledgeBaseClosed", "BatchInterrupted", "OutputFailed", "PictureError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'covkb' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
