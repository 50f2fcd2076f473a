"""The knowledge base's digest of a version, without the store's database
libraries (the compiled decision tables check it on every load;
``covkb.store`` re-exports it for the decisions it keeps)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .paths import kb_dir

if TYPE_CHECKING:
    from .policy import VersionData


@functools.lru_cache(maxsize=64)
def _digest(engine_text: str) -> str:
    import hashlib  # here: a cold start that never asks for a digest does not load OpenSSL

    h = hashlib.sha256(b"covkb-kb-digest-1\0")
    h.update(engine_text.encode("utf-8"))
    engine = kb_dir() / "engine"
    for path in sorted(engine.iterdir()):
        if path.suffix in (".pl", ".lp") and path.is_file():
            h.update(b"\0" + path.name.encode("utf-8") + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def kb_digest(data: VersionData) -> str:
    """The knowledge base's digest of a version: sha256 over the text both engines
    read (VersionData.engine_text) and the evaluators' files (kb/engine/*.pl, *.lp)."""
    return _digest(data.engine_text)
