"""covkb: explainable coverage determinations over the policies in kb/.

    from covkb import KnowledgeBase
    with KnowledgeBase(policy=...) as kb:     # the only installed policy by default
        print(kb.determine({"cpt": ..., "findings": [...], ...}).outcome)

Each policy declares its own request fields (``covkb vocab`` lists them).
"""

from .determination import Case, Citation, Determination, Node, Notice
from .errors import (CovkbError, EngineError, InvalidRequest, KnowledgeBaseClosed, KnowledgeBaseError, UnknownId,
                     VersionNotAvailable)
from .kb import KnowledgeBase
from .request import Request

__all__ = [
    "KnowledgeBase", "Request", "Determination", "Citation", "Node", "Notice", "Case",
    "CovkbError", "InvalidRequest", "UnknownId", "VersionNotAvailable", "KnowledgeBaseError", "EngineError",
    "KnowledgeBaseClosed",
]
