"""Decisions compiled ahead of time (covkb.compiled), beside the engines, in one run.

`python bench/compiled.py` (make bench runs it) measures, with a table and
without it (COVKB_COMPILED=0) in the same run, on this machine:

- in process: KnowledgeBase.determine(explain=False) p50/p99 per engine over
  the default policy's named queries and the synthetic requests (goal:
  <= 25 us p50 from the table);
- batch: the synthetic file's distinct lines (bench/synth.py: every line
  distinct, no repeat for the memo), `covkb batch` with 1 worker per engine,
  beside bench/run.py's plain-Python floor on the same file (goal: >= 0.5x);
- REST: POST /v1/determine?explain=false at 32 clients beside GET /healthz
  at 32 clients, on one server (goal: p99 within 1.5x).

The table holds the projections of these requests (compiled by both
engines, checked equal, at the start; its compile time is reported): a
whole version's table answers the same way, only more requests; building
one takes minutes (docs/performance.md).  Results: bench/results/compiled.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import synth  # noqa: E402
from run import batch_run, count_lines, floor, percentile, time_calls  # noqa: E402

TODAY = "2025-06-01"


def distinct_lines(src: str, dst: str, lines: int) -> list[dict]:
    synth.write_jsonl(src, lines)
    seen: set[str] = set()
    out = []
    with open(src) as f, open(dst, "w") as w:
        for line in f:
            if line not in seen:
                seen.add(line)
                w.write(line)
                out.append(json.loads(line))
    return out


def compile_for(requests: list[dict], workers: int) -> dict:
    """Tables for the versions these requests are decided by, from the requests (both engines, checked)."""
    from covkb import CovkbError, KnowledgeBase
    from covkb.compile_build import compile_version
    from covkb.compiled import FORMAT, _write, table_path
    from covkb.kbdigest import kb_digest

    kb = KnowledgeBase(engine="asp", today=dt.date.fromisoformat(TODAY))
    by_version: dict[str, list[dict]] = {}
    for r in requests:
        try:
            _, v, _ = kb._reading(r, None)
        except CovkbError:
            continue
        by_version.setdefault(v.id, []).append(r)
    out = {}
    for vid, reqs in by_version.items():
        v = kb.policy.resolve(vid)
        c = compile_version(kb.policy, v, workers=workers, given=reqs)
        d = kb_digest(kb.policy.data(v))
        _write(table_path(d), {"format": FORMAT, "policy": kb.policy.number, "version": vid, "digest": d}, c.doc)
        out[vid] = {"requests": len(reqs), "projections": c.projections, "entries": c.entries, "refused": c.refused,
                    "seconds": round(c.seconds, 1), "per_projection_ms": round(c.seconds / max(c.projections, 1) * 1e3, 2)}
    return out


def in_process(requests: list[dict], engines: list[str], calls: int, res: dict, rows: list) -> None:
    from covkb import CovkbError, KnowledgeBase

    today = dt.date.fromisoformat(TODAY)
    for e in engines:
        sides = {}
        for side, flag in (("table", None), ("engine", "0")):
            if flag:
                os.environ["COVKB_COMPILED"] = flag
            kb = KnowledgeBase(engine=e, today=today)
            reqs = []
            for r in requests:
                try:
                    kb.determine(r, explain=False)
                    reqs.append(kb.parse(r))
                except CovkbError:
                    pass
            time_calls(lambda i: kb.determine(reqs[i % len(reqs)], explain=False), len(reqs))
            sides[side] = time_calls(lambda i: kb.determine(reqs[i % len(reqs)], explain=False), calls)
            os.environ.pop("COVKB_COMPILED", None)
        t50, t99 = statistics.median(sides["table"]) * 1e6, percentile(sides["table"], 99) * 1e6
        e50, e99 = statistics.median(sides["engine"]) * 1e6, percentile(sides["engine"], 99) * 1e6
        res[f"in_process_{e}"] = {"table_p50_us": t50, "table_p99_us": t99, "engine_p50_us": e50, "engine_p99_us": e99,
                                  "requests": len(reqs)}
        rows.append((f"in process {e}, explain=false: table p50 / p99", f"{t50:,.1f} / {t99:,.1f} us",
                     f"engine {e50:,.0f} / {e99:,.0f} us: {e50 / t50:,.0f}x faster at p50; goal <= 25 us p50"))


def batch(src: str, n: int, engines: list[str], res: dict, rows: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fl = n / floor(src, os.path.join(tmp, "floor.jsonl"))
        res["floor_lines_per_s"] = fl
        rows.append((f"floor: read, parse, trivial decision, write ({n:,} distinct lines)", f"{fl:,.0f} lines/s", "1.00x"))
        for e in engines:
            for side, flag in (("table", None), ("engine", "0")):
                if flag:
                    os.environ["COVKB_COMPILED"] = flag
                dst = os.path.join(tmp, f"{e}-{side}.jsonl")
                sec, peak, _ = batch_run(src, dst, e, 1)
                os.environ.pop("COVKB_COMPILED", None)
                assert count_lines(dst) == n
                rate = n / sec
                res[f"batch_{e}_{side}"] = {"lines_per_s": rate, "ratio_to_floor": rate / fl, "peak_rss_mb": peak / 1024}
                rows.append((f"batch {e}, 1 worker, every line distinct, {side}", f"{rate:,.0f} lines/s",
                             f"{rate / fl:.2f}x floor; goal >= 0.5x" if side == "table" else f"{rate / fl:.3f}x floor"))
            a = Path(tmp, f"{e}-table.jsonl").read_bytes()
            assert a == Path(tmp, f"{e}-engine.jsonl").read_bytes(), "the table's batch output differs from the engine's"


def rest(res: dict, rows: list) -> None:
    import service
    from service_server import Server

    reqs_json = service.rest_requests()
    for side, flag in (("table", None), ("engine", "0")):
        if flag:
            os.environ["COVKB_COMPILED"] = flag
        s = Server("--mode", "inline", "--cache-size", "0", workers=2, today=TODAY)
        os.environ.pop("COVKB_COMPILED", None)
        try:
            kinds = service.kinds_for(s.port, reqs_json, [])
            reqs = kinds["rest_determine_explain_false"]
            ping = [f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n".encode()]
            asyncio.run(service.load(s.port, reqs, 4, 200, 10))
            asyncio.run(service.load(s.port, ping, 4, 200, 5))
            d = asyncio.run(service.load(s.port, reqs, 32, 8000, 20))
            h = asyncio.run(service.load(s.port, ping, 32, 8000, 20))
        finally:
            s.stop()
        res[f"rest_{side}"] = {"determine": d, "healthz": h, "p99_ratio": d["p99_ms"] / h["p99_ms"]}
        rows.append((f"REST determine?explain=false, 32 clients, {side}: p50 / p99",
                     f"{d['p50_ms']} / {d['p99_ms']} ms",
                     f"{d['p99_ms'] / h['p99_ms']:.2f}x GET /healthz p99 ({h['p99_ms']} ms)"
                     + ("; goal <= 1.5x" if side == "table" else "")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="synthetic lines drawn; their distinct ones are used")
    ap.add_argument("--latency-calls", type=int, default=5000)
    ap.add_argument("--engines", default="prolog,asp")
    ap.add_argument("--workers", type=int, default=2, help="compile workers")
    ap.add_argument("--skip", default="", help="comma-separated: latency,batch,rest")
    ap.add_argument("--out", default=str(HERE / "results" / "compiled.json"))
    a = ap.parse_args()
    skip = set(a.skip.split(",")) - {""}
    engines = a.engines.split(",")
    state = tempfile.TemporaryDirectory(prefix="covkb-bench-state-")
    os.environ["COVKB_STATE"] = state.name  # the tables of this run only
    res: dict = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}}
    rows: list[tuple[str, str, str]] = []
    from covkb.queries import load_queries

    queries = [q.request for q in load_queries() if not q.version]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "distinct.jsonl")
        reqs = distinct_lines(os.path.join(tmp, "all.jsonl"), src, a.lines)
        res["distinct_lines"] = len(reqs)
        t = time.perf_counter()
        res["compile"] = compile_for(queries + reqs, a.workers)
        rows.append((f"compile: {len(queries) + len(reqs):,} requests' projections, both engines, {a.workers} workers",
                     f"{time.perf_counter() - t:,.1f} s",
                     "; ".join(f"{v}: {c['projections']:,} projections, {c['per_projection_ms']} ms each"
                               for v, c in res["compile"].items())))
        if "latency" not in skip:
            in_process(queries + reqs[:2000], engines, a.latency_calls, res, rows)
        if "batch" not in skip:
            batch(src, len(reqs), engines, res, rows)
    if "rest" not in skip:
        rest(res, rows)
    res["machine"]["load_average_at_end"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    for x, y, z in rows:
        print(f"{x:<{w0}}  {y:>{w1}}  {z}")
    print(f"results: {a.out} (load average {res['machine']['load_average_at_start']} at start)")


if __name__ == "__main__":
    main()
