"""Which policy decides a request: the routing fields a request may carry.

A request may name its payer: ``policy`` (an installed policy's id, number
or folder name, as ``--policy`` takes them; never a path) and ``version``
(a version id of that policy; never a file).  They choose the knowledge
base and are no fact of any policy, so they are read here, once, before the
request meets a policy's request language (``covkb.limits.ROUTING_FIELDS``
names them): ``covkb determine``, ``covkb batch``, Spark and the REST
``/v1/determine`` and ``/v1/batch`` all route by ``routed``.  A request that
names no policy answers to the default (``--policy``, the service's, or
kb/policies/default.pl's).

``Payers`` holds one KnowledgeBase per policy a process meets, made when
first needed (pyswip is one SWI-Prolog per process: several policies are
loaded in it, as the service's workers do).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InvalidRequest
from .limits import ROUTING_FIELDS, _closest

__all__ = ["ROUTING_FIELDS", "Payers", "UNKNOWN_POLICY", "installed", "named_policy", "policy_folder", "routed",
           "union_fields"]

UNKNOWN_POLICY = "unknown_policy"  # the error code of a request naming a policy that is not installed


@lru_cache(maxsize=8)
def installed(root: Path | None = None) -> dict[str, Path]:
    """Every name an installed policy answers to (id, number, folder name) -> its folder."""
    from .facts import atom, read_facts
    from .installed import policy_folders

    names: dict[str, Path] = {}
    for folder in policy_folders(root):
        names[folder.name] = folder
        for f in read_facts([folder / "policy.pl"]):
            if f.name == "policy":
                names[atom(f.args[0])] = names[str(f.args[1])] = folder
    return names


def policy_folder(ref: str, root: Path | None = None) -> Path:
    """The installed policy a request names; InvalidRequest (code
    unknown_policy) quoting the value as sent, for any other."""
    names = installed(root)
    hit = names.get(ref) if type(ref) is str else None
    if hit is None:
        shown = repr(ref)[:80]
        raise InvalidRequest(f"policy {shown} is not installed{_closest(str(ref), sorted(names))}; "
                             f"installed are {', '.join(sorted({p.name for p in names.values()}))}",
                             code=UNKNOWN_POLICY)
    return hit


def _version_ref(value: Any) -> str:
    """A version id as a request gives it: an id, never a file path."""
    if type(value) is not str or not value.strip():
        raise InvalidRequest(f"version: {repr(value)[:80]} is not a version id")
    if "/" in value or "\\" in value or value.endswith((".pl", ".toml")) or len(value) > 200:
        raise InvalidRequest(f"version {value[:80]!r}: a request names version ids only, not draft files")
    return value


assert ROUTING_FIELDS == ("policy", "version")


def routed(data: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    """A request's routing fields and the request without them: (policy, version, request).
    An empty value is absent (a CSV cell left empty)."""
    if "policy" not in data and "version" not in data:  # ROUTING_FIELDS, spelled out: once per batch line
        return None, None, data
    rest = {k: v for k, v in data.items() if k not in ROUTING_FIELDS}
    policy, version = data.get("policy"), data.get("version")
    if policy == "":
        policy = None
    if version == "":
        version = None
    if policy is not None and type(policy) is not str:
        raise InvalidRequest(f"policy: {repr(policy)[:80]} is not a policy id", code=UNKNOWN_POLICY)
    return policy, None if version is None else _version_ref(version), rest


def named_policy(data: Any, default: str | None) -> str | None:
    """The installed policy a request names (its folder name), else default
    (``--policy``, the query's): how ``covkb determine`` and ``/v1/determine``
    choose the knowledge base of one request."""
    named = routed(data)[0] if isinstance(data, dict) else None
    return default if named is None else policy_folder(named).name


def union_fields(policies: list[Path] | None = None) -> list[str]:
    """The fields of every installed policy's request language (a mixed
    file's header may hold them all), then the routing fields."""
    from .limits import field_names
    from .policy import Policy

    seen: dict[str, None] = {}
    for folder in policies or sorted(set(installed().values())):
        p = Policy(policy=folder)
        seen.update(dict.fromkeys(field_names(p.data(p.latest()).vocabulary)))
    return [*seen, *ROUTING_FIELDS]


class Payers:
    """One KnowledgeBase per policy, made when a request first names it.

    ``default`` answers a request that names no policy; ``make`` builds the
    KnowledgeBase of a policy folder (a service worker passes its own)."""

    def __init__(self, default: str | Path | None, make: Callable[[Path], Any]) -> None:
        self.make = make
        self._kbs: dict[Path, Any] = {}
        self._refs: dict[str, Any] = {}  # by the name a request gives: a batch line names its policy each time
        self.default = self.make(Path(default) if isinstance(default, Path) else _default_folder(default))
        self._kbs[self.default.policy.folder] = self.default

    def kb(self, ref: str | None) -> Any:
        """The KnowledgeBase a request naming ref (None: none) answers to."""
        if ref is None:
            return self.default
        hit = self._refs.get(ref)
        if hit is not None:
            return hit
        folder = policy_folder(ref).resolve()
        hit = self._kbs.get(folder)
        if hit is None:
            hit = self._kbs[folder] = self.make(folder)
        if len(self._refs) < 256:
            self._refs[ref] = hit
        return hit

    def close(self) -> None:
        for kb in self._kbs.values():
            kb.close()
        self._kbs.clear()
        self._refs.clear()


def _default_folder(ref: str | None) -> Path:
    from .paths import kb_dir
    from .policy import Policy

    return Policy(kb_dir(), policy=ref).folder
