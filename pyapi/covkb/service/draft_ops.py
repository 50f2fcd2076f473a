"""The worker's operations on drafts kept in the workspace (covkb.workspace),
one implementation for the REST routes (draft_routes.py) and the web pages
(site.ask): draft_save, draft_edit, draft_get, draft_list, draft_review, draft_export.

``version=draft:ID`` is read here too (``DraftReads``): the stored draft is
compiled into a Policy of its own, kept per (id, revision) with its
knowledge bases, so an answer is never given by an older revision; every
answer that reads a draft is volatile (never remembered by the front).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections import OrderedDict
from typing import Any

from ..errors import InvalidRequest
from .problems import MalformedBody, dumps

JSON = "application/json"
TAR_GZ = "application/gzip"
KEPT_DRAFTS = 8  # draft revisions a worker keeps compiled, with their knowledge bases
SAVE_KEYS = {"policy", "text", "note", "author", "tests", "revision"}
EDIT_KEYS = {"edit", "note", "revision"}


def _body(body: bytes, keys: set[str] = SAVE_KEYS) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedBody("the body is not UTF-8 text") from None
    except ValueError as exc:
        raise MalformedBody(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody("the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise MalformedBody(f"the body is a JSON object, not {type(data).__name__}")
    extra = set(data) - keys
    if extra:
        raise InvalidRequest(f"unknown key {sorted(extra)[0]!r}: {'a draft' if keys is SAVE_KEYS else 'an edit'} "
                             f"has {', '.join(sorted(keys))}")
    return data


class DraftReads:
    """Mixed into ops.Worker (it has store, policy(), today and volatile)."""

    store: Any
    today: Any
    volatile: bool

    def policy(self, ref: str | None) -> Any: ...  # ops.Worker's

    # -- reading drafts ------------------------------------------------------------------
    def _stored(self, draft_id: str) -> Any:
        """The stored draft, checked again if the knowledge base it revises changed."""
        from .. import workspace
        from ..store import UnknownDraft

        self.volatile = True
        stored = self.store.draft(draft_id)
        if stored is None:
            raise UnknownDraft(f"no draft {draft_id[:40]!r}; GET /v1/drafts lists them")
        return workspace.recheck(self.store, self.policy(stored.policy), stored)

    def _compiled(self, policy: str | None, refs: list[str | None]) -> tuple[Any, list[Any], tuple[Any, ...]] | None:
        """When any of ``refs`` is draft:ID: a policy with those drafts read in
        (kept per (id, revision)), the Versions refs name, and the key it is kept
        under; None when none is a draft."""
        from .. import workspace
        from ..store import draft_ref

        ids = [draft_ref(r) for r in refs]
        if not any(ids):
            return None
        stored = {i: self._stored(i) for i in ids if i}
        owners = {s.policy for s in stored.values()}
        asked = self.policy(policy).id if policy is not None else None
        if len(owners) > 1 or (asked is not None and asked not in owners):
            names = ", ".join(f"{s.version_id} revises {s.policy}" for s in stored.values())
            raise InvalidRequest(f"{names}: one policy at a time" + (f", not {asked}" if asked else ""))
        key = tuple(sorted((s.id, s.revision) for s in stored.values()))
        kept = self._draft_policies()
        if key not in kept:
            p = self.policy(next(iter(owners))).fork()
            for s in stored.values():
                workspace.version_of(p, s)
            kept[key] = (p, {})
            while len(kept) > KEPT_DRAFTS:
                _, (_, kbs) = kept.popitem(last=False)
                for kb in kbs.values():
                    kb.close()
        kept.move_to_end(key)
        p = kept[key][0]
        return p, [p.version(r) if r else None for r in refs], key

    def _draft_policies(self) -> OrderedDict[tuple[Any, ...], tuple[Any, dict[str, Any]]]:
        if not hasattr(self, "_drafts_kept"):
            self._drafts_kept: OrderedDict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = OrderedDict()
        return self._drafts_kept

    def _draft_kb(self, key: tuple[Any, ...], engine: str) -> Any:
        from ..kb import KnowledgeBase

        p, kbs = self._draft_policies()[key]
        if engine not in kbs:
            kbs[engine] = KnowledgeBase(engine=engine, policy=p, today=self.today)
        return kbs[engine]

    def kb_for(self, policy: str | None, engine: str, version: str | None) -> tuple[Any, Any]:
        """The knowledge base and version (or version id) a determination asks for."""
        drafted = self._compiled(policy, [version])
        if drafted is None:
            return self.kb(policy, engine), version  # type: ignore[attr-defined]
        _, (v,), key = drafted
        return self._draft_kb(key, engine), v

    # -- the operations ------------------------------------------------------------------
    def op_draft_save(self, body: bytes, draft_id: str | None = None, policy: str | None = None,
                      author: str | None = None) -> tuple[int, str, bytes]:
        """A new draft (draft_id None: 201) or a new revision of one: JSON in
        ({policy, text, note, author, tests, revision}: revision is the one edited,
        refused as stale when it is not the latest); the draft as kept out."""
        from .. import workspace

        self.volatile = True
        data = _body(body)
        if draft_id is not None:
            old = self._stored(draft_id)
            policy = old.policy
            if data.get("revision") is None:  # never last-writer-wins over a colleague's save
                raise InvalidRequest(f"an edit names the revision it edits (\"revision\": {old.revision} is the latest); "
                                     "without it a colleague's save could be overwritten")
        ref = data.get("policy", policy)
        if ref is None:
            raise InvalidRequest("name the policy the draft revises (policy)")
        if not isinstance(ref, str):
            raise InvalidRequest("a draft's policy is a policy id (a string)")
        p = self.policy(ref)
        if draft_id is not None and p.id != policy:
            raise InvalidRequest(f"draft {draft_id} revises {policy}, not {p.id}")
        if "text" not in data:
            raise InvalidRequest("a draft needs its text (TOML in the draft language)")
        saved = workspace.save(self.store, p, text=data["text"], note=data.get("note", ""),
                               author=data.get("author", author or ""), tests=data.get("tests"),
                               draft_id=draft_id, expected_revision=data.get("revision"))
        return (201 if draft_id is None else 200), JSON, dumps(saved.to_dict())

    def op_draft_edit(self, body: bytes, draft_id: str, author: str | None = None) -> tuple[int, str, bytes]:
        """One common change (covkb.draft.edits, the draft page's form) written
        into the draft's text and saved as a new revision: JSON {edit, revision,
        note} in (revision is the one edited, refused as stale when it is not
        the latest); the draft as kept out.  Its tests are kept as they are."""
        from .. import workspace
        from ..draft import edits

        self.volatile = True
        data = _body(body, EDIT_KEYS)
        old = self._stored(draft_id)
        if data.get("revision") is None:
            raise InvalidRequest(f"an edit names the revision it edits (\"revision\": {old.revision} is the latest)")
        if not isinstance(data.get("edit"), dict):
            raise InvalidRequest(f"\"edit\" is an object with its kind, one of {', '.join(edits.KINDS)}")
        p = self.policy(old.policy)
        text = edits.apply(old.text, data["edit"], p, f"{draft_id}.toml")
        saved = workspace.save(self.store, p, text=text, note=data.get("note", old.note),
                               author=author or old.author, tests=[dict(t) for t in old.tests],
                               draft_id=draft_id, expected_revision=data["revision"])
        return 200, JSON, dumps(saved.to_dict())

    def op_draft_get(self, body: bytes, draft_id: str, history: bool = False) -> tuple[int, str, bytes]:
        """The draft (its latest revision, findings checked again if its base
        changed); with history, every revision as saved."""
        out = self._stored(draft_id).to_dict()
        if history:
            out["revisions"] = [{k: d[k] for k in ("revision", "updated", "author", "note", "text", "tests")}
                                for d in (s.to_dict() for s in self.store.draft_history(draft_id))]
        return 200, JSON, dumps(out)

    def op_draft_list(self, body: bytes, policy: str | None = None) -> tuple[int, str, bytes]:
        """The drafts kept (of one policy), last updated first, without their text."""
        self.volatile = True
        pid = self.policy(policy).id if policy is not None else None
        out = []
        for s in self.store.drafts(pid):
            found = s.findings or {}
            check = found.get("check") or {}
            out.append({k: v for k, v in s.to_dict().items() if k not in ("text", "tests", "findings")} |
                       {"tests": len(s.tests), "tests_passed": sum(t.get("passed") is True for t in found.get("tests", ())),
                        "compiles": found.get("compiles"), "ok": check.get("ok"),
                        "error": (found.get("error") or {}).get("message")})
        return 200, JSON, dumps({"drafts": out})

    def op_draft_review(self, body: bytes, draft_id: str, engine: str = "prolog") -> tuple[int, str, bytes]:
        """The draft's check, its diff against its base and its test requests decided."""
        from .. import workspace
        from ..errors import CovkbError

        stored = self._stored(draft_id)
        try:
            drafted = self._compiled(None, [stored.version_id])
        except CovkbError:
            drafted = None  # it does not compile: the review says why
        if drafted is None:
            return 200, JSON, dumps(workspace.review(self.policy(stored.policy), stored).to_dict())
        p, _, key = drafted
        kb = self._draft_kb(key, engine)
        report = workspace.review(p, stored, decide=lambda request, version: kb.determine(
            request, explain=False, version=version).to_dict(explanation=False))
        return 200, JSON, dumps(report.to_dict())

    def op_draft_export(self, body: bytes, draft_id: str, format: str = "json") -> tuple[int, str, bytes]:
        """The files that would make the draft a version (covkb.workspace.export):
        JSON {"version", "files": {path: text}}, or a .tar.gz of them."""
        from .. import workspace

        stored = self._stored(draft_id)
        p = self.policy(stored.policy)
        files = workspace.export(p, stored)
        if format == "json":
            return 200, JSON, dumps({"draft": stored.id, "revision": stored.revision,
                                     "version": workspace.export_version_id(stored), "files": files})
        if format != "tar":
            raise InvalidRequest(f"format is json or tar, not {format[:40]!r}")
        return 200, TAR_GZ, tar_gz(files, stored.updated.timestamp())


def tar_gz(files: dict[str, str], mtime: float) -> bytes:
    """The files as a gzipped tar (paths as given, each file's time ``mtime``)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, text in sorted(files.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
