"""How long `covkb score` takes on Cigna 0284 2025-02-15 (issue 25: under
30 s on 2 cores, a research loop scores many candidates).

Scores the reference against itself and each candidate of
docs/examples/candidates/, after the reference's scenario counts are in the
cache (the first score of a reference decides its scenarios once: timed
apart, as "cold").  Prints wall and CPU seconds for each (the process's and
its worker processes', which decide the candidate's scenarios) with the
load average (the machine may be shared: the CPU seconds are the figure to
compare) and writes bench/results/score.json.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyapi"))

from covkb.score import score  # noqa: E402

REFERENCE = "cigna_0284@2025-02-15"
BUDGET = 30.0  # seconds a candidate, the cache warm


def cpu_seconds() -> float:
    """This process's CPU time and its ended children's (the score's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(candidate: Path | str) -> dict[str, object]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    s = score(candidate, REFERENCE)
    return {"candidate": str(Path(candidate).name), "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(cpu_seconds() - cpu, 2), "load_1min": round(os.getloadavg()[0], 2),
            "agreement": round(s.agreement, 6),
            "scenarios": s.scenarios, "differ": s.scenarios - s.agreeing, "regions": len(s.regions)}


def main() -> int:
    cold = "--cold" in sys.argv
    if cold:
        os.environ["COVKB_CACHE"] = tempfile.mkdtemp(prefix="covkb-score-")
    rows = [timed(REPO / "kb" / "policies" / "cigna_0284")]  # fills the cache when cold
    if cold:
        rows[0]["cold"] = True
    rows += [timed(p) for p in sorted((REPO / "docs" / "examples" / "candidates").glob("*.toml"))]
    for r in rows:
        print(f"{r['candidate']:<28} {r['wall_s']:>7.1f} s wall {r['cpu_s']:>7.1f} s CPU  "
              f"load {r['load_1min']:>5.2f}  agreement {100 * r['agreement']:.2f} % ({r['differ']} of {r['scenarios']} differ)"
              f"{'  (cold: the reference decided once)' if r.get('cold') else ''}")
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    warm = rows[1:] if cold else rows
    slow = [r for r in warm if float(r["wall_s"]) > BUDGET]  # type: ignore[arg-type]
    if slow:
        print(f"over {BUDGET:.0f} s: {', '.join(str(r['candidate']) for r in slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
