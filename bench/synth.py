"""Deterministic synthetic requests for the batch benchmark.

Drawn with a fixed seed from a finite space (every service and listed code,
pregnancy true/false/unknown, 0-4 losses, up to two findings), so a run is
repeatable; real claim files repeat their decision-relevant fields too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from covkb.policy import Policy


def requests(n: int, seed: int = 284) -> Iterator[dict]:
    data = Policy().data(Policy().latest())
    v = data.vocabulary
    services = sorted(v.services)
    codes = sorted(v.codes)
    findings = sorted(v.findings)
    qual_values = {q: list(xs) + ["other_value"] for q, xs in v.qualifier_values.items()}
    rnd = random.Random(seed)
    for _ in range(n):
        r: dict = {"date_of_service": "2025-06-01"}
        if rnd.random() < 0.5:
            r["service"] = rnd.choice(services)
        else:
            code = rnd.choice(codes)
            r["cpt"] = code
            q = v.code_qualifiers.get(code)
            if q and rnd.random() < 0.8:
                r[q] = rnd.choice(qual_values[q])
        p = rnd.random()
        if p < 0.4:
            r["pregnant"] = p < 0.2
        r["prior_pregnancy_losses"] = rnd.randint(0, 4)
        k = rnd.choice([0, 0, 1, 1, 2])
        if k:
            r["findings"] = sorted(rnd.sample(findings, k))
        yield r


def write_jsonl(path: str, n: int, seed: int = 284) -> int:
    """Write n requests; return how many distinct lines there are."""
    distinct = set()
    with open(path, "w", encoding="utf-8") as f:
        for r in requests(n, seed):
            line = json.dumps(r, separators=(",", ":"))
            distinct.add(line)
            f.write(line + "\n")
    return len(distinct)
