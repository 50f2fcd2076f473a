"""Each fast path beside the standard path it shortcuts, on the figure it
serves, A/B in the same run (issue 19, item 4: a fast path stays only where
it gains 20 % or more).  `make bench` runs it after bench/run.py; it prints a
table and writes bench/results/fast_paths.json.

A is the path as shipped, B the standard one; ratio is A's figure over
B's, and gain is 1 - A/B for a time, A/B - 1 for a rate.  In one process
(request, json, ctypes) the sides take turns call by call, each side's time
summed, and the figure is the median over the repetitions; new processes
and servers (cold, hot) take turns run by run, the order turned every
repetition.  The pairs:

- cold: `covkb determine ...` as a new process, wall time (the README's
  first example), as shipped beside: typer reading its command line
  (covkb/cli.py's plain reading off), the pydantic model reading the
  request (covkb/untrusted.py's plain reader off), library(http/json)
  loaded into SWI-Prolog (the start-up kb/engine/json_codec.pl avoids);
- request: the plain request reader (covkb/untrusted.py) beside the
  pydantic model (covkb/request.py): validation alone and
  KnowledgeBase.determine (Prolog) over the named queries, and covkb
  batch's work per distinct line;
- json: kb/engine/json_codec.pl beside SWI-Prolog's library(http/json)
  (bench/json_std.pl), reader and writer together and each alone, in
  KnowledgeBase.determine (Prolog), with and without the explanation;
- ctypes: the evaluator called through SWI-Prolog's C interface
  (engines/prolog.py's _TextCall) beside pyswip's Query, the same way;
- hot: the service's `_hot_path` beside FastAPI's routing
  (covkb/service/app.py; B serves a copy of pyapi/ without it), POST
  /v1/determine requests/s at 8 and 32 clients on two inline servers of 2
  processes each, the answer memo off, with the servers' CPU time a request.

    python bench/fast_paths.py                   # every pair (about 5 minutes on 2 cores)
    python bench/fast_paths.py --only json,ctypes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "pyapi")]

TODAY = dt.date(2025, 6, 1)
COLD_REQUEST = ["determine", "--cpt", "59325", "--losses", "3", "--finding", "cone_biopsy", "--date", "2025-06-01"]
PARTS = ("cold", "request", "json", "ctypes", "hot")


# -- measuring ---------------------------------------------------------------------------------------------

def interleave(sides: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Each side's figure reps times; the order of the sides turns every repetition."""
    names = list(sides)
    out: dict[str, list[float]] = {k: [] for k in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in (order if r % 2 == 0 else order[::-1]):
            out[k].append(sides[k]())
    return out


def take_turns(sides: dict[str, tuple[Callable[[], None], Callable[[Any], Any]]], items: list[Any], reps: int,
               k: int, rate: bool, before_rep: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """In-process A/B call by call: every item k times on every side, the
    sides taking turns on each item (the order turning), each side's time
    summed, so that whatever else the machine runs falls on every side
    alike.  A side is (make it current, call it on an item).  Each
    repetition's figure: calls/s (rate) or µs a call.  before_rep() runs
    before each repetition."""
    names = list(sides)
    out: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(reps):
        if before_rep is not None:
            before_rep()
        total = dict.fromkeys(names, 0.0)
        turn = 0
        for _ in range(k):
            for item in items:
                turn += 1
                for n in names[turn % len(names):] + names[:turn % len(names)]:
                    current, call = sides[n]
                    current()
                    t = time.perf_counter()
                    call(item)
                    total[n] += time.perf_counter() - t
        for n in names:
            out[n].append(k * len(items) / total[n] if rate else total[n] / (k * len(items)) * 1e6)
    return out


def compare(runs: dict[str, list[float]], a: str, b: str, unit: str, rate: bool) -> dict[str, Any]:
    """A beside B: medians, A/B, and the gain on the figure (a rate or a time)."""
    ma, mb = statistics.median(runs[a]), statistics.median(runs[b])
    ratio = ma / mb
    return {"a": a, "b": b, "unit": unit, "a_median": ma, "b_median": mb, "ratio": ratio,
            "gain": ratio - 1 if rate else 1 - ratio, "a_runs": runs[a], "b_runs": runs[b]}


def named_requests() -> list[dict[str, Any]]:
    """The named queries decided by the version in force (no version named)
    that the Prolog engine answers with cases, not an error."""
    from covkb import CovkbError, KnowledgeBase
    from covkb.queries import load_queries

    kb = KnowledgeBase(today=TODAY)
    out = []
    for q in load_queries():
        if q.version:
            continue
        try:
            kb.determine(q.request)
        except CovkbError:
            continue
        out.append(q.request)
    return out


# -- cold start: the CLI's plain reading, the plain request reader, json_codec's start-up ------------------

_COLD_B = {
    "cli: typer reads the command line": "import covkb.cli as c; c._determine_options = lambda args: None\n",
    "request: the pydantic model reads the request": "import covkb.untrusted as u; u._layout = lambda v: None\n",
    "json: library(http/json) loaded into SWI-Prolog": (
        "import covkb.engines.prolog as p\n_start = p._swipl\n"
        "def _swipl():\n    fresh = p._prolog is None\n    _start()\n    if fresh:\n"
        "        from pyswip import Functor\n"
        "        assert p._solve_once(Functor('use_module', 1)(Functor('library', 1)(Functor('/', 2)('http', 'json'))))\n"
        "p._swipl = _swipl\n"),
}


def covkb_command(patch: str, args: list[str]) -> list[str]:
    """`covkb ARGS` as a new process, with a patch applied first (the same -c on every side)."""
    return [sys.executable, "-c", f"import sys\n{patch}from covkb.cli import main\nmain()", *args]


def part_cold(reps: int) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(x for x in (str(REPO / "pyapi"), os.environ.get("PYTHONPATH")) if x)}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "pyapi")], check=True, stdout=subprocess.DEVNULL)
    cmds = {"A: as shipped": covkb_command("", COLD_REQUEST)}
    cmds.update({f"B {k}": covkb_command(p, COLD_REQUEST) for k, p in _COLD_B.items()})
    first = {k: subprocess.run(c, env=env, capture_output=True, check=True).stdout for k, c in cmds.items()}
    for k, out in first.items():  # every side answers alike, byte for byte
        if out != first["A: as shipped"]:
            raise SystemExit(f"cold start: {k} printed another answer")

    import resource

    cpu: dict[str, list[float]] = {k: [] for k in cmds}

    def wall(k: str) -> Callable[[], float]:
        def once() -> float:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmds[k], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            wall_ms = (time.perf_counter() - t) * 1e3
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e3)
            return wall_ms
        return once

    runs = interleave({k: wall(k) for k in cmds}, reps)
    a = "A: as shipped"
    return [{"pair": k.split(":")[0].removeprefix("B "), "figure": "covkb determine as a new process, wall",
             **compare(runs, a, k, "ms", rate=False),
             "cpu_ms": {"a_median": statistics.median(cpu[a]), "b_median": statistics.median(cpu[k])}}
            for k in cmds if k.startswith("B ")]


