"""covkb serve under load and faults: `make bench-service` (`make run-service`
runs only the CRD and PAS examples).

Starts its own servers on 127.0.0.1 (free ports), and stops them.  Measures,
in one run, for each serve mode (inline, the default, then pool): p50/p99
latency and throughput of REST determine and CRD order-sign at 1, 8 and 32
concurrent clients (keep-alive HTTP/1.1 from a light asyncio client, so the
load generator costs little of the 2 CPUs), CRD order-sign for records never
seen before (every call a patient of its own: nothing about it remembered),
the engine process with the most work SIGKILLed under load (failed requests
counted, replacement timed) and SIGTERM under load (requests sent before it
that got no answer counted); beside them the in-process
KnowledgeBase.determine (and the in-process CRD answer) on the same
requests, and the default server with its answer memo on.  Every loop is
bounded in count and in seconds.  Writes bench/results/service.json.

    python bench/service.py --only latency --modes inline   # the fresh-decision levels only
    python bench/service.py --against OTHER/pyapi           # A/B beside another source tree, interleaved
    python bench/service.py --compare-gunicorn              # covkb serve beside gunicorn + uvicorn workers
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "pyapi"), str(REPO / "tests")]

import exchange  # noqa: E402
from service_server import Server  # noqa: E402

try:  # the load generator on uvloop (a uvicorn dependency): less of the 2 CPUs for the client
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
except ImportError:
    pass

TODAY = "2025-06-01"
LEVELS = (1, 8, 32)
PER_LEVEL = {1: 600, 8: 3000, 32: 8000}   # requests, at most
SECONDS = 20.0                            # per level, at most


def rest_requests() -> list[bytes]:
    from covkb import CovkbError, KnowledgeBase
    from covkb.queries import load_queries

    kb = KnowledgeBase(today=dt.date.fromisoformat(TODAY))
    out = []
    for q in load_queries():
        if q.version:
            continue
        try:
            kb.determine(q.request, explain=False)
        except CovkbError:
            continue
        out.append(json.dumps(q.request).encode())
    return out


def crd_requests() -> list[tuple[str, bytes]]:
    from covkb.service.examples import examples

    return [(ex["service"], json.dumps(ex["hook_request"]).encode()) for _n, ex in examples()
            if ex["service"] == "covkb-order-sign"]


def new_records(crd_reqs: list[tuple[str, bytes]], count: int, tag: str) -> list[tuple[str, bytes]]:
    """count calls, each the record of an example under a patient id of its
    own (tag keeps one run's apart from another's): a record never seen
    before, so nothing about it is remembered (the FHIR resources found
    valid) and its resources are validated in full."""
    out = []
    for i in range(count):
        sid, body = crd_reqs[i % len(crd_reqs)]
        pid = json.loads(body)["context"]["patientId"].encode()
        out.append((sid, body.replace(pid, pid + f"-{tag}{i}".encode())))
    return out


def http(method: str, path: str, body: bytes, port: int) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _client(port: int, reqs: list[bytes], quota: list[int], deadline: float, lat: list[float],
                  errors: list[str], sent: list[tuple[float, bool]] | None = None, offset: int = 0,
                  step: int = 1, taken: list[int] | None = None) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        errors.append(type(exc).__name__)
        return
    i = offset
    try:
        while quota[0] > 0 and time.monotonic() < deadline:
            quota[0] -= 1
            if taken is not None:  # the next request no client has sent
                i, taken[0] = taken[0], taken[0] + 1
            req = reqs[i % len(reqs)]
            i += step
            t0 = time.perf_counter()
            when = time.monotonic()
            try:
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                errors.append(type(exc).__name__)
                if sent is not None:
                    sent.append((when, False))
                return
            lat.append(time.perf_counter() - t0)
            if sent is not None:
                sent.append((when, status == 200))
            if status != 200:
                errors.append(f"HTTP {status}")
            if b"connection: close" in head.lower():
                return
    finally:
        writer.close()


async def load(port: int, reqs: list[bytes], clients: int, count: int, seconds: float,
               sent: list[tuple[float, bool]] | None = None, distinct: bool = False) -> dict:
    """distinct: no two requests the same (each the next one no client has
    sent; reqs must be at least count long)."""
    lat: list[float] = []
    errors: list[str] = []
    quota = [count]
    deadline = time.monotonic() + seconds
    taken = [0] if distinct else None
    t = time.perf_counter()
    await asyncio.gather(*(_client(port, reqs, quota, deadline, lat, errors, sent, k * 7, 1, taken) for k in range(clients)))
    wall = time.perf_counter() - t
    return {"clients": clients, **_stats(lat), "throughput_rps": round(len(lat) / wall, 1), "errors": len(errors),
            "error_kinds": sorted(set(errors))}


def _stats(lat: list[float]) -> dict:
    if not lat:
        return {"requests": 0, "p50_ms": None, "p99_ms": None}
    lat = sorted(lat)
    return {"requests": len(lat), "p50_ms": round(statistics.median(lat) * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2)}


def in_process(rest: list[bytes], crd_reqs: list[tuple[str, bytes]], count: int = 600) -> dict:
    """The same requests through KnowledgeBase.determine and the CRD answer, in this process."""
    from covkb import KnowledgeBase
    from covkb.policy import Policy
    from covkb.service import crd
    from covkb.service.fhir_map import load_mapping

    today = dt.date.fromisoformat(TODAY)
    out = {}
    for engine in ("prolog", "asp"):
        kb = KnowledgeBase(engine=engine, today=today)
        bodies = [json.loads(b) for b in rest]
        for b in bodies[:20]:
            kb.determine(b)
        for explain in (True, False):
            lat = []
            t = time.perf_counter()
            for i in range(count):
                t0 = time.perf_counter()
                kb.determine(bodies[i % len(bodies)], explain=explain)
                lat.append(time.perf_counter() - t0)
            out[f"determine_{engine}_explain_{str(explain).lower()}"] = {
                **_stats(lat), "throughput_rps": round(count / (time.perf_counter() - t), 1)}
        p = Policy()
        mapping = load_mapping(p)
        calls = [json.loads(b) for _s, b in crd_reqs]
        lat = []
        t = time.perf_counter()
        for i in range(count):
            t0 = time.perf_counter()
            crd.answer(crd.parse_call(json.dumps(calls[i % len(calls)]).encode(), "order-sign"), "order-sign", p, mapping,
                       lambda r: kb.determine(r, explain=False), base_url="http://x", engine=engine, today=today)
            lat.append(time.perf_counter() - t0)
        out[f"crd_order_sign_{engine}"] = {**_stats(lat), "throughput_rps": round(count / (time.perf_counter() - t), 1)}
        kb.close()
    return out


def run_examples(server: Server) -> int:
    from covkb.service import pas_examples
    from covkb.service.examples import run

    crd = max(run(server.url, engine=e) for e in ("prolog", "asp"))
    return max(crd, pas_examples.run(server.url))  # PAS: each decision is kept, so one engine


def kinds_for(port: int, rest: list[bytes], crd_reqs: list[tuple[str, bytes]], url: str = "") -> dict[str, list[bytes]]:
    return {**(exchange.exchange_kinds(url, port, http, {}) if url else {}),  # url: DTR and PAS too
        "rest_determine": [http("POST", "/v1/determine", b, port) for b in rest],
        "rest_determine_explain_false": [http("POST", "/v1/determine?explain=false", b, port) for b in rest],
        "crd_order_sign": [http("POST", f"/cds-services/{sid}", b, port) for sid, b in crd_reqs],
    }


NEW_RECORDS = "crd_order_sign_new_records"


def level_requests(kinds: dict[str, list[bytes]], kind: str, n: int, port: int, crd_reqs: list[tuple[str, bytes]],
                   tag: str) -> tuple[list[bytes], bool]:
    """The requests of one level, and whether each must be sent once only."""
    if kind == NEW_RECORDS:
        return [http("POST", f"/cds-services/{sid}", b, port) for sid, b in new_records(crd_reqs, PER_LEVEL[n] + n, tag)], True
    if kind == exchange.PAS_SUBMIT:  # a Bundle sent again gets the decision kept for it: each one new
        return exchange.fresh_submits(kinds[kind], PER_LEVEL[n], tag), True
    return kinds[kind], False


def against(base: Path, workers: int, rounds: int, rest: list[bytes], crd_reqs: list[tuple[str, bytes]]) -> dict:
    """Fresh-decision latency of this tree's server beside another tree's
    (base: its pyapi folder), both running, each level measured on one then
    the other, the order swapped every round, so that the machine's load
    falls on both alike (DTR and PAS too).  The ratios are this tree's figure over base's."""
    servers = {"base": Server("--cache-size", "0", workers=workers, today=TODAY, pyapi=base),
               "this": Server("--cache-size", "0", workers=workers, today=TODAY)}
    runs: dict[str, dict[str, dict[int, list[dict]]]] = {}
    try:
        kinds = {name: kinds_for(s.port, rest, crd_reqs, s.url) for name, s in servers.items()}
        for name, s in servers.items():
            for reqs in kinds[name].values():
                asyncio.run(load(s.port, reqs, 4, 200, 10))  # warm up
        for r in range(rounds):
            for kind in [*kinds["this"], NEW_RECORDS]:
                for n in LEVELS:
                    for name in (("base", "this") if (r + n) % 2 else ("this", "base")):
                        reqs, distinct = level_requests(kinds[name], kind, n, servers[name].port, crd_reqs, f"{name}{r}c{n}-")
                        res = asyncio.run(load(servers[name].port, reqs, n, PER_LEVEL[n], SECONDS, distinct=distinct))
                        runs.setdefault(kind, {}).setdefault(name, {}).setdefault(n, []).append(res)
                        print(f"round {r + 1} {kind:28} {name:4} {n:>2} clients: p50 {res['p50_ms']} ms, "
                              f"p99 {res['p99_ms']} ms, {res['throughput_rps']} req/s, errors {res['errors']}", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    out: dict = {"base": str(base), "rounds": rounds, "workers": workers, "kinds": {}}
    print(f"\n{'median over rounds':28} clients   base p50/p99 ms   this p50/p99 ms   ratio p50/p99   req/s base/this")
    for kind, by in runs.items():
        rows = []
        for n in LEVELS:
            med = {name: {k: statistics.median(x[k] for x in by[name][n]) for k in ("p50_ms", "p99_ms", "throughput_rps")}
                   for name in ("base", "this")}
            errors = {name: sum(x["errors"] for x in by[name][n]) for name in ("base", "this")}
            ratio = {k: round(med["this"][k] / med["base"][k], 2) for k in ("p50_ms", "p99_ms", "throughput_rps")}
            rows.append({"clients": n, "base": med["base"], "this": med["this"], "ratio": ratio, "errors": errors,
                         "runs": {name: by[name][n] for name in ("base", "this")}})
            print(f"{kind:28} {n:>7}   {med['base']['p50_ms']:6.1f} / {med['base']['p99_ms']:6.1f}   "
                  f"{med['this']['p50_ms']:6.1f} / {med['this']['p99_ms']:6.1f}   {ratio['p50_ms']:5.2f} / {ratio['p99_ms']:5.2f}"
                  f"   {med['base']['throughput_rps']:.0f} / {med['this']['throughput_rps']:.0f}   errors {errors}", flush=True)
        out["kinds"][kind] = rows
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples-only", action="store_true", help="only run the CRD examples (make run-service)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=("latency",), help="latency: the fresh-decision levels only (no faults, no memo)")
    ap.add_argument("--against", type=Path, metavar="PYAPI",
                    help="A/B: fresh-decision latency beside the server of another source tree (its pyapi folder, "
                         "e.g. from `git archive`), interleaved; writes bench/results/service_ab.json")
    ap.add_argument("--rounds", type=int, help="with --against (default 2) or --compare-gunicorn (default 3): rounds of "
                                               "every level on both servers")
    ap.add_argument("--modes", nargs="+", choices=("inline", "pool"), default=["inline", "pool"],
                    help="the serve modes measured (default: both, inline first)")
    ap.add_argument("--compare-gunicorn", action="store_true",
                    help="only covkb serve (inline) beside gunicorn + uvicorn workers, interleaved: the fresh-decision "
                         "levels, then the faults; writes bench/results/service_gunicorn.json (needs .[bench])")
    ap.add_argument("--fault-rounds", type=int, default=2, help="with --compare-gunicorn: rounds of the faults")
    ap.add_argument("--reuse-port", action="store_true",
                    help="with --compare-gunicorn: a third side, gunicorn --reuse-port (a listening socket per worker)")
    ap.add_argument("--clients", type=int, nargs="+", choices=LEVELS, default=list(LEVELS),
                    help="with --compare-gunicorn: the levels measured (default: 1 8 32)")
    ap.add_argument("--gunicorn-args", default="", help="with --compare-gunicorn: more gunicorn options (one string)")
    a = ap.parse_args()
    if a.examples_only:
        s = Server(workers=a.workers, today=None)
        try:
            return run_examples(s)
        finally:
            s.stop()
    out = REPO / "bench" / "results"
    if a.compare_gunicorn:
        sides = ["covkb", "gunicorn", *(["gunicorn-reuse-port"] if a.reuse_port else [])]
        results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average_at_start": os.getloadavg()},
                   "date": dt.date.today().isoformat(),
                   **compare_gunicorn(a.workers, a.rounds or 3, a.fault_rounds, sides, a.gunicorn_args.split(),
                                      rest_requests(), crd_requests(), tuple(a.clients))}
        results["machine"]["load_average_at_end"] = os.getloadavg()
        return _write(out / "service_gunicorn.json", results)
    if a.against:
        ab = against(a.against.resolve(), a.workers, a.rounds or 2, rest_requests(), crd_requests())
        out.mkdir(parents=True, exist_ok=True)
        (out / "service_ab.json").write_text(json.dumps(ab, indent=2) + "\n")
        print(f"wrote {out / 'service_ab.json'}")
        return 0

    rest = rest_requests()
    crd_reqs = crd_requests()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "workers": a.workers,
                     "distinct_rest_requests": len(rest), "distinct_crd_requests": len(crd_reqs), "modes": {}}
    if a.only is None:
        print(f"in-process baseline ({len(rest)} REST requests, {len(crd_reqs)} CRD calls, rotating) ...", flush=True)
        results["in_process"] = in_process(rest, crd_reqs)

    for mode in a.modes:
        print(f"-- covkb serve --mode {mode} --workers {a.workers}", flush=True)
        res = results["modes"][mode] = {}
        # every request decided by the engines (the answer memo off)
        s = Server("--mode", mode, "--cache-size", "0", workers=a.workers, today=TODAY)
        try:
            res.update(fresh_levels(s, rest, crd_reqs))
            if a.only is None:
                res["sigkill_under_load"] = kill_under_load(s, mode, a.workers, rest)
                res["sigterm_under_load"] = term_under_load(s, rest)
        finally:
            s.stop()
        exchange.jwt_levels(res, crd_reqs, ("--mode", mode, "--cache-size", "0"), a.workers, TODAY, {n: PER_LEVEL[n] for n in LEVELS},
                            lambda port, reqs, n: asyncio.run(load(port, reqs, n, PER_LEVEL[n], SECONDS, distinct=True)))
        exchange.report(res)
    if a.only == "latency":
        return _write(out / "service_latency.json", results)

    # the same requests again with the memo on (the default): repeated requests are looked up
    s = Server(workers=a.workers, today=TODAY)
    try:
        kinds = kinds_for(s.port, rest, crd_reqs)
        for kind, reqs in kinds.items():
            asyncio.run(load(s.port, reqs, 4, 200, 10))  # warm up, and fill the memo
            r = asyncio.run(load(s.port, reqs, 32, PER_LEVEL[32], SECONDS))
            results[f"{kind}_memo"] = [r]
            print(f"{kind + ' (memo)':30} 32 clients: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"{r['throughput_rps']} req/s, {r['requests']} requests, errors {r['errors']}", flush=True)
        # the HTTP stack's own ceiling: a route that does no work (GET /healthz)
        ping = [f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n".encode()]
        asyncio.run(load(s.port, ping, 4, 200, 5))
        r = asyncio.run(load(s.port, ping, 32, PER_LEVEL[32], SECONDS))
        results["healthz_ceiling"] = [r]
        print(f"{'GET /healthz (no engine)':30} 32 clients: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
              f"{r['throughput_rps']} req/s", flush=True)
    finally:
        s.stop()
    return _write(out / "service.json", results)


def fresh_levels(s: Server, rest: list[bytes], crd_reqs: list[tuple[str, bytes]]) -> dict:
    """Every kind at 1, 8 and 32 clients, every request decided (DTR and PAS too: bench/exchange.py)."""
    out: dict = {"not_measured": {}}  # the exchange's kinds this tree does not serve, and why
    kinds = kinds_for(s.port, rest, crd_reqs)
    kinds.update(exchange.exchange_kinds(s.url, s.port, http, out["not_measured"]))
    for kind in [*kinds, NEW_RECORDS]:
        if kind in kinds:
            asyncio.run(load(s.port, kinds[kind], 4, 200, 10))  # warm up
        out[kind] = []
        for n in LEVELS:
            reqs, distinct = level_requests(kinds, kind, n, s.port, crd_reqs, f"c{n}-")
            r = asyncio.run(load(s.port, reqs, n, PER_LEVEL[n], SECONDS, distinct=distinct))
            out[kind].append(r)
            print(f"{kind:30} {n:>2} clients: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"{r['throughput_rps']} req/s, {r['requests']} requests, errors {r['errors']}", flush=True)
    return out


def kill_under_load(s: Server, mode: str, workers: int, rest: list[bytes]) -> dict:
    """SIGKILL, under 32-client load, the engine process with the most work:
    in pool mode a busy worker (its requests are sent again), inline the
    server process holding the most connections (its requests in flight
    are lost: at most one per connection it held)."""
    reqs = kinds_for(s.port, rest, [])["rest_determine_explain_false"]
    before = s.health()["pool"]

    async def run() -> dict:
        task = asyncio.ensure_future(load(s.port, reqs, 32, 30000, 8))  # over at 8 s, whatever the speed
        await asyncio.sleep(2)
        held = None
        victim = None
        for _ in range(500):  # (health in a thread: the load generator's loop keeps sending meanwhile)
            pool = (await asyncio.to_thread(s.health))["pool"]
            if mode == "inline":
                busiest = max(pool["servers"], key=lambda x: x["connections"])
                victim, held = busiest["pid"], busiest["connections"]
            else:  # a worker in the middle of a request, if one is seen
                victim = next((w["pid"] for w in pool["workers"] if w["busy"]), None)
            if victim is not None:
                break
            await asyncio.sleep(0.01)
        victim = victim or (await asyncio.to_thread(s.worker_pids))[0]
        t = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        replaced_after = None
        key = "servers_replaced" if mode == "inline" else "replaced"
        while time.monotonic() - t < 30:
            if ((await asyncio.to_thread(s.health))["pool"][key] > before[key]
                    and len(await asyncio.to_thread(s.worker_pids)) == workers):
                replaced_after = round(time.monotonic() - t, 2)
                break
            await asyncio.sleep(0.05)
        r = await task
        return {**r, "killed_pid": victim, "connections_it_held": held, "replaced_in_s": replaced_after}

    fault = asyncio.run(run())
    if mode == "pool":
        fault["retried_by_the_pool"] = s.health()["pool"]["retried"] - before["retried"]
    print(f"SIGKILL under 32-client load: {fault['requests']} answered, {fault['errors']} failed "
          f"({'connections it held: ' + str(fault['connections_it_held']) if mode == 'inline' else str(fault.get('retried_by_the_pool')) + ' sent again'}), "
          f"replaced in {fault['replaced_in_s']} s", flush=True)
    return fault


def term_under_load(s: Server, rest: list[bytes]) -> dict:
    """SIGTERM under 32-client load: every request sent before it must be answered."""
    reqs = kinds_for(s.port, rest, [])["rest_determine_explain_false"]

    async def run() -> dict:
        sent: list[tuple[float, bool]] = []
        task = asyncio.ensure_future(load(s.port, reqs, 32, 20000, 15, sent))
        await asyncio.sleep(2)
        t_term = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        r = await task
        before_term = [ok for when, ok in sent if when < t_term]
        after_term = [ok for when, ok in sent if when >= t_term]
        return {"sent_before_sigterm": len(before_term), "lost_before_sigterm": before_term.count(False),
                "answered_after_sigterm": after_term.count(True), "refused_after_sigterm": after_term.count(False),
                "connect_errors": r["error_kinds"]}

    term = asyncio.run(run())
    term["exit_status"] = s.proc.wait(90)
    print(f"SIGTERM under 32-client load: {term['sent_before_sigterm']} requests sent before it, "
          f"{term['lost_before_sigterm']} lost; exit status {term['exit_status']}", flush=True)
    return term


# -- covkb serve beside gunicorn + uvicorn's worker class (--compare-gunicorn) -------------------

HANG_TIMEOUT = 6   # seconds: the fault servers' timeout (covkb serve --timeout, gunicorn --timeout)


def children(pid: int) -> list[int]:
    """The child processes of pid (the server processes of covkb serve's
    supervisor, the workers of gunicorn's master)."""
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def connections_by_pid(pids: list[int], port: int) -> dict[int, int]:
    """The established TCP connections to port each process holds, read from
    /proc (the same count for both process models)."""
    established = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:
                established.add(f[9])
    out = {}
    for pid in pids:
        n = 0
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(fd.path)
                except OSError:
                    continue
                n += link.startswith("socket:[") and link[8:-1] in established
        except OSError:
            pass
        out[pid] = n
    return out


class GunicornServer(Server):
    """covkb's app under gunicorn with uvicorn's worker class
    (bench/gunicorn_app.py), on a free port of 127.0.0.1: the interface of
    tests/service_server.Server that the benchmark uses (port, proc, health,
    worker_pids; stop is Server's: SIGTERM, then SIGKILL after the timeout).  A worker counts as serving once it has logged
    uvicorn's "Application startup complete" (its engines loaded)."""

    def __init__(self, *extra: str, workers: int = 2, today: str = TODAY, timeout: float = 30.0,
                 debug_ops: bool = False, start_timeout: float = 120) -> None:
        import dataclasses
        import subprocess
        import tempfile

        from covkb.service.app import Settings
        from service_server import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = Settings(workers=workers, cache_size=0, today=today, timeout=timeout, debug_ops=debug_ops,
                            auth=False)  # as Server: --no-auth (127.0.0.1)
        env = dict(os.environ, COVKB_GUNICORN_SETTINGS=json.dumps(dataclasses.asdict(settings)),
                   PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "pyapi"), str(REPO / "bench"),
                                                          os.environ.get("PYTHONPATH", "")) if p))
        self.dir = tempfile.TemporaryDirectory(prefix="covkb-gunicorn-")  # its working folder and log
        self.log_path = Path(self.dir.name) / "gunicorn.log"
        self.log = open(self.log_path, "wb")
        cmd = [sys.executable, "-m", "gunicorn", "-c", "python:gunicorn_app",  # post_fork: a session per worker
               "-k", "gunicorn_app.CovkbUvicornWorker", "-w", str(workers),
               "-b", f"127.0.0.1:{self.port}", "--timeout", str(int(timeout)), "--graceful-timeout", "60",
               "--log-level", "info", "--no-control-socket", *extra, "gunicorn_app:app()"]
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.dir.name, stdout=subprocess.DEVNULL, stderr=self.log)
        self.workers = workers
        deadline = time.monotonic() + start_timeout
        while len(self.worker_pids()) < workers:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.2)

    def ready(self) -> set[int]:
        import re

        return {int(m) for m in re.findall(r"\[(\d+)\] \[INFO\] Application startup complete", self.log_path.read_text())}

    def worker_pids(self) -> list[int]:
        ready = self.ready()
        return [p for p in children(self.proc.pid) if p in ready]


