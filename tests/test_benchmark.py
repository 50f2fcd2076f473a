"""`covkb export benchmark`: the exported benchmark reloads, and every case
re-decides with both engines (SWI-Prolog and clingo) to its recorded
outcome.  make test exports the fictional test policy with a small sample;
the exhaustive tier exports every installed policy and version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from covkb import CovkbError, KnowledgeBase
from covkb.benchmark import export, load

REPO = Path(__file__).resolve().parents[1]
PAP = REPO / "tests" / "policies" / "example_pap"


def _redecide(directory: Path, manifest: dict) -> None:
    cases = load(directory)
    assert len(cases) == sum(v["cases"] for v in manifest["versions"]) > 0
    folders = {v["policy"]: v for v in manifest["versions"]}
    engines = {}
    wrong = []
    for c in cases:
        folder = PAP if c["policy"] == "example_pap" else c["policy"]
        for engine in ("prolog", "asp"):
            kb = engines.setdefault((c["policy"], engine), KnowledgeBase(engine, policy=folder))
            try:
                got = kb.determine(c["request"], explain=False, version=c["version"]).outcome
            except CovkbError as exc:
                got = exc.code
            if got != c["expected"]["outcome"]:
                wrong.append((engine, c["version"], c["request"], c["expected"]["outcome"], got))
    assert not wrong, wrong[:5]
    assert folders


def test_exported_benchmark_reloads_and_redecides(tmp_path: Path) -> None:
    manifest = export(tmp_path, seed=7, per_subject=2, limit=400, policies=[PAP], top_up=0)
    version = tmp_path / "example_pap" / "2026-01-01"
    for name in ("source.txt", "SOURCE.md", "vocabulary.json", "cases.jsonl", "cases.parquet", "encoding/policy.pl"):
        assert (version / name).is_file(), name
    assert (tmp_path / "DATASHEET.md").is_file() and manifest["seed"] == 7
    table = pq.read_table(version / "cases.parquet")
    assert table.num_rows == manifest["versions"][0]["cases"]
    named = [c for c in load(tmp_path) if c["origin"] == "named_query"]
    assert named and all(c["expected"].get("summary") or c["expected"].get("error") for c in named)
    assert json.loads((version / "vocabulary.json").read_text())["outcomes"]
    _redecide(tmp_path, manifest)


@pytest.mark.exhaustive
def test_every_installed_policy_exports_and_redecides(tmp_path: Path) -> None:
    manifest = export(tmp_path, seed=0)
    _redecide(tmp_path, manifest)
