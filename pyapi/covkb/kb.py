"""KnowledgeBase: the API's front door.

    with KnowledgeBase(engine="prolog") as kb:
        d = kb.determine({"service": "transabdominal_cerclage", "pregnant": True,
                          "prior_pregnancy_losses": 3, "findings": ["cone_biopsy"]})
        d.outcome            # 'medically_necessary'

Loads kb/ once; engines are made per version on first use and reused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .determination import Determination
from .engines import ENGINES, Engine, make_engine
from .errors import CovkbError, EngineError, InvalidRequest
from .policy import Policy, Version, Vocabulary
from .request import Request, parse_request


class KnowledgeBase:
    def __init__(self, engine: str = "prolog", *, root: Path | None = None, today: dt.date | None = None) -> None:
        if engine not in ENGINES:
            raise InvalidRequest(f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
        self.engine_name = engine
        self.policy = Policy(root)
        self.today = today
        self._engines: dict[str, Engine] = {}
        self._relevance: dict[str, dict[tuple[Any, ...], frozenset[str]]] = {}

    # lifecycle ---------------------------------------------------------
    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for e in self._engines.values():
            e.close()
        self._engines.clear()

    # vocabulary --------------------------------------------------------
    @property
    def vocabulary(self) -> Vocabulary:
        return self.policy.data(self.policy.latest()).vocabulary

    def parse(self, data: Any) -> Request:
        return parse_request(data, self.vocabulary)

    # determinations ----------------------------------------------------
    def version_for(self, request: Request) -> tuple[Version, list[str]]:
        on = request.date_of_service or self.today or dt.date.today()
        return self.policy.version_in_force(on)

    def engine(self, version: Version) -> Engine:
        if version.id not in self._engines:
            self._engines[version.id] = make_engine(self.engine_name, self.policy.data(version))
        return self._engines[version.id]

    def determine(self, request: Request | dict[str, Any], *, explain: bool = True) -> Determination:
        """Decide one request.  explain=False leaves the derivation out of
        the answer (batch runs); outcome, statement and citations are the same."""
        req = self.parse(request)
        version, warnings = self.version_for(req)
        data = self.policy.data(version)
        warnings = warnings + _qualifier_warnings(req, data.vocabulary)
        try:
            raw = self.engine(version).evaluate({**req.engine_dict(), "explain": explain})
        except CovkbError:
            raise
        except Exception as exc:  # the one boundary where engine failures are translated
            raise EngineError(f"{self.engine_name} engine failed: {exc}") from exc
        return Determination.from_engine(
            raw, policy=self.policy.number, data=data, warnings=warnings, engine=self.engine_name
        )


    def decision_key(self, request: Request | dict[str, Any]) -> tuple[Any, ...]:
        """A key equal for requests that must get the same determination.

        The engine names the findings that can matter for the request's
        service, code and qualifiers; every other finding is dropped.
        Raises like determine() for a request that is invalid.
        """
        req = self.parse(request)
        version, _ = self.version_for(req)
        what = (req.service, req.cpt, req.analyte, req.substance)
        cache = self._relevance.setdefault(version.id, {})
        if what not in cache:
            cache[what] = self.engine(version).relevant_findings(req.engine_dict())
        rel = cache[what]
        return (version.id, req.date_of_service or self.today or dt.date.today(), *what, req.pregnant,
                req.prior_pregnancy_losses, tuple(sorted(req.diagnoses)),
                tuple(sorted(rel.intersection(req.findings))), tuple(sorted(rel.intersection(req.unknown_findings))))


def _qualifier_warnings(req: Request, vocab: Vocabulary) -> list[str]:
    """A qualifier only means something with a code that takes it."""
    takes = vocab.code_qualifiers.get(req.cpt or "")
    return [
        f"{q} is ignored: only a code that takes it ({', '.join(sorted(c for c, x in vocab.code_qualifiers.items() if x == q))}) uses it"
        for q in ("analyte", "substance")
        if getattr(req, q) is not None and takes != q
    ]