def _start(side: str, workers: int, gunicorn_args: list[str], timeout: float | None = None,
           debug_ops: bool = False) -> Server | GunicornServer:
    """A server of one side: covkb (covkb serve --mode inline, its supervisor)
    or gunicorn (gunicorn + uvicorn workers); the answer memo off."""
    if side == "covkb":
        args = ["--mode", "inline", "--cache-size", "0"]
        if timeout:
            args += ["--timeout", str(timeout)]
        if debug_ops:
            args.append("--debug-ops")
        return Server(*args, workers=workers, today=TODAY)
    extra = [*gunicorn_args, *(["--reuse-port"] if side == "gunicorn-reuse-port" else [])]
    return GunicornServer(*extra, workers=workers, timeout=timeout or 30.0, debug_ops=debug_ops)


async def _load_with_spread(s: Server | GunicornServer, reqs: list[bytes], clients: int) -> dict:
    """A level, and how its connections were spread over the processes
    (from /proc, 0.5 s and 1.5 s into the level, while it lasts)."""
    task = asyncio.ensure_future(load(s.port, reqs, clients, PER_LEVEL[clients], SECONDS))
    samples = []
    for pause in (0.5, 1.0):
        await asyncio.wait([task], timeout=pause)
        if task.done():
            break
        held = await asyncio.to_thread(connections_by_pid, children(s.proc.pid), s.port)
        samples.append(sorted(held.values(), reverse=True))
    r = await task
    return {**r, "connections_per_process": samples[-1] if samples else None, "connection_samples": samples}


