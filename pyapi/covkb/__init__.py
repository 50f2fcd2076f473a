"""covkb: explainable coverage determinations over Cigna policy 0284.

    from covkb import KnowledgeBase
    with KnowledgeBase() as kb:
        print(kb.determine({"cpt": "59325", "prior_pregnancy_losses": 2,
                            "findings": ["cone_biopsy"]}).outcome)
"""

from .determination import Citation, Determination, Node
from .errors import CovkbError, EngineError, InvalidRequest, KnowledgeBaseError, UnknownId, VersionNotAvailable
from .kb import KnowledgeBase
from .request import Request

__all__ = [
    "KnowledgeBase", "Request", "Determination", "Citation", "Node",
    "CovkbError", "InvalidRequest", "UnknownId", "VersionNotAvailable", "KnowledgeBaseError", "EngineError",
]
