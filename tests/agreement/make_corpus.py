"""Write tests/agreement/corpus.jsonl: the frozen requests on which the
default test run (`make test`) checks that the Prolog and the ASP engine agree.

    .venv/bin/python tests/agreement/make_corpus.py [--workers N] [--out FILE]

The corpus is, in this order:

* every named query of every policy (its request and the version it names,
  or none: then the request's date of service, or the tests' today, picks it);
* a minimised cover of the scenario space (covkb.scenarios) of every version
  of every installed policy and of the test policy tests/policies/example_pap.
  Every scenario is decided (by the Prolog engine, without the derivation),
  and for every distinct

      (outcome, statement, criteria_met, CPT code, error code, whole answer)

  that occurs, the scenario cheapest to decide is kept: the fewest unknown
  findings, then the most request fields (each leaves fewer facts unknown,
  so fewer completions to decide and explain), then the first in the
  scenario order.  The whole answer is what the engines are
  compared on (Determination.comparable(), or the error's code and message),
  so the cover holds every combination of outcome, statement, criteria met,
  CPT code and error code, and within each, every distinct answer (its
  missing facts, possible outcomes, referral, citations, notices): a few
  hundred requests per version where the version has up to 354,543
  scenarios.  Each line says what it was chosen for ("chosen_for", as decided
  when the corpus was written; the test compares the engines with each
  other, never with it) and which scenario it is ("source": cover:<index in
  the scenario order>).

The requests that ever made the engines disagree are kept apart, in
tests/agreement/disagreements.jsonl (see the note at its top); the test reads
both files.  Deciding every scenario takes about 16 minutes on two cores
(half a million requests).  Run this again when the scenario space changes
(a new version or policy, new statements, codes or findings), and commit the
corpus it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "corpus.jsonl"
TEST_POLICY = REPO / "tests" / "policies" / "example_pap"
COVER = ("outcome", "statement", "criteria_met", "cpt", "error")  # what each cover line is chosen for

Candidate = tuple[tuple[int, int], int, dict[str, Any], dict[str, Any]]  # (cost, scenario index, request, decided)


def _rel(p: str | Path) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def policies() -> list[str]:
    from covkb.policy import policy_folders

    return [*(_rel(p) for p in policy_folders()), _rel(TEST_POLICY)]


def targets() -> list[tuple[str, str]]:
    from covkb.policy import Policy

    return [(p, v.id) for p in policies() for v in Policy(policy=str(REPO / p)).versions]


def decided(kb: Any, request: dict[str, Any], version: str) -> dict[str, Any]:
    """What a scenario decides: the fields of COVER, and the whole answer (as JSON)."""
    from covkb import CovkbError

    try:
        d = kb.determine(request, explain=False, version=version)
    except CovkbError as exc:
        return {"outcome": None, "statement": None, "criteria_met": (), "cpt": request.get("cpt"),
                "error": exc.code, "answer": json.dumps([exc.code, exc.message])}
    return {"outcome": d.outcome, "statement": d.statement, "criteria_met": tuple(d.criteria_met),
            "cpt": request.get("cpt"), "error": None, "answer": json.dumps(d.comparable(), sort_keys=True)}


def cover_key(what: dict[str, Any]) -> tuple[Any, ...]:
    return (*(what[k] for k in COVER), what["answer"])


def cost(request: dict[str, Any]) -> tuple[int, int]:
    """How much a request leaves unknown: its unknown findings, then the fields it does not state."""
    return (len(request.get("unknown_findings", ())), -len(request))


def cover_shard(policy_ref: str, version: str, shard: int, shards: int) -> dict[tuple[Any, ...], Candidate]:
    """Every shards-th scenario of one version from shard on, decided: the
    cheapest, earliest scenario of every cover key among them."""
    from covkb import KnowledgeBase
    from covkb.policy import Policy
    from covkb.scenarios import scenarios

    kb = KnowledgeBase(engine="prolog", policy=str(REPO / policy_ref))
    data = Policy(policy=str(REPO / policy_ref)).data(version)
    best: dict[tuple[Any, ...], Candidate] = {}
    for i, req in enumerate(scenarios(data)):
        if i % shards != shard:
            continue
        what = decided(kb, req, version)
        key = cover_key(what)
        if key not in best or (cost(req), i) < best[key][:2]:
            best[key] = (cost(req), i, req, what)
    return best


def cover_lines(policy_ref: str, version: str, parts: list[dict[tuple[Any, ...], Candidate]]) -> list[dict[str, Any]]:
    """The corpus lines of one version from its shards' candidates, in scenario order."""
    best: dict[tuple[Any, ...], Candidate] = {}
    for part in parts:
        for key, cand in part.items():
            if key not in best or cand[:2] < best[key][:2]:
                best[key] = cand
    return [{"source": f"cover:{i}", "policy": policy_ref, "version": version, "request": req,
             "chosen_for": {k: list(what[k]) if k == "criteria_met" else what[k] for k in COVER}}
            for _, i, req, what in sorted(best.values(), key=lambda c: c[1])]


def named_queries() -> list[dict[str, Any]]:
    from covkb.policy import Policy
    from covkb.queries import load_queries

    return [{"source": f"query:{_rel(q.path)}", "policy": p, "version": q.version, "request": q.request}
            for p in policies() for q in load_queries(Policy(policy=str(REPO / p)).queries_dir)]


def write(lines: list[dict[str, Any]], out: Path) -> None:
    with open(out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(lines)} requests written to {_rel(out)}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", type=Path, default=CORPUS)
    args = ap.parse_args()
    lines = named_queries()
    w = args.workers
    with ProcessPoolExecutor(w, mp_context=get_context("spawn")) as pool:
        for p, v in targets():
            start = time.perf_counter()
            cover = cover_lines(p, v, list(pool.map(cover_shard, [p] * w, [v] * w, range(w), [w] * w)))
            lines += cover
            print(f"{p}@{v}: {len(cover)} requests, {time.perf_counter() - start:.0f}s", file=sys.stderr)
    write(lines, args.out)


if __name__ == "__main__":
    main()