def kill_compare(s: Server | GunicornServer, workers: int, rest: list[bytes]) -> dict:
    """SIGKILL, under 32-client load, the process holding the most
    connections (counted from /proc for both sides): requests failed, and
    the seconds until a new process serves (its engines loaded)."""
    reqs = kinds_for(s.port, rest, [])["rest_determine_explain_false"]

    async def run() -> dict:
        task = asyncio.ensure_future(load(s.port, reqs, 32, 30000, 8))
        await asyncio.sleep(2)
        held = await asyncio.to_thread(connections_by_pid, children(s.proc.pid), s.port)
        victim = max(held, key=lambda p: held[p])
        t = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        replaced = None
        while time.monotonic() - t < 30:
            pids = await asyncio.to_thread(s.worker_pids)
            if len(pids) == workers and victim not in pids:
                replaced = round(time.monotonic() - t, 2)
                break
            await asyncio.sleep(0.05)
        r = await task
        return {**r, "connections_per_process": sorted(held.values(), reverse=True),
                "connections_it_held": held[victim], "replaced_in_s": replaced}

    return asyncio.run(run())


async def _one_request(port: int, req: bytes, seconds: float) -> tuple[float, str]:
    """Send one request on a connection of its own: (seconds until the
    answer or the connection's end, what came back)."""
    t = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(req)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), seconds)
        writer.close()
        return time.monotonic() - t, f"HTTP {int(head[9:12])}"
    except (OSError, asyncio.IncompleteReadError) as exc:
        return time.monotonic() - t, type(exc).__name__
    except asyncio.TimeoutError:
        return time.monotonic() - t, "no answer"


