"""covkb benchmarks: `make bench` prints a table and writes bench/results/latest.json.

Every figure is measured in this run on this machine, beside a baseline of
the same run, and reported as a ratio:

- latency: warm single-request p50/p99 through the API, per engine, beside
  the bare engine round trip (pyswip `true`; a solve of a one-fact clingo
  program);
- batch: throughput on N deterministic synthetic requests (default
  1,000,000) through `covkb batch`, beside a floor that reads, parses, makes
  a trivial decision and writes the same file in plain Python; peak memory
  (RSS of the whole process tree) of the batch run;
- uncached batch: throughput on distinct requests only (no repeats to
  remember), per engine;
- diff: `covkb diff` between the real versions and for each example draft
  (warm, in-process), beside an estimate of the brute-force alternative
  (every scenario of the space through the ASP engine on both sides, at the
  per-request time measured here); and a synthetic policy (~500 statements
  over 30 findings) diffed against a mutated copy, cold, in a subprocess;
- spark: `covkb batch --spark local-cluster[2,1,1024]` on a synthetic file
  (default 200,000 lines) beside the local batch with 1 and 2 workers on the
  same file, output checked identical (`--only spark`);
- cold start: `covkb determine …` as a new process (wall and CPU time,
  median of interleaved runs), beside `python -c pass` in the same run.
  `python bench/run.py --only coldstart` measures only this (a few seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

from covkb import CovkbError, KnowledgeBase  # noqa: E402
from covkb.queries import load_queries  # noqa: E402


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def time_calls(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def bare_prolog(n: int) -> list[float]:
    from pyswip import Functor, Prolog, Query

    Prolog()
    true = Functor("true", 0)

    def once(_: int) -> None:
        q = Query(true())
        q.nextSolution()
        q.closeQuery()

    time_calls(once, 200)
    return time_calls(once, n)


def bare_clingo(n: int) -> list[float]:
    import clingo

    ctl = clingo.Control(["0"])
    ctl.add("base", [], "a.")
    ctl.ground([("base", [])])

    def once(_: int) -> None:
        with ctl.solve(yield_=True) as h:
            for _m in h:
                pass

    time_calls(once, 200)
    return time_calls(once, n)


def api_latency(engine: str, n: int) -> list[float]:
    kb = KnowledgeBase(engine=engine)
    reqs = []
    for q in load_queries():
        try:
            kb.determine(q.request)
            reqs.append(kb.parse(q.request))
        except CovkbError:
            pass
    time_calls(lambda i: kb.determine(reqs[i % len(reqs)]), 2 * len(reqs))
    return time_calls(lambda i: kb.determine(reqs[i % len(reqs)]), n)


def floor(src: str, dst: str) -> float:
    t = time.perf_counter()
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for n, line in enumerate(f, 1):
            r = json.loads(line)
            outcome = "not_addressed" if r.get("prior_pregnancy_losses", 0) < 2 else "insufficient_information"
            out.write(json.dumps({"line": n, "outcome": outcome}, separators=(",", ":")) + "\n")
    return time.perf_counter() - t


def tree_rss_kb(pid: int) -> int:
    """Resident memory of pid and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss[int(d)] = int(line.split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack += children.get(p, [])
    return total


def batch_run(src: str, dst: str, engine: str, workers: int) -> tuple[float, int, dict]:
    covkb = str(Path(sys.executable).with_name("covkb"))
    summary = dst + ".summary.json"
    t = time.perf_counter()
    proc = subprocess.Popen([covkb, "batch", src, "-o", dst, "--engine", engine, "--workers", str(workers),
                             "--summary-json", summary], stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"covkb batch failed with {proc.returncode}")
    return seconds, peak, json.loads(Path(summary).read_text())


def diff_figures(res: dict, rows: list) -> None:
    from covkb.diff import diff
    from covkb.policy import Policy
    from covkb.scenarios import size

    policy = Policy()
    drafts = sorted((HERE.parent / "queries" / "drafts").glob("*.toml"))
    pairs = [("before-2024-04-15", "2024-04-15"), ("2024-04-15", "2025-02-15")]
    pairs += [("2025-02-15", str(d)) for d in drafts]
    kb = KnowledgeBase(engine="asp")
    for a, b in pairs:
        diff(policy, a, b)  # warm: both programs ground
        t = time.perf_counter()
        rep = diff(policy, a, b)
        sec = time.perf_counter() - t
        # brute force: every scenario of both sides' spaces through the engine
        n = size(policy.data(policy.resolve(a))) + size(policy.data(policy.resolve(b)))
        sample = [q.request for q in load_queries()][:40]
        t = time.perf_counter()
        for r in sample:
            try:
                kb.determine(r, explain=False)
            except CovkbError:
                pass
        per = (time.perf_counter() - t) / len(sample)
        name = f"{policy.resolve(a).id} -> {policy.resolve(b).id}"
        res.setdefault("diff", {})[name] = {"seconds": sec, "regions": len(rep.regions),
                                            "examined": rep.regions_examined, "scenarios": n,
                                            "enumeration_estimate_s": n * per}
        rows.append((f"diff {name}", f"{sec:.2f} s, {len(rep.regions)} regions",
                     f"{n * per / sec:,.0f}× faster than enumerating {n:,} scenarios (est.)"))
    with tempfile.TemporaryDirectory() as tmp:
        import synthetic_policy

        draft = synthetic_policy.write(Path(tmp))
        code = ("import sys, time; from pathlib import Path; from covkb.policy import Policy; from covkb.diff import diff;"
                "t = time.perf_counter(); r = diff(Policy(Path(sys.argv[1])), '2025-02-15', sys.argv[2]);"
                "print(time.perf_counter() - t, len(r.regions), r.regions_examined)")
        env = {**os.environ, "COVKB_KB": str(Path(tmp) / "kb")}
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, str(Path(tmp) / "kb"), str(draft)],
                             capture_output=True, text=True, env=env, check=True).stdout.split()
        wall = time.perf_counter() - t
        sec, regions, examined = float(out[0]), int(out[1]), int(out[2])
        res.setdefault("diff", {})["synthetic 500 statements / 30 findings"] = {
            "seconds": sec, "wall_seconds_with_startup": wall, "regions": regions, "examined": examined}
        rows.append(("diff synthetic: 500 statements, 30 findings, 25 mutations",
                     f"{sec:.1f} s ({wall:.1f} s with start-up)",
                     f"{regions} regions from {examined:,} examined; target 30 s"))


