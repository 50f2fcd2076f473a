"""A candidate encoding's structure and grounding against the reference
(``covkb.score``).

Structure aligns by the requests decided, not by ids: a reference
statement is encoded by the candidate statement that decides the most of
the scenarios it decides, with the same outcome (all of them: encoded;
from ``score.MOSTLY`` of them: mostly encoded; else missed); a reference
criterion likewise by the candidate criterion met in the most of the
scenarios it is met in.  A code is encoded when the candidate's coding
table lists it.  Ids the candidate declares and the reference does not
are inventions.

Grounding reads quotes as ``covkb check`` does (``VersionData.quotes``,
``VersionData.quote_position``: the quote, normalised, found in the
source text): precision is the share of the candidate's quotes found
verbatim in the reference's source text; recall the share of the
reference's quotes the candidate cites.  A statement or criterion whose
quote is not verbatim is an interpretation: marked when an
interpretation/2 fact of the candidate names it.
"""

from __future__ import annotations

from typing import Any

from .facts import Term, atom
from .policy import VersionData, normalise_quote

MOSTLY = 0.9


def _ids(data: VersionData) -> dict[str, set[str]]:
    v = data.vocabulary
    return {"statements": set(v.statements), "criteria": {atom(r[1]) for r in data.rows("criterion")},
            "codes": set(v.codes), "services": set(v.services), "findings": set(v.findings)}


def _align(decided: dict[str, int], overlap: dict[tuple[str, str], int]) -> dict[str, dict[str, Any]]:
    """Each reference id's best candidate id by the scenarios both decide."""
    out = {}
    for ref, n in sorted(decided.items()):
        best = max(((c, m) for (r, c), m in overlap.items() if r == ref), key=lambda x: (x[1], x[0]), default=("", 0))
        share = best[1] / n if n else 0.0
        status = "encoded" if share == 1 else "mostly_encoded" if share >= MOSTLY else "missed"
        out[ref] = {"status": status, "by": best[0] or None, "share": round(share, 6), "scenarios": n}
    return out


def structure(ref: VersionData, cand: VersionData, counts: Any) -> dict[str, Any]:
    """What the candidate encodes of the reference's statements, criteria and
    codes (aligned by the scenarios they decide), and what it invents."""
    decided: dict[str, int] = {}
    overlap: dict[tuple[str, str], int] = {}
    for (rs, ro, cs, co), n in counts.statements.items():
        if rs:
            decided[rs] = decided.get(rs, 0) + n
            if cs and ro == co:
                overlap[(rs, cs)] = overlap.get((rs, cs), 0) + n
    met: dict[str, int] = {}
    met_overlap: dict[tuple[str, str], int] = {}
    for (rc, cc), n in counts.criteria.items():
        for r in rc:
            met[r] = met.get(r, 0) + n
            for c in cc:
                met_overlap[(r, c)] = met_overlap.get((r, c), 0) + n
    ri, ci = _ids(ref), _ids(cand)
    statements = _align(decided, overlap)
    for s in sorted(ri["statements"] - set(statements)):
        statements[s] = {"status": "decides_no_scenario", "by": None, "share": 0.0, "scenarios": 0}
    criteria = _align(met, met_overlap)
    for c in sorted(ri["criteria"] - set(criteria)):
        criteria[c] = {"status": "met_in_no_scenario", "by": None, "share": 0.0, "scenarios": 0}
    codes = {c: ("encoded" if c in ci["codes"] else "missed") for c in sorted(ri["codes"])}
    return {
        "statements": statements, "criteria": criteria, "codes": codes,
        "encoded": {k: sum(x["status"] == "encoded" for x in d.values()) for k, d in
                    (("statements", statements), ("criteria", criteria))} | {"codes": sum(v == "encoded" for v in codes.values())},
        "missed": {"statements": sorted(s for s, x in statements.items() if x["status"] == "missed"),
                   "criteria": sorted(c for c, x in criteria.items() if x["status"] == "missed"),
                   "codes": sorted(c for c, v in codes.items() if v == "missed")},
        "inventions": {k: sorted(ci[k] - ri[k]) for k in ci if ci[k] - ri[k]},
    }


def grounding(ref: VersionData, cand: VersionData) -> dict[str, Any]:
    """The candidate's quotes against the reference's source text and quotes."""
    cand_quotes = cand.quotes()
    verbatim = [q for _, q in cand_quotes if ref.quote_position(q) >= 0]
    off = [(f, q) for f, q in cand_quotes if ref.quote_position(q) < 0]
    ref_quotes = {normalise_quote(q) for _, q in ref.quotes()}
    cited = ref_quotes & {normalise_quote(q) for _, q in cand_quotes}
    subjects = [r[0] for r in cand.rows("interpretation")]
    marked = [f for f, _ in off if any(_names(s, f) for s in subjects)]
    return {
        "quotes": len(cand_quotes), "verbatim": len(verbatim),
        "precision": round(len(verbatim) / len(cand_quotes), 6) if cand_quotes else 0.0,
        "reference_quotes": len(ref_quotes), "cited": len(cited),
        "recall": round(len(cited) / len(ref_quotes), 6) if ref_quotes else 0.0,
        "not_verbatim": [{"fact": f.name, "quote": q} for f, q in off],
        "interpretations": {"declared": len(subjects), "not_verbatim_marked": len(marked),
                            "not_verbatim_unmarked": len(off) - len(marked)},
    }


def _names(subject: Any, f: Any) -> bool:
    """An interpretation's subject names the fact: its name and leading
    arguments (a bare id: the fact's first argument)."""
    if isinstance(subject, Term) and subject.args:
        return subject.name == f.name and tuple(f.args[:len(subject.args)]) == subject.args
    return bool(f.args) and f.args[0] == subject