def hang_compare(s: Server | GunicornServer, workers: int, rest: list[bytes]) -> dict:
    """An event loop stuck (POST /debug/block, as an engine that hangs inside
    a server process), with 8 clients' load beside it and the timeout at
    HANG_TIMEOUT s: when the stuck process was killed, when a new one
    served, and the requests that failed."""
    reqs = kinds_for(s.port, rest, [])["rest_determine_explain_false"]

    async def run() -> dict:
        task = asyncio.ensure_future(load(s.port, reqs, 8, 60000, HANG_TIMEOUT + 12))
        await asyncio.sleep(1)
        before = set(children(s.proc.pid))
        t = time.monotonic()
        block = asyncio.ensure_future(_one_request(s.port, http("POST", "/debug/block?seconds=60", b"", s.port),
                                                   HANG_TIMEOUT + 30))
        killed = replaced = None
        while time.monotonic() - t < HANG_TIMEOUT + 30:
            now = {p for p in children(s.proc.pid) if alive(p)}
            if killed is None and before - now:
                killed = round(time.monotonic() - t, 2)
            if killed is not None:
                if len(await asyncio.to_thread(s.worker_pids)) == workers:
                    replaced = round(time.monotonic() - t, 2)
                    break
            await asyncio.sleep(0.05)
        closed_after, outcome = await block
        r = await task
        return {**r, "stuck_process_killed_in_s": killed, "replaced_in_s": replaced,
                "stuck_request": outcome, "stuck_connection_closed_in_s": round(closed_after, 2)}

    return asyncio.run(run())