def batch_figures(lines: int, engines: list[str], res: dict, rows: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "requests.jsonl")
        distinct = synth.write_jsonl(src, lines)
        res["distinct_requests"] = distinct
        fl = floor(src, os.path.join(tmp, "floor.jsonl"))
        fl_rate = lines / fl
        res["floor_lines_per_s"] = fl_rate
        rows.append(("floor: read, parse, trivial decision, write", f"{fl_rate:,.0f} lines/s", "1.00×"))
        for e in engines:
            for w in (1, 2):
                dst = os.path.join(tmp, f"out-{e}-{w}.jsonl")
                sec, peak, summ = batch_run(src, dst, e, w)
                assert count_lines(dst) == lines, "lines in != lines out"
                rate = lines / sec
                res[f"batch_{e}_w{w}"] = {"seconds": sec, "lines_per_s": rate, "ratio_to_floor": rate / fl_rate,
                                          "peak_rss_mb": peak / 1024, "summary": summ}
                rows.append((f"batch {e}, {w} worker(s), {lines:,} lines ({distinct:,} distinct)",
                             f"{rate:,.0f} lines/s, peak {peak / 1024:,.0f} MB", f"{rate / fl_rate:.2f}× floor"))
        # every line distinct: the engines' own throughput
        uniq = os.path.join(tmp, "distinct.jsonl")
        seen: set[str] = set()
        with open(src) as f, open(uniq, "w") as out:
            for line in f:
                if line not in seen:
                    seen.add(line)
                    out.write(line)
        for e in engines:
            for w in (1, 2):
                dst = os.path.join(tmp, f"uniq-{e}-{w}.jsonl")
                sec, peak, _ = batch_run(uniq, dst, e, w)
                rate = len(seen) / sec
                res[f"batch_distinct_{e}_w{w}"] = {"lines": len(seen), "seconds": sec, "lines_per_s": rate,
                                                   "ratio_to_floor": rate / fl_rate, "peak_rss_mb": peak / 1024}
                rows.append((f"batch {e}, {w} worker(s), {len(seen):,} distinct lines only",
                             f"{rate:,.0f} lines/s", f"{rate / fl_rate:.3f}× floor"))


