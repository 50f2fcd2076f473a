"""The compiled decision tables (covkb.compiled): each entry equals both
engines, an answer from the table reads byte for byte as the engine's, and a
table that is stale, corrupt or tampered with is never trusted.

Tiers (as tests/test_engine_agreement.py):

* `make test`: for every version, a table compiled from a fresh random
  sample of its scenarios (COVKB_COMPILED_SAMPLE, default 30 scenarios: about
  60 projections with their request-style variants; 100 gives the ~200 of
  the issue, at about 4x the time), in this process;
  building it checks both engines equal on each entry, and every sampled
  request is then answered with and without the table, by both engines, in
  the same bytes; random claim-like requests (2 x COVKB_COMPILED_SAMPLE)
  and the named queries of the frozen corpus likewise; a stale,
  corrupt, tampered and foreign table is ignored;
* `make test-exhaustive`: every scenario of every version, in shards (each
  shard's table built by both engines and checked entry by entry, every
  scenario answered alike with and without it), and every group of the
  frozen corpus with explain false and true.
"""

from __future__ import annotations

import functools
import json
import os
import random
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from covkb import CovkbError, KnowledgeBase
from covkb import compiled
from covkb.compile_build import compile_version
from covkb.kbdigest import kb_digest
from covkb.policy import Policy
from covkb.scenarios import scenarios, size
from test_engine_agreement import CORPUS_GROUPS, SHARDS, TARGETS, TEST_POLICY, TODAY, _name, sample_seed

