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
    ├── EngineError                 an engine failed for another reason (or was
    │                               used from a thread it cannot serve)
    ├── KnowledgeBaseClosed         a KnowledgeBase used after close()
    ├── PictureError                Graphviz's dot is missing or failed (pictures)
    ├── BatchInterrupted            a batch run stopped by SIGINT/SIGTERM (.exit_code)
    └── OutputFailed                a batch run stopped on an I/O error (a full disk):
                                    the lines done are kept for --resume
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


class KnowledgeBaseClosed(CovkbError):
    code = "closed"


class PictureError(CovkbError):
    """Graphviz could not draw a picture: ``dot`` is missing or failed."""

    code = "picture"


class BatchInterrupted(CovkbError):
    """A batch run stopped by a signal; exit_code is 130 (SIGINT) or 143 (SIGTERM)."""

    code = "interrupted"

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OutputFailed(CovkbError):
    """A batch run could not go on writing (ENOSPC, EIO, a file size limit)."""

    code = "output_failed"


def _source(node: dict[str, Any]) -> str:
    """Where a fact's value came from, in words (a fact node's source)."""
    src = node.get("source")
    if src == "request":
        return f"the request's {node.get('field', node.get('id'))}"
    if src == "number":
        return f"{node.get('field')} {node.get('number')}"
    if src == "number_bound":
        return f"{node.get('field')} {node.get('number')} (which bounds {node.get('bounds')})"
    if src == "code":
        return f"cpt {node.get('code')}"
    if src == "code_list":
        return f"{node.get('field')} code {node.get('code')}"
    return str(src)


def _contradiction(args: dict[str, Any]) -> str:
    sources = args["sources"]  # in the engines' order: the first is the one shown
    first = sources[0]
    other = next(s for s in sources if s["value"] != first["value"])
    return (f"the request contradicts itself: {_source(first)} means {args['fact']} = {first['value']}, "
            f"but {_source(other)} means {args['fact']} = {other['value']}")


# Every message an engine can report, worded once for both engines.
_TEMPLATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "no_service": lambda a: "a request needs a service or a cpt code",
    "code_service_qualifier": lambda a: (
        f"cpt {a['code']} with {a['qualifier']} {a['value']} does not report service {a['service']}"),
    "code_service": lambda a: f"cpt {a['code']} does not report service {a['service']}",
    "contradiction": _contradiction,
    "policy_conflict": lambda a: (
        f"statements {', '.join(sorted(a['statements']))} apply to the same case with different outcomes"),
}


def from_engine(code: str, key: str, args: dict[str, Any]) -> CovkbError:
    """Translate an error an evaluator reported as data into the tree."""
    template = _TEMPLATES.get(key)
    message = template(args) if template else f"{key}: {args}"
    if code == "invalid_request":
        return InvalidRequest(message, code="invalid_request")
    if code in ("kb_syntax", "policy_conflict"):
        return KnowledgeBaseError(message, code=code)
    return EngineError(message, code=code)