# -- the plain request reader beside the pydantic model ----------------------------------------------------

def _readers() -> tuple[Callable[[], None], Callable[[], None]]:
    """Make the plain reader current (as shipped), or the pydantic model
    (read_request then hands every request to it)."""
    from covkb import untrusted

    layout = untrusted._layout

    def plain() -> None:
        untrusted._layout = layout

    def model() -> None:
        untrusted._layout = lambda vocabulary: None

    return plain, model


def part_request(reps: int, batch_lines: int) -> list[dict[str, Any]]:
    from covkb import KnowledgeBase
    from covkb.request import parse_request
    from covkb.untrusted import PlainRequest, read_request

    reqs = named_requests()
    kb = KnowledgeBase(today=TODAY)
    vocab = kb.vocabulary
    plain_reads = sum(isinstance(read_request(r, vocab), PlainRequest) for r in reqs)
    plain, model = _readers()
    for r in reqs:  # the same determination either way
        model()
        b = kb.determine(r).to_dict()
        plain()
        if kb.determine(r).to_dict() != b:
            raise SystemExit(f"request: the readers decide {r} differently")
    nothing = lambda: None  # noqa: E731
    out = []
    runs = take_turns({"A": (nothing, lambda r: read_request(r, vocab)), "B": (nothing, lambda r: parse_request(r, vocab))},
                      reqs, reps, 20, rate=False)
    out.append({"pair": "request", "figure": f"validation alone, named queries ({plain_reads} of {len(reqs)} read plainly)",
                **compare(runs, "A", "B", "µs/request", rate=False)})
    for explain in (True, False):
        decide = lambda r, explain=explain: kb.determine(r, explain=explain)  # noqa: E731
        runs = take_turns({"A": (plain, decide), "B": (model, decide)}, reqs, reps, 5, rate=True)
        plain()
        out.append({"pair": "request", "figure": f"KnowledgeBase.determine, Prolog, explain={explain}",
                    **compare(runs, "A", "B", "requests/s", rate=True)})
    kb.close()
    out += batch_pair(min(reps, 5), batch_lines)
    return out