def spark_figures(lines: int, master: str, res: dict, rows: list) -> None:
    """The same synthetic file through the local batch (1 and 2 workers) and
    `covkb batch --spark MASTER` (wall time, JVMs and executors' KB loads
    included), each output checked equal to the local one."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "requests.jsonl")
        distinct = synth.write_jsonl(src, lines)
        res["spark"] = {"lines": lines, "distinct": distinct, "master": master}
        local = {}
        for w in (1, 2):
            dst = os.path.join(tmp, f"local-{w}.jsonl")
            sec, _, _ = batch_run(src, dst, "prolog", w)
            local[w] = lines / sec
            res["spark"][f"local_w{w}_lines_per_s"] = local[w]
        dst = os.path.join(tmp, "spark.jsonl")
        summary = dst + ".summary.json"
        covkb = str(Path(sys.executable).with_name("covkb"))
        t = time.perf_counter()
        subprocess.run([covkb, "batch", src, "-o", dst, "--spark", master, "--summary-json", summary],
                       stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t
        if Path(dst).read_bytes() != Path(os.path.join(tmp, "local-1.jsonl")).read_bytes():
            raise SystemExit("covkb batch --spark wrote other records than the local batch")
        rate = lines / wall
        res["spark"].update({"spark_seconds": wall, "spark_lines_per_s": rate,
                             "ratio_to_local_w1": rate / local[1], "ratio_to_local_w2": rate / local[2]})
        for w in (1, 2):
            rows.append((f"batch local, {w} worker(s), {lines:,} lines ({distinct:,} distinct)",
                         f"{local[w]:,.0f} lines/s", "" if w == 1 else f"{local[2] / local[1]:.2f}× 1 worker"))
        rows.append((f"batch --spark {master}, the same file (wall, JVM start-up included)",
                     f"{rate:,.0f} lines/s", f"{rate / local[1]:.2f}× local 1 worker, {rate / local[2]:.2f}× 2 workers; "
                                             f"output identical"))


COLD_REQUEST = ["determine", "--cpt", "59325", "--losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01"]


def cold_start(res: dict, rows: list, runs: int) -> None:
    """New processes, interleaved so that each command meets the same load:
    the interpreter alone, and `covkb determine` in text and JSON.  One
    unmeasured run of each first (it fills covkb's cache and the OS's)."""
    import resource

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        x for x in (str(HERE.parent / "pyapi"), os.environ.get("PYTHONPATH", "")) if x)}
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "covkb determine (text)": [sys.executable, "-m", "covkb.cli", *COLD_REQUEST],
        "covkb determine --format json": [sys.executable, "-m", "covkb.cli", *COLD_REQUEST, "--format", "json"],
    }
    # compiled bytecode, as `make setup` leaves it (PYTHONDONTWRITEBYTECODE would have every run compile)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "pyapi")], check=True,
                   stdout=subprocess.DEVNULL)
    for cmd in cmds.values():
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    wall: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            wall[k].append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    base_w, base_c = statistics.median(wall["python -c pass"]), statistics.median(cpu["python -c pass"])
    res["cold_start"] = {"runs": runs}
    for k in cmds:
        w, c = statistics.median(wall[k]), statistics.median(cpu[k])
        res["cold_start"][k] = {"wall_ms": round(w * 1e3, 1), "cpu_ms": round(c * 1e3, 1),
                                "wall_ratio_to_python": round(w / base_w, 1), "cpu_ratio_to_python": round(c / base_c, 1)}
        if k != "python -c pass":
            rows.append((f"cold start: {k}", f"{w * 1e3:,.0f} ms wall, {c * 1e3:,.0f} ms CPU",
                         f"{w / base_w:,.1f}× / {c / base_c:,.1f}× python -c pass ({base_w * 1e3:,.0f} / "
                         f"{base_c * 1e3:,.0f} ms); target < 200 ms wall"))


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--latency-calls", type=int, default=2000)
    ap.add_argument("--engines", default="prolog,asp")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: latency,batch,diff,coldstart,spark")
    ap.add_argument("--only", default="", help="comma-separated parts to run, no others: latency,batch,diff,coldstart,spark")
    ap.add_argument("--cold-runs", type=int, default=15)
    ap.add_argument("--spark-lines", type=int, default=200_000)
    ap.add_argument("--spark-master", default="local-cluster[2,1,1024]")
    args = ap.parse_args()
    engines = args.engines.split(",")
    res: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                             "python": platform.python_version()}, "lines": args.lines}
    rows: list[tuple[str, str, str]] = []

    skip = set(args.skip.split(",")) - {""}
    if args.only:
        skip |= {"latency", "batch", "diff", "coldstart", "spark"} - set(args.only.split(","))
    if "coldstart" not in skip:
        cold_start(res, rows, args.cold_runs)
    # latency --------------------------------------------------------------
    bare = {"prolog": bare_prolog, "asp": bare_clingo}
    for e in engines if "latency" not in skip else ():
        base = bare[e](args.latency_calls)
        api = api_latency(e, args.latency_calls)
        b50, a50, a99 = statistics.median(base), statistics.median(api), percentile(api, 99)
        res[f"latency_{e}"] = {"bare_p50_us": b50 * 1e6, "api_p50_us": a50 * 1e6, "api_p99_us": a99 * 1e6,
                               "p50_ratio_to_bare": a50 / b50}
        rows.append((f"latency {e}: API p50 / p99", f"{a50 * 1e6:,.0f} / {a99 * 1e6:,.0f} µs",
                     f"{a50 / b50:,.0f}× bare round trip ({b50 * 1e6:,.1f} µs)"))

    if "diff" not in skip:
        diff_figures(res, rows)
    if "batch" not in skip:
        batch_figures(args.lines, engines, res, rows)
    if "spark" not in skip:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            rows.append(("batch --spark", "skipped", "pyspark is not installed (pip install -e '.[spark]')"))
        else:
            spark_figures(args.spark_lines, args.spark_master, res, rows)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"covkb bench on {res['machine']['platform']}, {res['machine']['cpus']} CPUs, Python {res['machine']['python']}")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:>{w1}}  {c}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
