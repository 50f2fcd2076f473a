"""KnowledgeBase: the API's front door.

    with KnowledgeBase(engine="prolog") as kb:
        d = kb.determine({"service": SERVICE, "findings": [FINDING], ...})
        d.outcome            # 'medically_necessary'

Loads one policy of kb/ once (``policy=``: an id, a number such as
"EX-101", or a policy folder; by default the only one installed);
engines are made per version on first use and reused.

Lifecycle and threads:

- ``close()`` (or leaving the ``with`` block) ends a KnowledgeBase: any
  further use of it raises ``KnowledgeBaseClosed`` (a ``CovkbError``).
  ``close()`` itself may be called again.
- A Prolog-backed KnowledgeBase must be used from the thread that created
  it (pyswip drives one SWI-Prolog per process, bound to the thread that
  started it; another thread would crash the process).  Used from any other
  thread it raises ``EngineError``.  For parallel work use processes, as
  ``covkb batch --workers`` does.  The ASP engine has no such restriction.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .derivation import checking, contract
from .determination import Case, Determination
from .engines import ENGINES, Engine, make_engine
from .errors import CovkbError, EngineError, InvalidRequest, KnowledgeBaseClosed
from .policy import Policy, Version, VersionData, Vocabulary
from .routing import UNKNOWN_POLICY, routed
from .untrusted import PlainRequest, read_request

if TYPE_CHECKING:  # the pydantic model is loaded where a request needs it (see covkb.untrusted)
    from . import compiled
    from .request import Request


class KnowledgeBase:
    def __init__(self, engine: str = "prolog", *, policy: str | Path | Policy | None = None, root: Path | None = None,
                 today: dt.date | None = None) -> None:
        if engine not in ENGINES:
            raise InvalidRequest(f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
        self.engine_name = engine
        # a Policy given is used as it is (a draft kept in the workspace is read into it: covkb.workspace)
        self.policy = policy if isinstance(policy, Policy) else Policy(root, policy=policy)
        self.today = today
        self._engines: dict[str, Engine] = {}
        self._relevance: dict[str, dict[tuple[Any, ...], frozenset[str]]] = {}
        self._tables: dict[str, tuple[VersionData, compiled.Table | None]] = {}
        self._in_force: dict[dt.date, tuple[Version, list[str], int]] = {}  # version_for by date
        self._thread = threading.get_ident()
        self._closed = False

    def _usable(self) -> None:
        """Refuse use after close(), and Prolog use from another thread."""
        if self._closed:
            raise KnowledgeBaseClosed("this KnowledgeBase is closed; make a new one")
        if self.engine_name == "prolog" and threading.get_ident() != self._thread:
            raise EngineError("a Prolog-backed KnowledgeBase can only be used from the thread that created it "
                              "(SWI-Prolog is bound to it); use processes for parallel work")

    # lifecycle ---------------------------------------------------------
    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for e in self._engines.values():
            e.close()
        self._engines.clear()
        self._relevance.clear()
        self._tables.clear()
        self._closed = True

    # vocabulary --------------------------------------------------------
    @property
    def vocabulary(self) -> Vocabulary:
        self._usable()
        return self.policy.data(self.policy.latest()).vocabulary

    def parse(self, data: Any) -> Request:
        """The request as a Request model, or InvalidRequest."""
        from .request import parse_request

        self._usable()
        return parse_request(self._routed(data)[0], self.vocabulary)

    def _read(self, data: Any) -> Request | PlainRequest:
        """The request as determine() reads it: the same values as parse()."""
        self._usable()
        return read_request(self._routed(data)[0], self.vocabulary)

    def _routed(self, data: Any) -> tuple[Any, str | None]:
        """A request's routing fields (covkb.routing), checked against this
        knowledge base: the request without them, and the version it names."""
        if type(data) is not dict:
            return data, None
        policy, version, rest = routed(data)
        if policy is not None and policy not in {self.policy.id, self.policy.number, self.policy.folder.name}:
            raise InvalidRequest(f"the request names policy {policy[:80]!r}; this knowledge base decides "
                                 f"{self.policy.number}", code=UNKNOWN_POLICY)
        return rest, version

    # determinations ----------------------------------------------------
    def version_for(self, request: Request | PlainRequest) -> tuple[Version, list[str]]:
        on = request.date_of_service or self.today or dt.date.today()
        hit = self._in_force.get(on)  # by date: a batch's lines share a few dates
        if hit is None or hit[2] != len(self.policy.versions):
            v, warnings = self.policy.version_in_force(on)
            if len(self._in_force) >= 4096:
                self._in_force.clear()
            hit = self._in_force[on] = (v, warnings, len(self.policy.versions))
        return hit[0], list(hit[1])

    def engine(self, version: Version) -> Engine:
        self._usable()
        if version.id not in self._engines:
            self._engines[version.id] = make_engine(self.engine_name, self.policy.data(version))
        return self._engines[version.id]

    def determine(self, request: Request | dict[str, Any], *, explain: bool = True,
                  version: Version | str | None = None) -> Determination:
        """Decide one request.  explain=False leaves the derivation out of
        the answer (batch runs); outcome, statement and citations are the same.
        version (a version id, a draft file's path, or a Version) decides it
        by that version instead of the one in force on the date of service."""
        req, v, warnings = self._reading(request, version)
        if not explain and (hit := self._compiled(req, v, warnings)) is not None:
            return hit
        cases, data, warnings, reading = self._cases(req, v, warnings, explain)
        return Determination.from_cases(
            cases, policy=self.policy.number, data=data, warnings=warnings, engine=self.engine_name, explain=explain,
            unlisted_findings=reading,
        )

    def cases(self, request: Request | dict[str, Any], explain: bool = True,
                version: Version | str | None = None) -> tuple[list[Case], VersionData, list[str], str]:
        """The engine's cases for one request (every completion of its
        unknowns, each decided, with its derivation), the version's data, the
        warnings and how the request reads a finding it does not list: what
        determine aggregates, and what a questionnaire is planned from."""
        return self._cases(*self._reading(request, version), explain)

    def _cases(self, req: Request | PlainRequest, version: Version, warnings: list[str], explain: bool
               ) -> tuple[list[Case], VersionData, list[str], str]:
        data = self.policy.data(version)
        warnings = warnings + _qualifier_warnings(req, data.vocabulary)
        try:
            cases = self.engine(version).cases({**req.engine_dict(), "explain": explain})
        except CovkbError:
            raise
        except Exception as exc:  # the one boundary where engine failures are translated
            raise EngineError(f"{self.engine_name} engine failed: {exc}") from exc
        if not cases:
            raise EngineError(f"the {self.engine_name} engine found no case")
        if explain and checking():
            for c in cases:
                broken = contract().violations(c.outcome, c.proof, data.outcomes)
                if broken:
                    raise EngineError(f"the {self.engine_name} engine broke kb/derivation.pl: {'; '.join(broken)}")
        return cases, data, warnings, req.unlisted_findings

    def _reading(self, request: Request | PlainRequest | dict[str, Any], version: Version | str | None
                 ) -> tuple[Request | PlainRequest, Version, list[str]]:
        """The request read, the version that decides it and the warnings so far."""
        self._usable()
        request, named = self._routed(request)
        version = named or version  # the request's own version first, as with its policy
        if version is None:
            req = self._read(request)
            version, warnings = self.version_for(req)
            return req, version, warnings
        version = self.policy.resolve(version) if isinstance(version, str) else version
        # a draft may declare ids of its own: read the request in its vocabulary
        req = read_request(request, self.policy.data(version).vocabulary)
        warnings = [f"decided by {'draft' if version.knowledge == 'draft' else 'version'} {version.id} "
                    f"as asked, whatever the date of service", *self.policy.known_limits(version)]
        return req, version, warnings

    def _compiled(self, req: Request | PlainRequest, version: Version, warnings: list[str]) -> Determination | None:
        """The answer without explanation from the version's compiled table
        (covkb.compiled, loaded once), or None: the engine decides."""
        table = self._table(version)
        if table is None:
            return None
        data = self.policy.data(version)
        return table.determination(req, policy=self.policy.number, data=data, engine=self.engine_name,
                                   warnings=warnings + _qualifier_warnings(req, data.vocabulary))

    def _table(self, version: Version) -> compiled.Table | None:
        """The version's compiled table (covkb.compiled, loaded once), or None."""
        data = self.policy.data(version)
        if version.id not in self._tables or self._tables[version.id][0] is not data:
            from . import compiled  # loaded with the first answer without explanation: not in a cold start's path

            self._tables[version.id] = (data, None if version.knowledge == "draft" else compiled.load(data))
        return self._tables[version.id][1]

    def decision_key(self, request: Request | dict[str, Any], version: Version | str | None = None) -> tuple[Any, ...]:
        """A key equal for requests that must get the same determination
        without explanation.

        A request the version in force's compiled table holds is keyed by
        its projection there (covkb.compiled: the one the table answers by).
        Otherwise the engine names the findings that can matter for the
        request's service, code and qualifiers; every other finding is
        dropped.  version decides as determine()'s does (a draft: read in
        its vocabulary).  Raises like determine() for a request that is invalid.
        """
        return self.read_keyed(request, version)[1]

    def read_keyed(self, request: Request | dict[str, Any], version: Version | str | None = None
                   ) -> tuple[Request | PlainRequest, tuple[Any, ...]]:
        """The request read (as determine() reads it) and its decision_key,
        in one pass: what each line of a batch needs."""
        self._usable()
        vocab = self.policy.data(self.policy.latest()).vocabulary
        if version is None:
            req = read_request(self._routed(request)[0], vocab)
            version, _ = self.version_for(req)
            table = self._table(version)
            held = None if table is None else table.key(req)
            if held is not None:  # the answer is the entry's, with the date's warnings
                return req, (version.id, req.date_of_service or self.today or dt.date.today(), "compiled", *held)
        else:  # a version asked for: its warnings are not the date's, so the engine's key
            req, version, _ = self._reading(request, version)
            vocab = self.policy.data(version).vocabulary
        quals = tuple(req.get(q) for q in sorted(vocab.qualifiers))
        what = (req.service, req.cpt, *quals)
        cache = self._relevance.setdefault(version.id, {})
        if what not in cache:
            cache[what] = self.engine(version).relevant_findings(req.engine_dict())
        rel = cache[what]
        fields = tuple(req.get(f) for f in sorted(vocab.fields))
        return req, (version.id, req.date_of_service or self.today or dt.date.today(), *what, *fields,
                     tuple(sorted(rel.intersection(req.findings))),
                     tuple(sorted(rel.intersection(req.unknown_findings))),
                     tuple(sorted(rel.intersection(req.absent_findings))), req.unlisted_findings)


def _qualifier_warnings(req: Request | PlainRequest, vocab: Vocabulary) -> list[str]:
    """A qualifier only means something with a code that takes it."""
    takes = vocab.code_qualifiers.get(req.cpt or "")
    return [
        f"{q} is ignored: only a code that takes it ({', '.join(sorted(c for c, x in vocab.code_qualifiers.items() if x == q))}) uses it"
        for q in sorted(vocab.qualifiers)
        if req.get(q) is not None and takes != q
    ]
