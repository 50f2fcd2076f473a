"""`covkb export benchmark DIR`: the benchmark of coverage-policy
encodings, as a dataset.

For every installed policy and version, DIR/<policy>/<version>/ holds:

* ``source.txt``: the payer's text as published (``SOURCE.md`` says so);
* ``encoding/``: the reference encoding's fact files (the version's own,
  the policy's policy.pl and vocabulary.pl);
* ``vocabulary.json``: the request language (``covkb vocab --format json``);
* ``cases.jsonl`` and ``cases.parquet``: every named query, then a
  stratified sample of the scenarios (``covkb.scenarios``): per subject
  (each service, each code with each service and qualifier value) at most
  ``per_subject`` scenarios drawn with ``seed``, at most ``limit`` a
  version; each decided by the reference (the Prolog engine) with its
  outcome, deciding statement, criteria met, quotes and the justification
  in words (``covkb.sentences``).

DIR/manifest.json records the generator, the seed and what the sample
covers (statements, criteria, codes, outcomes) and leaves uncovered;
DIR/DATASHEET.md documents the fields.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

from .errors import CovkbError
from .limits import CLOSED_READING
from .policy import Policy, Version, policy_folders
from .scenarios import _Kb, _merge, _subjects
from .vocab_listing import groups

GENERATOR = "covkb.scenarios (every distinct relevant request), sampled per subject by covkb.benchmark"
LIMIT = 50_000
PER_SUBJECT = 40
TOP_UP_TRIES = 20_000  # scenarios tried to cover a statement or criterion the sample misses
DATASHEET = Path(__file__).parent / "templates" / "benchmark_datasheet.md"


def sample(policy: Policy, version: Version, *, seed: int, per_subject: int, limit: int) -> list[dict[str, Any]]:
    """A stratified sample of the version's scenarios: per subject, up to
    per_subject drawn at random (seeded) from its product space."""

    rng = random.Random(f"{seed}:{policy.id}:{version.id}")
    kb = _Kb(policy.data(version))
    out: list[dict[str, Any]] = []
    for fields, about, code in _subjects(kb):
        dims = kb.dimensions(kb.facts_of(about, code))
        n = 1
        for d in dims:
            n *= len(d)
        picks = sorted(rng.sample(range(n), min(per_subject, n)))
        for i in picks:
            combo, rest = [], i
            for d in reversed(dims):
                rest, j = divmod(rest, len(d))
                combo.append(d[j])
            out.append({**fields, **CLOSED_READING, **_merge(tuple(reversed(combo)))})
        if len(out) >= limit:
            break
    return out[:limit]


def case(kb: Any, request: dict[str, Any], version: Version, origin: str, name: str | None = None) -> dict[str, Any]:
    """One case: the request and what the reference decides for it."""
    from .sentences import read

    try:
        det = kb.determine(request, version=version.id)
    except CovkbError as exc:
        expected = {"outcome": exc.code, "error": exc.message}
        return {"origin": origin, "name": name, "request": request, "expected": expected}
    reading = read(det)
    return {"origin": origin, "name": name, "request": request, "expected": {
        "outcome": det.outcome, "statement": det.statement, "criteria_met": list(det.criteria_met),
        "possible_outcomes": list(det.possible_outcomes), "missing": list(det.missing),
        "quotes": [c.to_dict() for c in det.citations],
        "summary": reading.summary,
        "justification": [s.to_dict() for s in reading.justification]}}


def _top_up(kb: Any, policy: Policy, version: Version, cases: list[dict[str, Any]], seed: int,
            tries: int) -> list[dict[str, Any]]:
    """Scenarios that decide by a statement, or meet a criterion, the sample
    does not cover: the version's scenarios in a seeded random order, each
    decided (without explanation) until every one is covered or the tries
    run out (the manifest lists what stays uncovered)."""
    from .scenarios import scenarios

    want = _coverage(policy.data(version), cases)["not_covered"]
    need = {("statement", x) for x in want.get("statements", ())} | {("criterion", x) for x in want.get("criteria", ())}
    if not need:
        return []
    everything = list(scenarios(policy.data(version)))
    random.Random(f"top-up:{seed}:{policy.id}:{version.id}").shuffle(everything)
    out = []
    for request in everything[:tries]:
        try:
            det = kb.determine(request, explain=False, version=version.id)
        except CovkbError:
            continue
        got = {("statement", det.statement)} | {("criterion", c) for c in det.criteria_met}
        if got & need:
            need -= got
            out.append(request)
            if not need:
                break
    return out


def _in_force(policy: Policy, request: dict[str, Any]) -> str | None:
    """The version a named query without one is decided by: the one in force
    on its date of service (none given: the latest)."""
    from .request import parse_date

    when = request.get("date_of_service")
    try:
        return policy.version_in_force(parse_date(when))[0].id if when else policy.latest().id
    except CovkbError:
        return None


def _flat(c: dict[str, Any], policy: str, version: str) -> dict[str, Any]:
    """A case as a Parquet row: nested parts as JSON text."""
    e = c["expected"]
    return {"policy": policy, "version": version, "origin": c["origin"], "name": c["name"] or "",
            "request": json.dumps(c["request"], sort_keys=True), "outcome": e["outcome"],
            "statement": e.get("statement") or "", "criteria_met": e.get("criteria_met", []),
            "quotes": json.dumps(e.get("quotes", []), ensure_ascii=False), "summary": e.get("summary", ""),
            "justification": json.dumps(e.get("justification", []), ensure_ascii=False)}


def export_version(policy: Policy, version: Version, out: Path, *, seed: int, per_subject: int,
                   limit: int, top_up: int = 0) -> dict[str, Any]:
    """Write one version's part of the benchmark; return what it covers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .kb import KnowledgeBase
    from .queries import load_queries

    data = policy.data(version)
    out.mkdir(parents=True, exist_ok=True)
    (out / "source.txt").write_text(data.source_text, encoding="utf-8")
    (out / "SOURCE.md").write_text(
        f"source.txt is {policy.number} ({policy.title}), version {version.id}, as the payer published it; "
        "the text is the payer's and is reproduced for research only (see DATASHEET.md, licence notes).\n",
        encoding="utf-8")
    enc = out / "encoding"
    enc.mkdir(exist_ok=True)
    for f in (*version.files, policy.folder / "policy.pl", policy.folder / "vocabulary.pl"):
        shutil.copyfile(f, enc / f.name)
    (out / "vocabulary.json").write_text(json.dumps(groups(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    kb = KnowledgeBase("prolog", policy=policy.folder)
    cases = []
    for q in load_queries(policy.queries_dir) if policy.queries_dir.is_dir() else []:
        if q.version == version.id or (q.version is None and _in_force(policy, q.request) == version.id):
            cases.append(case(kb, q.request, version, "named_query", q.name))
    drawn = sample(policy, version, seed=seed, per_subject=per_subject, limit=limit)
    cases += [case(kb, r, version, "scenario") for r in drawn]
    cases += [case(kb, r, version, "scenario") for r in _top_up(kb, policy, version, cases, seed, top_up)]
    kb.close()
    with (out / "cases.jsonl").open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    pq.write_table(pa.Table.from_pylist([_flat(c, policy.id, version.id) for c in cases]), out / "cases.parquet")
    return _coverage(data, cases)


def _coverage(data: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    from .facts import atom

    seen = {"statements": {c["expected"].get("statement") for c in cases},
            "criteria": {x for c in cases for x in c["expected"].get("criteria_met", [])},
            "codes": {c["request"].get("cpt") for c in cases},
            "outcomes": {c["expected"]["outcome"] for c in cases}}
    every = {"statements": set(data.vocabulary.statements), "criteria": {atom(r[1]) for r in data.rows("criterion")},
             "codes": set(data.vocabulary.codes), "outcomes": set()}
    return {"cases": len(cases), "covered": {k: sorted(x for x in v if x) for k, v in seen.items()},
            "not_covered": {k: sorted(every[k] - seen[k]) for k in every if every[k] - seen[k]}}


def export(directory: Path, *, seed: int = 0, per_subject: int = PER_SUBJECT, limit: int = LIMIT,
           policies: list[str | Path] | None = None, top_up: int = TOP_UP_TRIES) -> dict[str, Any]:
    """The benchmark of every installed policy (or those given) and version."""
    manifest: dict[str, Any] = {"generator": GENERATOR, "seed": seed, "per_subject": per_subject, "top_up_tries": top_up,
                                "limit_per_version": limit, "versions": []}
    for folder in policies if policies is not None else policy_folders():
        policy = Policy(policy=folder)
        for v in policy.versions:
            cover = export_version(policy, v, directory / policy.id / v.id, seed=seed, per_subject=per_subject,
                                   limit=limit, top_up=top_up)
            manifest["versions"].append({"policy": policy.id, "number": policy.number, "version": v.id,
                                         "path": f"{policy.id}/{v.id}", **cover})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(DATASHEET, directory / "DATASHEET.md")
    return manifest


def load(directory: Path) -> list[dict[str, Any]]:
    """Every case of an exported benchmark, with its policy folder's id and version."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    out = []
    for v in manifest["versions"]:
        with (directory / v["path"] / "cases.jsonl").open(encoding="utf-8") as f:
            out += [{**json.loads(line), "policy": v["policy"], "version": v["version"]} for line in f]
    return out


__all__ = ["export", "load", "sample", "case"]