def batch_pair(reps: int, lines: int) -> list[dict[str, Any]]:
    """covkb batch's own work for each distinct line (covkb.batch._decide_raw, covkb.batch_lines:
    read the request, its decision key, decide on a miss of the memo by
    decision key), in this process as a batch with one worker runs it, each
    side with a memo of its own, emptied every repetition.  A repeated line
    is not read at all (the reader remembers its record), so the distinct
    lines are where reading counts."""
    import synth

    from covkb import batch

    raws = list(dict.fromkeys(json.dumps(r, separators=(",", ":")) for r in synth.requests(lines)))
    batch._init_worker("prolog")
    plain, model = _readers()
    memo: dict[str, dict[Any, Any]] = {"A": {}, "B": {}}

    def current(side: str, reader: Callable[[], None]) -> Callable[[], None]:
        def make() -> None:
            reader()
            batch._decider.decided = memo[side]
        return make

    def empty() -> None:
        for m in memo.values():
            m.clear()

    try:
        runs = take_turns({"A": (current("A", plain), batch._decide_raw), "B": (current("B", model), batch._decide_raw)},
                          raws, reps, 1, rate=True, before_rep=empty)
    finally:
        plain()
        batch._decider.decided = {}
    return [{"pair": "request", "figure": f"covkb batch's work per line, Prolog, {len(raws):,} distinct lines",
             **compare(runs, "A", "B", "lines/s", rate=True)}]


# -- the evaluator's boundary: json_codec.pl beside library(http/json); C calls beside pyswip -------------

def _engine_sides(kb: Any, reqs: list[dict[str, Any]], sides: dict[str, Any], explain: bool,
                  reps: int) -> dict[str, list[float]]:
    """For each side (what PrologEngine calls for cases_json), KnowledgeBase.determine per second."""
    from covkb.engines import prolog

    def current(call: Any) -> Callable[[], None]:
        def make() -> None:
            prolog._text_calls["cases_json"] = call
        return make

    decide = lambda r: kb.determine(r, explain=explain)  # noqa: E731
    try:
        return take_turns({n: (current(c), decide) for n, c in sides.items()}, reqs, reps, 5, rate=True)
    finally:
        prolog._text_calls["cases_json"] = sides["A"]


def _same_answers(kb: Any, reqs: list[dict[str, Any]], sides: dict[str, Any], what: str) -> None:
    from covkb.engines import prolog

    for explain in (True, False):
        for r in reqs:
            answers = []
            for call in sides.values():
                prolog._text_calls["cases_json"] = call
                answers.append(kb.determine(r, explain=explain).to_dict())
            prolog._text_calls["cases_json"] = sides["A"]
            if any(a != answers[0] for a in answers):
                raise SystemExit(f"{what}: the sides decide {r} differently")


def _prolog_kb(reqs: list[dict[str, Any]]) -> Any:
    from covkb import KnowledgeBase
    from covkb.engines import prolog

    kb = KnowledgeBase(today=TODAY)
    for r in reqs:
        kb.determine(r)
    prolog._text_calls.setdefault("cases_json", prolog._TextCall("cases_json"))
    return kb