SAMPLE = int(os.environ.get("COVKB_COMPILED_SAMPLE", "30"))


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own state directory (its tables), and the tables on."""
    monkeypatch.setenv("COVKB_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("COVKB_COMPILED", raising=False)
    return tmp_path / "state"


def _install(policy: Policy, version_id: str, doc: dict[str, Any]) -> Path:
    data = policy.data(version_id)
    digest = kb_digest(data)
    path = compiled.table_path(digest)
    compiled._write(path, {"format": compiled.FORMAT, "policy": policy.number, "version": version_id,
                           "digest": digest}, doc)
    return path


def _answer(kb: KnowledgeBase, request: dict[str, Any], version: str | None, explain: bool) -> str:
    try:
        return json.dumps(kb.determine(request, explain=explain, version=version).to_dict(explanation=explain),
                          ensure_ascii=False)
    except CovkbError as exc:
        return json.dumps({"error": exc.to_dict()})


def _alike(policy_ref: str, requests: list[tuple[str | None, dict[str, Any]]], explains: tuple[bool, ...],
           monkeypatch: pytest.MonkeyPatch) -> int:
    """Every request answered by both engines with the table and without it
    (COVKB_COMPILED=0): the same bytes.  Returns how many the table answered."""
    hits = 0
    for engine in ("prolog", "asp"):
        with_table = KnowledgeBase(engine=engine, policy=policy_ref, today=TODAY)
        monkeypatch.setenv("COVKB_COMPILED", "0")
        without = KnowledgeBase(engine=engine, policy=policy_ref, today=TODAY)
        monkeypatch.delenv("COVKB_COMPILED")
        bad = []
        for version, req in requests:
            for explain in explains:
                a = _answer(with_table, req, version, explain)
                monkeypatch.setenv("COVKB_COMPILED", "0")
                b = _answer(without, req, version, explain)
                monkeypatch.delenv("COVKB_COMPILED")
                if a != b:
                    bad.append((version, req, explain, a, b))
        if engine == "asp":
            hits = sum(1 for version, req in requests if _hit(with_table, req, version))
        assert not bad, f"{len(bad)} of {len(requests)} answers differ with the table ({engine}); the first: {bad[0]}"
    return hits


def _hit(kb: KnowledgeBase, req: dict[str, Any], version: str | None) -> bool:
    try:
        r, v, _ = kb._reading(req, version)
    except CovkbError:
        return False
    table = compiled.load(kb.policy.data(v))
    return table is not None and table.lookup(r) is not None


def _selected(policy_ref: str, version: str, chosen: set[int]) -> Iterator[dict[str, Any]]:
    """The chosen scenarios, each as written and in the request style (covkb.compiled.variants)."""
    kb = KnowledgeBase(engine="asp", policy=policy_ref, today=TODAY)
    data = kb.policy.data(version)
    quals = sorted(data.vocabulary.qualifiers)
    for i, req in enumerate(scenarios(data)):
        if i in chosen:
            subject = {k: req[k] for k in ("service", "cpt", *quals) if k in req}
            try:
                rel = kb.engine(kb.policy.resolve(version)).relevant_findings(kb.parse(subject).engine_dict())
            except CovkbError:
                rel = frozenset()
            yield from compiled.variants(req, rel)


@pytest.mark.slow
@pytest.mark.parametrize("policy_ref,version", TARGETS, ids=[f"{_name(p)}@{v}" for p, v in TARGETS])
def test_a_sample_of_the_table_equals_both_engines(policy_ref: str, version: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy(policy=policy_ref)
    seed = sample_seed()
    rng = random.Random(f"compiled/{seed}/{_name(policy_ref)}/{version}")
    total = size(policy.data(version))
    chosen = set(rng.sample(range(total), min(SAMPLE, total)))
    built = compile_version(policy, policy.resolve(version), workers=0, select=chosen.__contains__)
    assert built.projections > 0
    _install(policy, version, built.doc)
    requests = [(version, r) for r in _selected(policy_ref, version, chosen)]
    hits = _alike(policy_ref, requests, (False,), monkeypatch)
    assert hits >= built.projections - built.refused, f"COVKB_SAMPLE_SEED={seed}"


def _corpus(group: str) -> tuple[str, list[tuple[str | None, dict[str, Any]]]]:
    items = CORPUS_GROUPS[group]
    return items[0][0], [(v, r) for _, v, r in items]


def _corpus_table(policy_ref: str, requests: list[tuple[str | None, dict[str, Any]]]) -> None:
    """Tables for the versions these requests are decided by, compiled from the requests themselves."""
    policy = Policy(policy=policy_ref)
    kb = KnowledgeBase(engine="asp", policy=policy_ref, today=TODAY)
    by_version: dict[str, list[dict[str, Any]]] = {}
    for version, req in requests:
        try:
            _, v, _ = kb._reading(req, version)
        except CovkbError:
            continue
        if v.knowledge != "draft":
            by_version.setdefault(v.id, []).append(req)
    for vid, reqs in by_version.items():
        _install(policy, vid, compile_version(policy, policy.resolve(vid), workers=0, given=reqs).doc)


def _random_requests(policy: Policy, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Requests as claims hold them, drawn over the whole vocabulary: fields a
    subject does not read, counts anywhere in a small range, either reading."""
    data = policy.data(policy.latest())
    v = data.vocabulary
    codes_of: dict[str, list[str]] = {}
    for r in data.rows("listed_code_implies"):
        codes_of.setdefault(str(r[0]), []).append(r[1])
    out = []
    for _ in range(n):
        r: dict[str, Any] = {"date_of_service": (policy.latest().effective or TODAY).isoformat()}
        if rng.random() < 0.5 or not v.codes:
            r["service"] = rng.choice(sorted(v.services))
        else:
            r["cpt"] = rng.choice(sorted(v.codes))
            q = v.code_qualifiers.get(r["cpt"])
            if q and rng.random() < 0.7:
                r[q] = rng.choice(sorted(v.qualifier_values[q]))
        for f in sorted(v.fields.values(), key=lambda f: f.name):
            if rng.random() < 0.5:
                continue
            lo = f.minimum or 0
            if f.kind in ("boolean", "choice"):
                r[f.name] = f.request_value(rng.choice(f.values))
            elif f.numeric:
                r[f.name] = rng.randint(lo, min(f.maximum if f.maximum is not None else lo + 12, lo + 12))
            elif codes_of.get(f.name):
                r[f.name] = sorted(set(rng.sample(sorted(set(codes_of[f.name])), 1)))
        r["findings"] = sorted(rng.sample(sorted(v.findings), rng.choice([0, 1, 1, 2, 3])))
        if rng.random() < 0.3:
            r["unlisted_findings"] = "absent"
        out.append(r)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("policy_ref", sorted({p for p, _ in TARGETS}), ids=lambda p: _name(p))
