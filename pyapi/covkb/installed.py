"""The policies installed in a kb/ folder: one folder each under policies/."""

from __future__ import annotations

from pathlib import Path

from .paths import kb_dir


def policy_folders(root: Path | None = None) -> list[Path]:
    """The policies installed in kb/policies/, one folder each."""
    base = (root or kb_dir()).resolve() / "policies"
    return sorted(p.parent for p in base.glob("*/policy.pl"))
