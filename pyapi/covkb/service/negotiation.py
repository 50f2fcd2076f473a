"""Content negotiation on Accept (RFC 9110 §12.5.1), for the one address
that answers both people and programs: the CRD explanation link.

A browser says it takes ``text/html`` first (``text/html,…,*/*;q=0.8``); an
API client says ``application/json``, or ``*/*``, or nothing.  Only an
Accept that ranks HTML above JSON gets the page, so a client that takes
anything still gets the JSON it always got.
"""

from __future__ import annotations

HTML = ("text/html", "application/xhtml+xml")


def _ranks(accept: str) -> dict[str, float]:
    """Each media range of an Accept header, with its q (a range named twice: the higher)."""
    out: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        media = media.lower()
        out[media] = max(q, out.get(media, 0.0))
    return out


def _q(ranks: dict[str, float], media: str) -> float:
    """The q an Accept gives one media type: its own range, else type/*, else */*."""
    kind = media.split("/")[0]
    for key in (media, f"{kind}/*", "*/*"):
        if key in ranks:
            return ranks[key]
    return 0.0


def wants_html(accept: str | None) -> bool:
    """The Accept header names HTML itself and ranks it above JSON."""
    if not accept:
        return False
    ranks = _ranks(accept)
    html = max(ranks.get(m, 0.0) for m in HTML)  # named, not only through */*
    json_q = _q(ranks, "application/json")
    # HTML named outright beats JSON reached only through a wildcard at the same q
    return html > 0 and (html > json_q if "application/json" in ranks else html >= json_q)
