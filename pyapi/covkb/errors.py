"""The one exception tree of covkb.

Lower-level errors (pyswip, clingo, JSON, OS) are translated into these at
the engine and I/O boundaries (``raise ... from exc``); nothing else escapes
the API.

::

    CovkbError                      every covkb failure; .code, one-line str()
    ├── InvalidRequest              the request cannot be answered as given
    │   ├── UnknownId               an id not in the vocabulary (did-you-mean)
    │   └── VersionNotAvailable     no encoded version for the date of service
    ├── KnowledgeBaseError          the KB itself is broken (syntax, conflict)
    └── EngineError                 an engine failed for another reason
"""

from __future__ import annotations


class CovkbError(Exception):
    """Base of every covkb error: a machine code and a one-line message."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidRequest(CovkbError):
    code = "invalid_request"


class UnknownId(InvalidRequest):
    code = "unknown_id"


class VersionNotAvailable(InvalidRequest):
    code = "version_not_available"


class KnowledgeBaseError(CovkbError):
    code = "knowledge_base"


class EngineError(CovkbError):
    code = "engine"


def from_engine(code: str, message: str) -> CovkbError:
    """Translate an error an evaluator reported as data into the tree."""
    if code == "invalid_request":
        return InvalidRequest(message)
    if code in ("kb_syntax", "policy_conflict"):
        return KnowledgeBaseError(message, code=code)
    return EngineError(message, code=code)
