"""What an engine process does (a pool worker, or a server process inline):
each operation of the HTTP API, in a process that holds the knowledge bases
(one per policy and engine, loaded once).

Every operation returns (status, media type, body bytes) and never raises
(but ``Deferred``, where the caller asked for it): covkb errors become
problem details with their code, anything else a 500.
Request bodies arrive as the bytes the client sent and are parsed here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from typing import Any

import orjson

from ..errors import CovkbError, InvalidRequest
from .draft_ops import DraftReads
from .problems import FHIR_JSON, PROBLEM, MalformedBody, NotFound, dumps, from_error, operation_outcome, problem

JSON = "application/json"
SVG = "image/svg+xml"
NDJSON = "application/x-ndjson"


def _version_id(ref: str | None) -> str | None:
    """A version id from an HTTP client: ids (draft:ID a draft kept in the workspace), never a file path."""
    if ref is None:
        return None
    if "/" in ref or "\\" in ref or ref.endswith(".pl"):
        raise InvalidRequest(f"version {ref!r}: the service takes version ids only, not draft files")
    return ref


def _internal_line(exc: Exception) -> str:
    """A batch line's internal error: the details go to the log, not the caller."""
    logging.getLogger("covkb.service").error("batch line: %s: %s", type(exc).__name__, exc)
    return "internal error on this line; the service's log has the details"


def _dumps_floatless(body: Any) -> bytes:
    """dumps(body) in a tenth of the time: byte for byte for a body without
    floats (a determination has none); orjson writes strings, integers,
    booleans, null, lists and objects as json does, only a float's exponent
    differently (1e16 for 1e+16, the same number: a CDS answer copies the
    order it was sent, floats and all)."""
    try:
        return orjson.dumps(body)
    except TypeError:  # an integer beyond 64 bits, a key that is not a string
        return dumps(body)


REMEMBERED = 4096  # questionnaire URLs and kept assertion ids a worker remembers (then it starts afresh)
DECIDED = 1024     # CRD determinations a worker remembers, each with its derivation (then it starts afresh)


def _questionnaires(kb: Any, base_url: str, seen: dict[str, str], plan: Any) -> Any:
    """The canonical URL of the Questionnaire covkb.questionnaire generates
    for a request's open facts (request, version), remembered in ``seen``
    (a plan costs a few determinations; the same facts of the same version
    give the same plan)."""
    from .. import questionnaire as q

    def url(request: dict[str, Any], version: str) -> str:
        key = json.dumps([kb.policy.id, version, base_url, request], sort_keys=True, default=str)
        if key not in seen:
            if len(seen) >= REMEMBERED:
                seen.clear()
            seen[key] = q.canonical_url(base_url, plan(kb, request, version))
        return seen[key]
    return url


class Deferred(Exception):
    """Raised by ``Worker.handle`` for an operation the worker was told not
    to do itself (a CDS call that would read a FHIR server, in a server
    process whose event loop it would hold up): the caller sends it on."""


