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


def state_dir() -> Path:
    """Where covkb keeps what it must not lose: $COVKB_STATE, else
    $XDG_STATE_HOME/covkb, else ~/.local/state/covkb."""
    base = os.environ.get("COVKB_STATE") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state"), "covkb")
    return Path(base)


def cache_dir() -> Path | None:
    """Where covkb keeps what it can compute again (parsed KB facts, where
    SWI-Prolog is installed): $COVKB_CACHE, else $XDG_CACHE_HOME/covkb, else
    ~/.cache/covkb.  None when it cannot be made (covkb then computes)."""
    base = os.environ.get("COVKB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "covkb")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        return None
    return Path(base)


def write_cache(path: Path, text: str) -> None:
    """Write a cache file whole (a temporary file renamed), or not at all."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
