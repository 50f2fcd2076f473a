"""What a draft reads of the policy it revises, named as Protocols.

covkb.policy reads a TOML draft through this package (``Policy.draft``), so
the package may not import covkb.policy back, not even for annotations:
``compiler`` and ``scaffold`` name the policy and its version's data by what
they read of them (covkb.policy's ``Policy`` and ``VersionData`` have it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ..facts import Fact


class Version(Protocol):
    @property
    def id(self) -> str: ...


class Base(Protocol):
    """A version's data (covkb.policy.VersionData)."""

    @property
    def version(self) -> Any: ...            # its Version (.id)
    @property
    def vocabulary(self) -> Any: ...         # covkb.policy.Vocabulary
    @property
    def facts(self) -> tuple[Fact, ...]: ...
    @property
    def fact_owners(self) -> tuple[frozenset[str], ...]: ...
    @property
    def sections(self) -> dict[str, tuple[str, str]]: ...
    def rows(self, name: str) -> list[tuple]: ...
    def quote_position(self, quote: str) -> int: ...


class Revised(Protocol):
    """The policy a draft revises (covkb.policy.Policy)."""

    @property
    def root(self) -> Path: ...
    @property
    def number(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def versions(self) -> Sequence[Version]: ...
    def latest(self) -> Version: ...
    def version(self, vid: str) -> Any: ...
    def data(self, version: Any) -> Base: ...