def test_requests_as_claims_hold_them_read_alike_with_the_table(policy_ref: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table compiled from random requests answers each of them (and every
    other with the same projection) as the engines do: the projection leaves
    out only what cannot change the decision."""
    seed = sample_seed()
    policy = Policy(policy=policy_ref)
    rng = random.Random(f"claims/{seed}/{_name(policy_ref)}")
    requests = [(None, r) for r in _random_requests(policy, 2 * SAMPLE, rng)]
    _corpus_table(policy_ref, requests[:SAMPLE])  # the other half: hits where a projection is shared
    hits = _alike(policy_ref, requests, (False,), monkeypatch)
    print(f"{hits} of {len(requests)} random requests answered from a table of the first {SAMPLE}")
    assert hits > 0, f"COVKB_SAMPLE_SEED={seed}"


@pytest.mark.parametrize("engine", ["prolog", "asp"])
def test_an_answer_from_the_table_says_its_decision_with_the_requests_own_count(
        engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry stands for a band of counts: its deciding facts keep no count
    (the file holds none), and each answer's summary names the request's own,
    as the engine's does, without the explanation as with it."""
    policy = Policy(policy=TEST_POLICY)
    version = policy.versions[0].id
    ahi = lambda n: {"date_of_service": "2026-06-01", "service": "cpap_device",  # noqa: E731
                     "apnea_hypopnea_index": n}
    path = _install(policy, version, compile_version(policy, policy.resolve(version), workers=0,
                                                     given=[ahi(15)]).doc)
    assert '"number":null' in path.read_text() and '"number":15' not in path.read_text()
    kb = KnowledgeBase(engine=engine, policy=TEST_POLICY, today=TODAY)
    said = {n: kb.determine(ahi(n), explain=False).to_dict(explanation=False)["summary"] for n in (15, 40)}
    assert said[40] == said[15].replace(": 15)", ": 40)") and said[40].endswith("on the sleep study: 40).")
    assert said[40] == kb.determine(ahi(40)).to_dict()["summary"]
    assert _alike(TEST_POLICY, [(None, ahi(n)) for n in (15, 16, 99)], (False,), monkeypatch) == 3


QUERY_GROUPS = sorted(g for g in CORPUS_GROUPS if g.endswith(":queries"))


@pytest.mark.slow
@pytest.mark.parametrize("group", QUERY_GROUPS)
def test_the_named_queries_read_alike_with_the_table(group: str, monkeypatch: pytest.MonkeyPatch) -> None:
    policy_ref, requests = _corpus(group)
    _corpus_table(policy_ref, requests)
    assert _alike(policy_ref, requests, (False, True), monkeypatch) > 0


@pytest.mark.exhaustive
@pytest.mark.parametrize("group", sorted(CORPUS_GROUPS))
def test_the_corpus_reads_alike_with_the_table(group: str, monkeypatch: pytest.MonkeyPatch) -> None:
    policy_ref, requests = _corpus(group)
    _corpus_table(policy_ref, requests)
    _alike(policy_ref, requests, (False, True), monkeypatch)


# Building every entry with both engines and answering every scenario with and without the table costs
# about four engine-agreement sweeps (hours on 2 cores): make test-exhaustive takes one scenario in
# STRIDE of each shard, which one chosen by the run's seed (so runs cover the space in turn);
# COVKB_COMPILED_FULL=1 (make test-compiled) takes them all.
STRIDE = 1 if os.environ.get("COVKB_COMPILED_FULL") == "1" else 64


@pytest.mark.exhaustive
@pytest.mark.parametrize("policy_ref,version,shard,shards", SHARDS,
                         ids=[f"{_name(p)}@{v}-{k + 1}of{n}" for p, v, k, n in SHARDS])
def test_every_entry_equals_both_engines(policy_ref: str, version: str, shard: int, shards: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shards-th scenario from shard on (one in STRIDE of them): its table built by both
    engines (a disagreement fails the build), then every scenario answered alike with it and without."""
    policy = Policy(policy=policy_ref)
    off = int(sample_seed()) % STRIDE

    def mine(i: int) -> bool:
        return i % shards == shard and (i // shards) % STRIDE == off

    built = compile_version(policy, policy.resolve(version), workers=0, select=mine)
    _install(policy, version, built.doc)
    chosen = {i for i in range(size(policy.data(version))) if mine(i)}
    _alike(policy_ref, [(version, r) for r in _selected(policy_ref, version, chosen)], (False,), monkeypatch)


# -- what is not trusted ------------------------------------------------------------------------------------

SMALL = str(Path(__file__).resolve().parents[1] / "kb" / "policies" / "aetna_0348")


@functools.cache
def _small_doc() -> str:
    policy = Policy(policy=SMALL)
    return json.dumps(compile_version(policy, policy.versions[0], workers=0, select=lambda i: i < 20).doc)


def _small_table() -> tuple[Policy, str, Path]:
    """A table of the first scenarios of a small policy, in this test's state directory."""
    policy = Policy(policy=SMALL)
    version = policy.versions[0].id
    return policy, version, _install(policy, version, json.loads(_small_doc()))


def test_a_table_loads_when_current_and_intact() -> None:
    policy, version, _ = _small_table()
    table = compiled.load(policy.data(version))
    assert table is not None and table.entries and table.version == version


def test_a_stale_table_is_ignored_quietly(recwarn: pytest.WarningsRecorder) -> None:
    policy, version, path = _small_table()
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(json.dumps({**json.loads(head), "digest": "0" * 64}).encode() + b"\n" + body)
    assert compiled.load(policy.data(version)) is None
    assert not [w for w in recwarn if issubclass(w.category, compiled.TableIgnored)]


def test_a_table_of_an_older_format_is_ignored_quietly(recwarn: pytest.WarningsRecorder) -> None:
    """covkb-compiled/1's entries have no deciding facts: such a table is stale, not trusted half."""
    policy, version, path = _small_table()
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(json.dumps({**json.loads(head), "format": "covkb-compiled/1"}).encode() + b"\n" + body)
    assert compiled.load(policy.data(version)) is None
    assert not [w for w in recwarn if issubclass(w.category, compiled.TableIgnored)]


@pytest.mark.parametrize("damage", ["an outcome changed", "truncated", "not JSON", "others may write it"])
def test_a_corrupt_or_tampered_table_is_ignored_with_a_warning(damage: str) -> None:
    policy, version, path = _small_table()
    text = path.read_bytes()
    if damage == "an outcome changed":
        head, _, body = text.partition(b"\n")
        doc = json.loads(body)
        doc["entries"][0][0] = "medically_necessary" if doc["entries"][0][0] != "medically_necessary" else "not_covered"
        path.write_bytes(head + b"\n" + json.dumps(doc, separators=(",", ":")).encode())
    elif damage == "truncated":
        path.write_bytes(text[: len(text) // 2])
    elif damage == "not JSON":
        path.write_bytes(b"\x80\x00 import os\n" + text)
    else:
        path.chmod(path.stat().st_mode | stat.S_IWOTH)
    with pytest.warns(compiled.TableIgnored, match="is ignored"):
        assert compiled.load(policy.data(version)) is None
    # the answer comes from the engine, as without a table
    kb = KnowledgeBase(engine="asp", policy=SMALL, today=TODAY)
    service = sorted(policy.data(version).vocabulary.services)[0]
    with pytest.warns(compiled.TableIgnored):
        det = kb.determine({"service": service}, explain=False, version=version)
    path.unlink()
    fresh = KnowledgeBase(engine="asp", policy=SMALL, today=TODAY)
    assert det.to_dict() == fresh.determine({"service": service}, explain=False, version=version).to_dict()


def test_a_draft_has_no_table() -> None:
    drafts = sorted((Path(__file__).resolve().parents[1] / "queries" / "drafts").glob("*.toml"))
    if not drafts:
        pytest.skip("no example draft")
    policy = Policy()
    assert compiled.load(policy.data(policy.resolve(str(drafts[0])))) is None


@pytest.mark.slow
def test_covkb_compile_builds_with_workers_then_keeps_a_current_table(_state: Path) -> None:
    env = {**os.environ, "COVKB_STATE": str(_state)}
    run = lambda: subprocess.run([sys.executable, "-m", "covkb.cli", "compile", "--policy", SMALL, "--workers", "1"],  # noqa: E731
                                 capture_output=True, text=True, env=env, timeout=300)
    first = run()
    assert first.returncode == 0, first.stderr
    assert "distinct decisions" in first.stderr and "546 projections" in first.stderr
    second = run()
    assert second.returncode == 0 and "already current" in second.stderr
    policy = Policy(policy=SMALL)
    assert compiled.load(policy.data(policy.versions[0])) is not None


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["prolog", "asp"])
def test_a_batch_writes_the_same_records_with_the_table(engine: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """covkb batch decides through KnowledgeBase.determine(explain=False): with
    a table its records are the engine's, byte for byte, citations and the
    decision sentence (summary) included."""
    from covkb.batch import run_batch

    policy = Policy()
    rng = random.Random(f"batch/{sample_seed()}")
    requests = [(None, r) for r in _random_requests(policy, 2 * SAMPLE, rng)]
    _corpus_table(str(policy.folder), requests[:SAMPLE])
    src = tmp_path / "claims.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for _, r in requests), encoding="utf-8")
    out = {}
    for side in ("table", "engine"):
        if side == "engine":
            monkeypatch.setenv("COVKB_COMPILED", "0")
        run_batch(str(src), str(tmp_path / f"{side}.jsonl"), engine=engine, workers=1, citations=True)
        out[side] = (tmp_path / f"{side}.jsonl").read_bytes()
        if side == "table":  # the run's KnowledgeBase answered from a table
            from covkb import batch

            assert any(t is not None for _, t in batch._decider.kb._tables.values())
    assert out["table"] == out["engine"]
    assert out["table"].count(b"\n") == len(requests)
    records = [json.loads(line) for line in out["table"].splitlines()]
    assert all(r["summary"].endswith(".") for r in records if "error" not in r)