def part_json(reps: int) -> list[dict[str, Any]]:
    from pyswip import Functor

    from covkb.engines import prolog

    reqs = named_requests()
    kb = _prolog_kb(reqs)
    if not prolog._solve_once(Functor("use_module", 1)(str(HERE / "json_std.pl"))):
        raise SystemExit("cannot load bench/json_std.pl")
    api = prolog._TextCall._api

    def bench_call(pred: str) -> Any:
        call = prolog._TextCall.__new__(prolog._TextCall)
        call.pred = api.predicate(pred.encode(), 3, b"covkb_bench_json")
        return call

    sides = {"A": prolog._text_calls["cases_json"], "A, bench's copy of cases_json": bench_call("cases_json_cc"),
             "B": bench_call("cases_json_ll"), "B reader only": bench_call("cases_json_lc"),
             "B writer only": bench_call("cases_json_cl")}
    _same_answers(kb, reqs, sides, "json")
    out = []
    for explain in (True, False):
        runs = _engine_sides(kb, reqs, sides, explain, reps)
        for b in ("B", "B reader only", "B writer only", "A, bench's copy of cases_json"):
            out.append({"pair": "json", "figure": f"KnowledgeBase.determine, Prolog, explain={explain}",
                        **compare(runs, "A", b, "requests/s", rate=True)})
    kb.close()
    return out


class _PyswipCall:
    """The evaluator's text call through pyswip's Query (the goal a term, the
    answer read back as a Python value), as PrologEngine called it before
    its C calls."""

    def __init__(self, pred: str) -> None:
        self.pred = pred

    def __call__(self, module: str, text: str) -> bytes | None:
        from pyswip import Variable

        from covkb.engines import prolog

        out = Variable()
        res = prolog._solve_once(prolog._evaluator_goal(self.pred, module, text, out), out)
        if res is None:
            return None
        return res.encode("utf-8") if isinstance(res, str) else bytes(res)


def part_ctypes(reps: int) -> list[dict[str, Any]]:
    from covkb.engines import prolog

    reqs = named_requests()
    kb = _prolog_kb(reqs)
    sides = {"A": prolog._text_calls["cases_json"], "B": _PyswipCall("cases_json")}
    _same_answers(kb, reqs, sides, "ctypes")
    out = []
    for explain in (True, False):
        runs = _engine_sides(kb, reqs, sides, explain, reps)
        out.append({"pair": "ctypes", "figure": f"KnowledgeBase.determine, Prolog, explain={explain}",
                    **compare(runs, "A", "B", "requests/s", rate=True)})
    kb.close()
    return out


# -- the service's hot path beside FastAPI's routing -------------------------------------------------------

_HOT = "_hot_path(app, front, answers)"