class Worker(DraftReads):
    def __init__(self, config: dict[str, Any]) -> None:
        t = time.perf_counter()
        self.defer_fhir_reads = False  # True in a server process (inline): such calls raise Deferred
        self.default_policy: str | None = config.get("policy")
        self.fhir_servers: tuple[str, ...] = tuple(config.get("fhir_servers") or ())
        self.store_url: str | None = config.get("store")  # covkb.store's URL (None: its default)
        self._store: Any = None
        self._questionnaire_urls: dict[str, str] = {}  # CRD's questionnaire URLs, remembered
        self._kept: set[str] = set()                    # coverage-assertion-ids known kept
        self._plans: dict[tuple[Any, ...], Any] = {}    # questionnaire plans, remembered (self.plan)
        self._decided: dict[tuple[Any, ...], Any] = {}  # CRD's determinations, remembered (self.decided)
        self._kept_crd: dict[str, dict[str, Any]] = {}    # the requests CRD kept, by coverage-assertion-id
        self.volatile = False
        self.today = dt.date.fromisoformat(config["today"]) if config.get("today") else None
        self._kbs: dict[tuple[str, str], Any] = {}
        self._deciders: dict[tuple[Any, ...], Any] = {}  # a batch's line deciders, by its settings
        self._policies: dict[str | None, Any] = {}
        self._mappings: dict[str, Any] = {}
        for ref in config.get("preload_policies", [self.default_policy]):
            for engine in config.get("preload_engines", ["prolog", "asp"]):
                kb = self.kb(ref, engine)
                kb.engine(kb.policy.version_in_force(self.today or dt.date.today())[0])
        self.startup_seconds = round(time.perf_counter() - t, 3)

    @property
    def store(self) -> Any:
        """The decision store (covkb.store), opened in this process when first used."""
        if self._store is None:
            from ..store import Store

            self._store = Store.open(self.store_url)
        return self._store

    # -- the knowledge bases -------------------------------------------------------
    def policy(self, ref: str | None) -> Any:
        from ..policy import Policy

        ref = ref or self.default_policy
        if ref is not None and ("/" in ref or "\\" in ref or ref.startswith(".")):
            raise NotFound(f"no policy {ref!r}: the service takes installed policy ids only")
        if ref not in self._policies:
            try:
                self._policies[ref] = Policy(policy=ref)
            except InvalidRequest as err:
                if "no policy" in err.message:
                    raise NotFound(err.message) from None
                raise
        return self._policies[ref]

    def kb(self, ref: str | None, engine: str) -> Any:
        from ..kb import KnowledgeBase

        p = self.policy(ref)
        key = (str(p.folder), engine)
        if key not in self._kbs:
            self._kbs[key] = KnowledgeBase(engine=engine, policy=p.folder, today=self.today)
        return self._kbs[key]

    def mapping(self, ref: str | None) -> Any:
        from .fhir_map import load_mapping

        p = self.policy(ref)
        if p.id not in self._mappings:
            self._mappings[p.id] = load_mapping(p)
        return self._mappings[p.id]

    def plan(self, kb: Any, request: dict[str, Any], version: str | None = None, *, decided: Any = None) -> Any:
        """covkb.questionnaire.plan, remembered by policy, engine, version
        (or the day, for the version in force) and what the request says:
        the knowledge base does not change while the worker runs, and a plan
        costs a determination and the questionnaire's relevance."""
        from .. import questionnaire

        on = None if version is not None else (self.today or dt.date.today()).isoformat()
        key = (kb.policy.id, kb.engine_name, version, on, json.dumps(request, sort_keys=True, default=str))
        found = self._plans.get(key)
        if found is None:
            if len(self._plans) >= REMEMBERED:
                self._plans.clear()
            found = self._plans[key] = questionnaire.plan(kb, request, version, decided=decided)
            if found.items:
                self._keep_questionnaire(kb, found)
        return found

    def decided(self, kb: Any, request: dict[str, Any]) -> Any:
        """kb.determine(request) with its derivation, remembered like a plan
        (by policy, engine, the day and what the request says): CRD's orders
        come from new records every time, but their facts, once mapped, recur,
        and a Determination is a value (frozen) that depends on nothing else."""
        key = (kb.policy.id, kb.engine_name, (self.today or dt.date.today()).isoformat(),
               json.dumps(request, sort_keys=True, default=str))
        found = self._decided.get(key)
        if found is None:
            if len(self._decided) >= DECIDED:
                self._decided.clear()
            found = self._decided[key] = kb.determine(request, explain=True)
        return found

    def decided_cases(self, kb: Any, request: dict[str, Any]) -> Any:
        """covkb.questionnaire.decide(kb, request) (the cases, the version's
        data, the determination), remembered as ``decided`` remembers CRD's:
        a PAS item's facts, once mapped, recur as an order's do, and a pended
        item's questionnaire is planned from the same cases."""
        from .. import questionnaire

        key = ("cases", kb.policy.id, kb.engine_name, (self.today or dt.date.today()).isoformat(),
               json.dumps(request, sort_keys=True, default=str))
        found = self._decided.get(key)
        if found is None:
            if len(self._decided) >= DECIDED:
                self._decided.clear()
            found = self._decided[key] = questionnaire.decide(kb, request)
        return found

    def _keep_questionnaire(self, kb: Any, plan: Any) -> None:
        """Keep what a Questionnaire knew under its id, so that a DTR client
        can GET it by id or canonical URL (op_questionnaire) from any process."""
        from ..questionnaire import questionnaire_id
        from ..store import DuplicateDecision, kb_digest

        try:
            self.store.save_decision("questionnaire", questionnaire_id(plan), policy=plan.policy, version=plan.version,
                                     kb_digest=kb_digest(kb.policy.data(plan.version)), request=plan.request,
                                     answer={}, status="generated", detail={"engine": kb.engine_name})
        except DuplicateDecision:  # kept before (by this or another process)
            pass

    def op_questionnaire(self, body: bytes, base_url: str, qid: str | None = None,
                         url: str | None = None) -> tuple[int, str, bytes]:
        """``GET /fhir/Questionnaire/{id}`` (qid) or ``GET /fhir/Questionnaire?url=`` (a searchset
        Bundle): a Questionnaire covkb generated, made again from what it knew."""
        from . import dtr

        self.volatile = True  # read from the store: what it holds may change
        if qid is not None:
            return 200, FHIR_JSON, dumps(dtr.stored_questionnaire(qid, self._known, base_url))
        return 200, FHIR_JSON, dumps(dtr.questionnaire_search(url or "", self._known, base_url))

    def _known(self, qid: str) -> tuple[Any, Any] | None:
        """The knowledge base and plan a kept Questionnaire id names (None: none is kept)."""
        found = self.store.decision(qid)
        if found is None or found.kind != "questionnaire":
            return None
        kb = self.kb(found.policy, (found.detail or {}).get("engine", "prolog"))
        return kb, self.plan(kb, found.request, found.version)

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, header: dict[str, Any], body: bytes) -> tuple[int, str, bytes]:
        op, args = header.get("op"), header.get("args") or {}
        self.volatile = False  # set by an operation whose answer rests on more than the KB
        fn = getattr(self, f"op_{op}", None)
        if fn is None:
            return 500, PROBLEM, dumps(problem(500, "internal", f"unknown operation {op!r}"))
        try:
            return fn(body, **args)
        except Deferred:
            raise
        except CovkbError as err:
            status, prob = from_error(err)
            return status, PROBLEM, dumps(prob)
        except Exception:  # the details go to the log; the client gets words, no exception or traceback
            logging.getLogger("covkb.service").exception("operation %s", op)
            return 500, PROBLEM, dumps(problem(500, "internal", "internal error: the service failed on this "
                                                                "request; its log has the details"))

    def op_ping(self, body: bytes) -> tuple[int, str, bytes]:
        return 200, JSON, b'{"pong":true}'

    def op_crash(self, body: bytes) -> tuple[int, str, bytes]:  # for the fault tests (only with debug on)
        import os

        os._exit(1)

    def op_sleep(self, body: bytes, seconds: float = 1.0) -> tuple[int, str, bytes]:  # for the fault tests
        time.sleep(seconds)
        return 200, JSON, b"{}"

    def _request(self, body: bytes) -> dict[str, Any]:
        from ..request import request_json

        try:
            return request_json(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise MalformedBody("request is not UTF-8 text") from None
        except InvalidRequest as err:
            if err.message.startswith(("request is not valid JSON", "empty request", "request is nested")):
                raise MalformedBody(err.message) from None
            raise

    def op_determine(self, body: bytes, policy: str | None = None, engine: str = "prolog", explain: bool = True,
                     version: str | None = None) -> tuple[int, str, bytes]:
        from ..routing import named_policy

        data = self._request(body)
        kb, v = self.kb_for(named_policy(data, policy), engine, _version_id(version))
        answer = kb.determine(data, explain=explain, version=v).to_dict(explanation=explain)
        return 200, JSON, _dumps_floatless(answer)

    def op_picture(self, body: bytes, policy: str | None = None, engine: str = "prolog",
                   version: str | None = None) -> tuple[int, str, bytes]:
        """The derivation as SVG, each quote linked to the web page's policy view."""
        from ..pictures import determination_dot, to_svg
        from ..web.views import node_link

        kb, v = self.kb_for(policy, engine, _version_id(version))
        det = kb.determine(self._request(body), explain=True, version=v)
        dot = determination_dot(det, section_path=kb.policy.data(det.version).section_path,
                                link=node_link(kb.policy.number, det.version, det.explanation))
        return 200, SVG, to_svg(dot).encode()

    def op_diff_picture(self, body: bytes, policy: str, a: str, b: str) -> tuple[int, str, bytes]:
        """A diff as SVG, each region's witness linked to the Determine page as B decides it."""
        from ..diff import diff
        from ..pictures import diff_dot, to_svg
        from ..web.forms import determine_href

        p, (va, vb) = self._versions(policy, [a, b])
        report = diff(p, va.id, vb.id)
        dot = diff_dot(report, witness_link=lambda r: determine_href(p.number, r.witness, b) if r.witness else None)
        return 200, SVG, to_svg(dot).encode()

    def op_explain(self, body: bytes, token: str, engine: str | None = None) -> tuple[int, str, bytes]:
        from .crd import untoken

        data = untoken(token)
        kb = self.kb(data.get("policy"), engine or data.get("engine") or "prolog")
        det = kb.determine(data["request"], explain=True)
        return 200, JSON, dumps({"request": data["request"], **det.to_dict()})

    def op_batch(self, body: bytes, policy: str | None = None, engine: str = "prolog", first_line: int = 1,
                 keep: list[str] | None = None, version: str | None = None) -> tuple[int, str, bytes]:
        """JSON Lines in (this chunk, numbered from first_line), one record per line out: each line
        decided as ``covkb batch`` decides it (covkb.batch_lines), by the policy it names; version
        (an id or draft:ID) decides the lines of the default policy that name none."""
        from ..batch_read import read_jsonl

        decider = self._decider(policy, engine, tuple(keep or ()), version)
        out = [f'{{"line":{n},{decider.decide(raw)[1]}'
               for n, raw, _ in read_jsonl(io.BytesIO(body + b"\n"), first_line)]
        return 200, NDJSON, ("\n".join(out) + "\n").encode()

    def _decider(self, policy: str | None, engine: str, keep: tuple[str, ...], version: str | None) -> Any:
        """The line decider of a batch's settings, kept for its next chunk (a few at once; one
        deciding by a draft is made afresh, the draft may have a new revision)."""
        from ..batch_lines import LineDecider, check_keep

        key = (policy or self.default_policy, engine, keep, version)
        hit = self._deciders.get(key)
        if hit is None:
            kb, v = self.kb_for(key[0], engine, _version_id(version))
            home = kb.policy.folder.resolve()
            hit = LineDecider(engine, False, home, check_keep(keep), version=v, internal=_internal_line,
                              make=lambda folder: kb if folder.resolve() == home else self.kb(folder.name, engine))
            if kb is self.kb(key[0], engine):
                if len(self._deciders) >= 16:
                    self._deciders.clear()
                self._deciders[key] = hit
        return hit

    def op_check(self, body: bytes, policy: str, version: str) -> tuple[int, str, bytes]:
        from ..check import check

        p, (v,) = self._versions(policy, [version])
        return 200, JSON, dumps(check(p.data(v)).to_dict())

    def op_diff(self, body: bytes, policy: str, a: str, b: str) -> tuple[int, str, bytes]:
        from ..diff import diff

        p, (va, vb) = self._versions(policy, [a, b])
        return 200, JSON, dumps(diff(p, va.id, vb.id).to_dict())

    def op_compare(self, body: bytes, a: str, b: str) -> tuple[int, str, bytes]:
        from ..compare import compare

        def resolve(ref: str) -> tuple[Any, Any]:
            name, _, ver = ref.partition("@")
            p, (v,) = self._versions(name, [ver or None])
            return p, v or p.latest()

        return 200, JSON, dumps(compare(a, b, resolve=resolve).to_dict())

    def op_draft(self, body: bytes, policy: str, name: str, draft_bytes: int | None = None) -> tuple[int, str, bytes]:
        """An uploaded draft (its bytes, then its proposed wording's if
        ``draft_bytes`` says where the draft ends; and the name it was sent
        under): checked, and diffed against the version it revises.  The bytes are
        read as every draft is (ground facts of the schema, or TOML), from a
        private temporary file whose name is covkb's, never the client's."""
        import tempfile
        from pathlib import Path

        from ..check import check
        from ..diff import diff
        from ..policy import Policy

        suffix = Path(name).suffix.lower()
        if suffix not in (".toml", ".pl"):
            raise InvalidRequest(f"draft {name[:80]!r}: a draft is a .toml or .pl file")
        with tempfile.TemporaryDirectory(prefix="covkb-draft-") as tmp:
            path = Path(tmp) / f"draft{suffix}"
            cut = len(body) if draft_bytes is None else max(0, min(int(draft_bytes), len(body)))
            path.write_bytes(body[:cut])
            if body[cut:]:
                path.with_suffix(".txt").write_bytes(body[cut:])
            p = Policy(policy=self.policy(policy).folder)  # a draft never touches the shared policy's caches
            try:
                v = p.draft(path)
                base = next(f.args[0] for f in p.data(v).facts if f.name == "revision_of")
                out = {"draft": name, "base": base, "check": check(p.data(v)).to_dict(),
                       "diff": diff(p, base, str(path)).to_dict()}
                out["diff"]["to"] = out["check"]["version"] = name
            except UnicodeDecodeError as exc:
                raise InvalidRequest(f"draft {name[:80]!r} is not UTF-8 text (byte at position {exc.start})") from None
            except CovkbError as err:  # the message names the upload, not covkb's temporary file
                err.args = (err.message.replace(str(path), name[:80]).replace(tmp, ""),)
                raise
        return 200, JSON, dumps(out)

    def _versions(self, policy: str | None, refs: list[str | None]) -> tuple[Any, list[Any]]:
        """The policy and the versions refs name (ids, or draft:ID: read into a policy of its own)."""
        drafted = self._compiled(policy, [_version_id(r) for r in refs])
        if drafted is not None:
            return drafted[0], drafted[1]
        p = self.policy(policy)
        return p, [self._version(p, r) if r else None for r in refs]

    def _version(self, p: Any, ref: str) -> Any:
        from ..errors import VersionNotAvailable

        try:
            return p.version(_version_id(ref))
        except VersionNotAvailable as err:
            raise NotFound(err.message) from None

    def _keeper(self, p: Any) -> Any:
        """Keeps a CRD assertion's decided request under its
        coverage-assertion-id, once (the id is a digest of what decided it,
        so a second call with the same order finds it kept)."""
        def keep(key: str, request: dict[str, Any], det: Any, ci: dict[str, Any]) -> None:
            if key in self._kept:
                return
            store = self.store
            if len(self._kept) >= REMEMBERED:
                self._kept.clear()
            if store.decision(key) is not None:
                self._kept.add(key)
                return
            from ..store import DuplicateDecision, kb_digest

            covered = next(e["valueCode"] for e in ci["extension"] if e["url"] == "covered")
            try:
                store.save_decision("crd", key, policy=p.id, version=det.version, kb_digest=kb_digest(p.data(det.version)),
                                    request=request, answer={"determination": det.to_dict(),
                                                             "coverage-information": ci}, status=covered)
            except DuplicateDecision:  # another server process kept the same assertion meanwhile
                pass
            self._kept.add(key)
        return keep

    def op_cds(self, body: bytes, hook: str, policy: str | None, base_url: str,
               engine: str = "prolog") -> tuple[int, str, bytes]:
        from . import crd
        from .fhir_map import InvalidFhir

        try:
            call = crd.parse_call(body, hook)
            # missing prefetch: the answer depends on a FHIR server (or its absence)
            self.volatile = any((call.get("prefetch") or {}).get(k) is None for k in self.mapping(policy).prefetch)
            if self.volatile and self.fhir_servers and self.defer_fhir_reads:
                raise Deferred(hook)
            p = self.policy(policy)
            kb = self.kb(policy, engine)
            # with its derivation: each order's card reads its justification from it
            out = crd.answer(call, hook, p, self.mapping(policy), lambda req: self.decided(kb, req),
                             base_url=base_url, engine=engine, today=self.today, fhir_servers=self.fhir_servers,
                             questionnaire=_questionnaires(kb, base_url, self._questionnaire_urls, self.plan),
                             keep=self._keeper(p))
        except InvalidFhir as err:
            return 400, FHIR_JSON, dumps(operation_outcome(err.message))
        return 200, JSON, _dumps_floatless(out)

    # -- Da Vinci PAS (service/pas.py): every decision kept in covkb.store ----------------------------------------
    def op_pas_submit(self, body: bytes, base_url: str, policy: str | None = None,
                      engine: str = "prolog") -> tuple[int, str, bytes]:
        from . import pas

        self.volatile = True  # kept in the store: never answered from a cache
        out = pas.submit(body, policy=self.policy(policy), kb=self.kb(policy, engine), mapping=self.mapping(policy),
                         store=self.store, engine=engine, base_url=base_url, today=self.today, plan=self.plan,
                         decide=self.decided_cases)
        return 200, FHIR_JSON, _dumps_floatless(out)

    def op_pas_inquire(self, body: bytes, base_url: str) -> tuple[int, str, bytes]:
        from . import pas

        self.volatile = True
        return 200, FHIR_JSON, dumps(pas.inquire(body, store=self.store, base_url=base_url))

    def op_reviews(self, body: bytes) -> tuple[int, str, bytes]:
        from . import pas

        self.volatile = True
        pended = self.store.decisions(kind="pas", status="pended")
        return 200, JSON, dumps({"reviews": [pas.review_listing(d) for d in pended]})

    def op_review(self, body: bytes, key: str, base_url: str, client: str | None = None) -> tuple[int, str, bytes]:
        from . import pas

        self.volatile = True
        return 200, FHIR_JSON, dumps(pas.record_review(key, body, store=self.store, base_url=base_url, client=client))

    # -- DTR: questionnaires generated from the policy (covkb.service.dtr) ------------------------
    def _stored_request(self, key: str) -> dict[str, Any] | None:
        """The request CRD decided under a coverage-assertion-id (None: the store keeps none)."""
        if key in self._kept_crd:  # a kept CRD decision never changes
            return self._kept_crd[key]
        found = self.store.decision(key)
        if found is None or found.kind != "crd":
            return None  # (not remembered: CRD may keep it yet)
        if len(self._kept_crd) >= REMEMBERED:
            self._kept_crd.clear()
        self._kept_crd[key] = found.request
        return found.request

    def op_dtr_package(self, body: bytes, policy: str | None, base_url: str, engine: str = "prolog",
                       adaptive: bool = False) -> tuple[int, str, bytes]:
        from . import dtr

        out = dtr.package(body, self.kb(policy, engine), self.policy(policy), self.mapping(policy), base_url=base_url,
                          engine=engine, today=self.today or dt.date.today(), stored=self._stored_request,
                          adaptive=adaptive, plan=self.plan)
        return 200, FHIR_JSON, dumps(out)

    def op_dtr_next(self, body: bytes, policy: str | None, base_url: str,
                    engine: str = "prolog") -> tuple[int, str, bytes]:
        from . import dtr

        return 200, FHIR_JSON, dumps(dtr.next_question(body, self.kb(policy, engine), base_url=base_url, engine=engine))

    def op_dtr_decide(self, body: bytes, policy: str | None, engine: str = "prolog") -> tuple[int, str, bytes]:
        """A completed QuestionnaireResponse (its contained Questionnaire, or
        Parameters naming both), decided with the full explanation."""
        from . import dtr

        raw = dtr.parameters(body, "the QuestionnaireResponse")
        qr, q = raw, None
        if raw.get("resourceType") == "Parameters":
            qr = next((x.get("resource") for x in dtr.param(raw, "questionnaire-response")), None)
            q = next((x.get("resource") for x in dtr.param(raw, "questionnaire")), None)
        kb = self.kb(policy, engine)
        req = dtr.questionnaire_response_request(q, qr if isinstance(qr, dict) else {}, kb=kb)
        return 200, JSON, dumps({"request": req, **kb.determine(req, explain=True).to_dict()})