def master_kill_compare(s: Server | GunicornServer, rest: list[bytes]) -> dict:
    """kill -9 of the supervisor (covkb serve) or the master (gunicorn) under
    32-client load: do its processes go on serving, orphaned, and do they
    hold the port?  The orphans are then stopped (SIGTERM, by pid)."""
    import socket

    reqs = kinds_for(s.port, rest, [])["rest_determine_explain_false"]
    kids = children(s.proc.pid)

    async def run() -> dict:
        task = asyncio.ensure_future(load(s.port, reqs, 32, 30000, 5))
        await asyncio.sleep(2)
        os.kill(s.proc.pid, signal.SIGKILL)
        return await task

    during = asyncio.run(run())
    s.proc.wait()
    time.sleep(3)
    orphans = [p for p in kids if alive(p)]
    after = asyncio.run(load(s.port, reqs, 8, 400, 5))  # still answering, with no supervisor?
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", s.port))
            port_free = True
        except OSError:
            port_free = False
    out = {"load_while_killed": during, "processes": len(kids), "alive_3s_after": len(orphans),
           "answered_after": after["requests"], "errors_after": after["errors"], "port_free_for_a_new_server": port_free}
    for p in orphans:  # ours: stop them
        os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(alive(p) for p in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    out["orphans_exited_on_sigterm"] = sum(not alive(p) for p in orphans)
    for p in orphans:
        if alive(p):
            os.kill(p, signal.SIGKILL)
    return out


def compare_gunicorn(workers: int, rounds: int, fault_rounds: int, sides: list[str], gunicorn_args: list[str],
                     rest: list[bytes], crd_reqs: list[tuple[str, bytes]], levels: tuple[int, ...] = LEVELS) -> dict:
    """covkb serve (inline: its own supervisor) beside gunicorn with uvicorn's
    worker class, the same app deciding in each process: the fresh-decision
    levels (every side running, each level measured on one side then the
    other, the order turned at every level), then the faults on fresh
    servers (SIGKILL of the busiest process, a stuck event loop, SIGTERM,
    all under load), then kill -9 of the supervisor / master."""
    out: dict = {"sides": sides, "workers": workers, "rounds": rounds, "fault_rounds": fault_rounds, "clients": levels,
                 "gunicorn_args": gunicorn_args, "levels": {}, "faults": {}}
    runs: dict[str, dict[str, dict[int, list[dict]]]] = {}
    servers = {}
    try:
        for side in sides:
            servers[side] = _start(side, workers, gunicorn_args)
        kinds = {side: kinds_for(s.port, rest, crd_reqs) for side, s in servers.items()}
        for side, s in servers.items():
            for reqs in kinds[side].values():
                asyncio.run(load(s.port, reqs, 4, 200, 10))  # warm up
        step = 0
        for r in range(rounds):
            for kind in kinds[sides[0]]:
                for n in levels:
                    order = sides[step % len(sides):] + sides[:step % len(sides)]
                    step += 1
                    for side in order:
                        s = servers[side]
                        res = asyncio.run(_load_with_spread(s, kinds[side][kind], n))
                        runs.setdefault(kind, {}).setdefault(side, {}).setdefault(n, []).append(res)
                        print(f"round {r + 1} {kind:28} {side:19} {n:>2} clients: p50 {res['p50_ms']} ms, "
                              f"p99 {res['p99_ms']} ms, {res['throughput_rps']} req/s, errors {res['errors']}, "
                              f"connections per process {res['connection_samples']}", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    print(f"\n{'median over rounds (min-max)':28} clients  " + "  ".join(f"{side:>34}" for side in sides))
    for kind, by in runs.items():
        rows = []
        for n in levels:
            row: dict = {"clients": n}
            cells = []
            for side in sides:
                xs = by[side][n]
                med = {k: statistics.median(x[k] for x in xs) for k in ("p50_ms", "p99_ms", "throughput_rps")}
                spread = {k: [min(x[k] for x in xs), max(x[k] for x in xs)] for k in ("p99_ms", "throughput_rps")}
                row[side] = {**med, "spread": spread, "errors": sum(x["errors"] for x in xs),
                             "connections_per_process": [x["connections_per_process"] for x in xs], "runs": xs}
                cells.append(f"{med['p50_ms']:5.1f} / {med['p99_ms']:5.1f} ({spread['p99_ms'][0]:.1f}-{spread['p99_ms'][1]:.1f})"
                             f" {med['throughput_rps']:6.0f}/s")
            rows.append(row)
            print(f"{kind:28} {n:>7}  " + "  ".join(f"{c:>34}" for c in cells), flush=True)
        out["levels"][kind] = rows

    faults = out["faults"]
    for fr in range(fault_rounds):
        order = sides[fr % len(sides):] + sides[:fr % len(sides)]
        servers = {}
        try:
            for side in order:
                servers[side] = _start(side, workers, gunicorn_args, timeout=HANG_TIMEOUT, debug_ops=True)
            for side in order:
                k = kill_compare(servers[side], workers, rest)
                faults.setdefault(side, {}).setdefault("sigkill_under_load", []).append(k)
                print(f"fault round {fr + 1} {side:19} SIGKILL of the busiest process under 32 clients: {k['requests']} answered, "
                      f"{k['errors']} failed, it held {k['connections_it_held']} of {k['connections_per_process']}, "
                      f"replaced (serving) in {k['replaced_in_s']} s", flush=True)
            for side in order:
                h = hang_compare(servers[side], workers, rest)
                faults[side].setdefault("stuck_under_load", []).append(h)
                print(f"fault round {fr + 1} {side:19} stuck event loop (timeout {HANG_TIMEOUT} s), 8 clients: killed in "
                      f"{h['stuck_process_killed_in_s']} s, replaced in {h['replaced_in_s']} s, {h['requests']} answered, "
                      f"{h['errors']} failed, the stuck request: {h['stuck_request']} after {h['stuck_connection_closed_in_s']} s",
                      flush=True)
            for side in order:
                print(f"fault round {fr + 1} {side:19} ", end="", flush=True)
                t = term_under_load(servers[side], rest)
                faults[side].setdefault("sigterm_under_load", []).append(t)
        finally:
            for s in servers.values():
                s.stop()
    for side in sides:
        s = _start(side, workers, gunicorn_args)
        try:
            m = master_kill_compare(s, rest)
        finally:
            s.stop()
        faults.setdefault(side, {})["master_sigkill_under_load"] = m
        print(f"{side:19} kill -9 of the {'supervisor' if side == 'covkb' else 'master'} under 32 clients: "
              f"{m['load_while_killed']['requests']} answered, {m['load_while_killed']['errors']} failed; "
              f"{m['alive_3s_after']} of {m['processes']} processes alive 3 s later, answering {m['answered_after']} "
              f"requests ({m['errors_after']} failed); port free for a new server: {m['port_free_for_a_new_server']}; "
              f"orphans that exited on SIGTERM: {m['orphans_exited_on_sigterm']}", flush=True)
    return out


def _write(path: Path, results: dict) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
