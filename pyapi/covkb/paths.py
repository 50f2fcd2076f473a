"""Where the knowledge base and the named queries live."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def kb_dir() -> Path:
    """The kb/ folder; COVKB_KB overrides it (for tests of other KBs)."""
    return Path(os.environ.get("COVKB_KB", _REPO / "kb"))


def queries_dir() -> Path:
    return Path(os.environ.get("COVKB_QUERIES", _REPO / "queries"))


def repo_dir() -> Path:
    return _REPO
