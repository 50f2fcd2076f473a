"""Spark per executor core beside the local batch per core, JVM start excluded.

    python bench/spark_cores.py [--lines 40000] [--master 'local-cluster[2,1,1024]'] [--claims] [--where-read]

One synthetic file (bench/synth.py; ``--claims``: every line also names its
policy, Cigna 0284 or Aetna 0348 in turn, and carries a claim_id kept with
``--keep``) is decided by ``covkb.batch.run_batch`` with one worker (one
core) and by ``covkb.spark.run_spark_batch`` in a session started and warmed
beforehand (its executors' Python workers have loaded the knowledge bases on
a small file first), so the JVMs' and executors' start is not in the time.
Both outputs are checked equal.  Reported: decisions per second per core
(Spark: its executor cores, ``spark.executor.cores`` × executors) and the
ratio; the numbers go in docs/batch.md.  The machine's cores are shared by
the driver, the executors and anything else running: on a 2-core machine an
executor core is not a whole core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

from covkb.batch import run_batch  # noqa: E402


def write(path: str, n: int, claims: bool) -> int:
    distinct = set()
    with open(path, "w", encoding="utf-8") as f:
        for i, r in enumerate(synth.requests(n)):
            if claims:
                r = {"claim_id": f"C{i}", "policy": ("cigna_0284", "aetna_0348")[i % 2], **r}
                if r["policy"] == "aetna_0348":  # Aetna reads neither field
                    r.pop("analyte", None)
                    r.pop("substance", None)
            line = json.dumps(r, separators=(",", ":"))
            distinct.add(line)
            f.write(line + "\n")
    return len(distinct)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=40_000)
    ap.add_argument("--master", default="local-cluster[2,1,1024]")
    ap.add_argument("--claims", action="store_true")
    ap.add_argument("--where-read", action="store_true", help="decide each split where it was read (no shuffle)")
    a = ap.parse_args()
    keep = ["claim_id"] if a.claims else []
    from covkb.spark import run_spark_batch, session

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.jsonl")
        distinct = write(src, a.lines, a.claims)
        t = time.perf_counter()
        run_batch(src, os.path.join(tmp, "local.jsonl"), workers=1, keep=keep)
        local = a.lines / (time.perf_counter() - t)
        spark = session(a.master, "covkb bench", conf={"spark.executor.memory": "768m",
                                                       "spark.driver.memory": "768m"}, log_level="ERROR")
        try:
            cores = int(spark.sparkContext.getConf().get("spark.executor.cores", "0")) or None
            if cores is None and a.master.startswith("local-cluster["):
                n, c, _ = a.master[len("local-cluster["):-1].split(",")
                cores = int(n) * int(c)
            cores = cores or spark.sparkContext.defaultParallelism
            warm = os.path.join(tmp, "warm.jsonl")
            write(warm, 2_000, a.claims)
            for _ in range(2):  # every executor's Python workers up, their knowledge bases loaded
                run_spark_batch(warm, os.path.join(tmp, "warm-out.jsonl"), spark=spark, keep=keep)
            t = time.perf_counter()
            run_spark_batch(src, os.path.join(tmp, "spark.jsonl"), spark=spark, keep=keep, by_content=not a.where_read)
            on_spark = a.lines / (time.perf_counter() - t)
        finally:
            spark.stop()
        same = Path(tmp, "spark.jsonl").read_bytes() == Path(tmp, "local.jsonl").read_bytes()
    out = {"lines": a.lines, "distinct": distinct, "claims": a.claims, "by_content": not a.where_read,
           "master": a.master, "executor_cores": cores,
           "cpu_count": os.cpu_count(), "load": os.getloadavg()[0], "local_per_core": round(local, 1),
           "spark_per_executor_core": round(on_spark / cores, 1), "spark_total": round(on_spark, 1),
           "ratio": round(on_spark / cores / local, 3), "output_identical": same}
    print(json.dumps(out, indent=1))
    if not same:
        raise SystemExit("the Spark output differs from the local batch's")


if __name__ == "__main__":
    main()