def _without_hot_path(tmp: Path) -> Path:
    """A copy of pyapi/ whose app leaves every request to FastAPI (create_app
    returns its wrappers around the app itself rather than around _hot_path)."""
    shutil.copytree(REPO / "pyapi", tmp / "pyapi", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    app = tmp / "pyapi" / "covkb" / "service" / "app.py"
    text = app.read_text(encoding="utf-8")
    if text.count(_HOT) != 1:
        raise SystemExit(f"hot: covkb/service/app.py no longer calls {_HOT} once, as this bench expects")
    app.write_text(text.replace(_HOT, "app"), encoding="utf-8")
    return tmp / "pyapi"


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far, from /proc."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def part_hot(reps: int, levels: tuple[int, ...] = (8, 32)) -> list[dict[str, Any]]:
    import asyncio

    import httpx

    import service  # bench/service.py: the load generator (on uvloop) and tests/service_server.Server

    os.environ.setdefault("COVKB_KB", str(REPO / "kb"))  # the copy of pyapi/ finds the repository's kb/
    os.environ.setdefault("COVKB_QUERIES", str(REPO / "queries"))
    rest = service.rest_requests()
    with tempfile.TemporaryDirectory(prefix="covkb-fast-paths-") as tmp:
        servers = {"A": service.Server("--cache-size", "0", workers=2, today=str(TODAY)),
                   "B": service.Server("--cache-size", "0", workers=2, today=str(TODAY), pyapi=_without_hot_path(Path(tmp)))}
        try:
            reqs = {k: [service.http("POST", "/v1/determine", b, s.port) for b in rest] for k, s in servers.items()}
            pids = {k: s.worker_pids() for k, s in servers.items()}
            for k, s in servers.items():
                asyncio.run(service.load(s.port, reqs[k], 4, 300, 10))  # warm up
            for b in rest[:10]:
                got = [httpx.post(f"{s.url}/v1/determine", content=b, timeout=10,
                                  headers={"content-type": "application/json"}) for s in servers.values()]
                if got[0].status_code != got[1].status_code or got[0].json() != got[1].json():
                    raise SystemExit("hot: the two servers answer differently")
            out = []
            for n in levels:
                results: dict[str, list[dict]] = {"A": [], "B": []}

                def level(k: str, n: int = n, results: dict = results) -> float:
                    cpu = _cpu_seconds(pids[k])
                    res = asyncio.run(service.load(servers[k].port, reqs[k], n, 250 * n, 4.0))
                    res["server_cpu_us_per_request"] = (_cpu_seconds(pids[k]) - cpu) / res["requests"] * 1e6
                    if res["errors"]:
                        raise SystemExit(f"hot: {res['errors']} errors ({res['error_kinds']})")
                    results[k].append(res)
                    return res["throughput_rps"]

                runs = interleave({"A": lambda: level("A"), "B": lambda: level("B")}, reps)
                row = compare(runs, "A", "B", "requests/s", rate=True)
                for what in ("p50_ms", "p99_ms", "server_cpu_us_per_request"):
                    row[what] = {k: statistics.median(x[what] for x in results[k]) for k in results}
                out.append({"pair": "hot", "figure": f"POST /v1/determine, {n} clients, inline, 2 processes", **row})
            return out
        finally:
            for s in servers.values():
                s.stop()


# -- the run -------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {','.join(PARTS)}")
    ap.add_argument("--reps", type=int, default=7, help="repetitions of each side (more for cold start)")
    ap.add_argument("--batch-lines", type=int, default=60_000)
    ap.add_argument("--out", default=str(HERE / "results" / "fast_paths.json"))
    args = ap.parse_args()
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s) {', '.join(sorted(unknown))}")
    rows: list[dict[str, Any]] = []
    load0 = os.getloadavg()
    started = time.time()
    run = {"cold": lambda: part_cold(3 * args.reps), "request": lambda: part_request(args.reps, args.batch_lines),
           "json": lambda: part_json(args.reps), "ctypes": lambda: part_ctypes(args.reps),
           "hot": lambda: part_hot(args.reps)}
    for p in parts:
        t = time.perf_counter()
        got = run[p]()
        rows += got
        print(f"[{p}: {time.perf_counter() - t:.0f} s]", file=sys.stderr, flush=True)
        for r in got:
            print_row(r)
    res = {"date": dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
           "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_before": load0, "load_after": os.getloadavg()},
           "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(f"load average {load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after; results: {args.out}")
    return 0


def print_row(r: dict[str, Any]) -> None:
    verdict = "keep (>= 20 %)" if r["gain"] >= 0.20 else "< 20 %"
    print(f"{r['pair']:8} {r['figure']:60} A {r['a_median']:10,.1f}  {r['b']:32} {r['b_median']:10,.1f} {r['unit']:11}"
          f" A/B {r['ratio']:5.2f}  gain {r['gain'] * 100:+6.1f} %  {verdict}", flush=True)
    if "cpu_ms" in r:
        print(f"{'':8} CPU ms A {r['cpu_ms']['a_median']:.0f}, B {r['cpu_ms']['b_median']:.0f}", flush=True)
    if "server_cpu_us_per_request" in r:
        print(f"{'':8} " + "; ".join(f"{k} A {r[k]['A']:,.1f}, B {r[k]['B']:,.1f}"
                                     for k in ("p50_ms", "p99_ms", "server_cpu_us_per_request")), flush=True)


if __name__ == "__main__":
    sys.exit(main())
