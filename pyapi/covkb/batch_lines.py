"""Deciding one batch line: the one function ``covkb batch``, Spark and the
REST ``/v1/batch`` decide a line with, so their records are equal.

A line (JSON text, a CSV row as (column, cell) pairs, or a BadLine) is read
as a request; its routing fields (covkb.routing: ``policy``, ``version``)
choose the knowledge base, ``--policy`` (the default) answering a line that
names none; the kept columns (``--keep``) are copied into its record
unchanged, an error record's too, so that every record joins back.  A line
naming a policy that is not installed is that line's error record.

Each process holds one ``LineDecider`` (a batch worker, a Spark Python
worker, a service worker), with a KnowledgeBase per policy it meets and a
bounded memo by decision key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .batch_read import BadLine, Raw
from .errors import CovkbError, InvalidRequest
from .request import field_names, request_json
from .routing import ROUTING_FIELDS, Payers, routed

CSV_LIST_FIELDS = ("findings", "unknown_findings", "absent_findings")  # and the policy's code-list fields
MEMO_LIMIT = 50_000   # decisions remembered by decision key, per process
Record = tuple[dict[str, Any], str]  # (record body, the body as JSON without its "{")


def csv_request(row: tuple[tuple[str, str], ...] | dict[str, Any], vocabulary: Any) -> dict[str, Any]:
    """A CSV row as a request: empty cells are absent, lists are ;-separated,
    and each of the policy's own fields is read as its declared kind."""
    fields = vocabulary.fields
    req: dict[str, Any] = {}
    for key, cell in (row.items() if isinstance(row, dict) else row):
        cell = (cell or "").strip()
        if not cell or key is None:
            continue
        f = fields.get(key)
        if key in CSV_LIST_FIELDS or (f is not None and f.kind == "code_list"):
            req[key] = [x.strip() for x in cell.split(";") if x.strip()]
        elif f is not None:
            req[key] = f.parse_text(cell, key)
        else:
            req[key] = cell
    return req


def check_keep(keep: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The kept columns (names given once, or comma lists): none a record's own field."""
    from .batch_write import RECORD_FIELDS

    out: dict[str, None] = {}
    for item in keep:
        for name in str(item).split(","):
            name = name.strip()
            if not name:
                continue
            if name in RECORD_FIELDS or name in ROUTING_FIELDS:
                raise InvalidRequest(f"--keep {name}: a record has a field {name!r} of its own; keep another column")
            out[name] = None
    return tuple(out)


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # json.dumps' output, made once
_STR = json.encoder.encode_basestring  # a str as _ENCODE writes it (ensure_ascii=False)


def record(body: dict[str, Any]) -> Record:
    return body, _ENCODE(body)[1:]


class LineDecider:
    """Decides lines into record bodies; never raises on a line."""

    def __init__(self, engine: str, citations: bool = False, policy: str | Path | None = None,
                 keep: tuple[str, ...] = (), *, make: Callable[[Path], Any] | None = None, today: Any = None,
                 internal: Callable[[Exception], str] | None = None, version: Any = None) -> None:
        from .kb import KnowledgeBase

        self.payers = Payers(policy, make or (lambda folder: KnowledgeBase(engine=engine, policy=folder, today=today)))
        self.citations, self.keep = citations, tuple(keep)
        self.version = version  # for the default policy's lines that name none (a version id, or a Version)
        self.decided: dict[tuple[Any, ...], Record] = {}  # (policy, decision key) -> record
        self.internal = internal or (lambda exc: f"{type(exc).__name__}: {exc}")

    @property
    def kb(self) -> Any:
        """The default policy's KnowledgeBase."""
        return self.payers.default

    def decide(self, raw: Raw) -> Record:
        kept: dict[str, Any] = {}
        try:
            if isinstance(raw, BadLine):
                raise InvalidRequest(raw.message)
            if isinstance(raw, str):
                data = request_json(raw)
                if not isinstance(data, dict):
                    raise InvalidRequest("a request is a JSON object")
                kept = {k: data[k] for k in self.keep if k in data}
                policy, version, req = routed(data)
                kb = self.payers.kb(policy)
                req = _without(req, kept, kb)
            else:
                kept = {k: c for k, c in raw if k in self.keep}
                policy, version, row = routed(dict(raw))
                kb = self.payers.kb(policy)
                row = _without(row, kept, kb)
                _check_columns(row, kb)
                req = csv_request(row, kb.vocabulary)
            if version is None and kb is self.payers.default:
                version = self.version
            return self._decided(kb, req, version, kept)
        except CovkbError as err:
            return record({**kept, "error": err.to_dict()})
        except Exception as exc:  # a batch never stops on one line
            return record({**kept, "error": {"code": "internal", "message": self.internal(exc)}})

    def _decided(self, kb: Any, data: dict[str, Any], version: Any, kept: dict[str, Any]) -> Record:
        # a line decided by a version it names (or the run's) is read in that version's vocabulary
        # (a draft may declare ids of its own): its memo key is the version and the request
        req: Any = data
        if version:
            key: tuple[Any, ...] = (kb.policy.id, getattr(version, "id", version),
                                    json.dumps(data, sort_keys=True, default=str))
        else:
            req, found = kb.read_keyed(data)  # read once: the key is the table's projection when it holds one
            key = (kb.policy.id, *found)
        hit = self.decided.get(key)
        if hit is None:
            try:
                d = kb.determine(req, explain=False, version=version).to_dict(explanation=False)
            except InvalidRequest as err:  # the engine refuses it: so it does every request of this key
                hit = record({"error": err.to_dict()})
            else:
                if not self.citations:
                    del d["citations"]
                hit = record(d)
            if len(self.decided) >= MEMO_LIMIT:
                self.decided.clear()
            self.decided[key] = hit
        if not kept:
            return hit
        # the decision's bytes as they are, after the line's own kept columns (text as json.dumps writes it)
        head = ",".join(f"{_STR(k)}:{_STR(v) if type(v) is str else _ENCODE(v)}" for k, v in kept.items())
        return {**kept, **hit[0]}, f"{head},{hit[1]}"

    def close(self) -> None:
        self.payers.close()


def _without(req: dict[str, Any], kept: dict[str, Any], kb: Any) -> dict[str, Any]:
    """The request without its kept columns (a kept request field of its policy stays in it too)."""
    if not kept:
        return req
    fields = _FIELDS.get(id(kb))
    if fields is None or fields[0] is not kb:
        if len(_FIELDS) >= 64:
            _FIELDS.clear()
        fields = _FIELDS[id(kb)] = (kb, frozenset(field_names(kb.vocabulary)))
    return {k: v for k, v in req.items() if k not in kept or k in fields[1]}


_FIELDS: dict[int, tuple[Any, frozenset[str]]] = {}  # a KnowledgeBase's request fields, by id (kept alive)


def _check_columns(row: dict[str, str], kb: Any) -> None:
    """A mixed file's row: a non-empty cell in a column its own policy does not read is an error."""
    known = None
    for name, cell in row.items():
        if cell and cell.strip():
            if known is None:
                known = set(field_names(kb.vocabulary))
            if name not in known:
                raise InvalidRequest(f"column {name!r} is not a request field of policy {kb.policy.number}, "
                                     f"this row's policy; leave it empty in this row")
