"""`covkb score CANDIDATE --against POLICY@VERSION`: how faithfully a
candidate encoding of a policy decides, against the reference.

A candidate is a policy folder (the layout of kb/policies/<id>/, its
latest version scored) or a draft (.toml or .pl, a revision of a version:
``Policy.draft``); it is read only as data, like any draft, and one that
does not load scores zero with the one-line reason.  The score is semantic:

* agreement: over the reference's scenarios (``covkb.scenarios``: every
  distinct relevant request), the share the candidate decides with the same
  outcome, and a confusion matrix (reference outcome × candidate outcome).
  The scenarios are counted, not decided one by one: per subject, a region
  (some of the subject's dimensions fixed, the others unknown) that both
  sides settle (decide, or find invalid, in every completion) is counted
  whole: every scenario in it gets the region's outcome on each side (the
  three-valued semantics the diff rests on, ``diff._Side``); a region a side
  does not settle is split on a dimension a side depends on.  With a claims
  mix (JSON Lines or CSV requests), each request is decided by both sides
  and weighs one.
* disagreement: the diff's regions (``diff.diff_data``: before = the
  reference, after = the candidate), classified by the diff's kinds, each
  witness decided again by both engines on both sides.
* structure: each reference statement (criterion) is aligned with the
  candidate statement (criterion) that decides (is met in) most of the same
  scenarios with the same outcome: encoded when it is all of them, mostly
  encoded from MOSTLY of them, else missed; ids the candidate adds are
  inventions.
* grounding (``covkb.score_grounding``).

Text and Markdown state the decision first, in words; JSON keeps the ids.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diff import DiffReport, _Diff, diff_data
from .errors import CovkbError, InvalidRequest
from .limits import CLOSED_READING
from .policy import Policy, Version, VersionData
from .scenarios import _Kb, _merge, _subjects
from .score_structure import MOSTLY


ENGINES = ("prolog", "asp")


@dataclass(frozen=True)
class Side:
    """One side of a score: the policy folder, the version (or draft) and
    how a KnowledgeBase names it (a version id, or the draft's path)."""

    policy: Policy
    version: Version
    ref: str
    name: str

    @property
    def data(self) -> VersionData:
        return self.policy.data(self.version)


@dataclass(frozen=True)
class Tally:
    """Scenario counts: (reference outcome, candidate outcome) → count, and
    the same by deciding statements and by criteria met."""

    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    statements: dict[tuple[str, str, str, str], int] = field(default_factory=dict)  # (ref st, ref out, cand st, cand out)
    criteria: dict[tuple[frozenset[str], frozenset[str]], int] = field(default_factory=dict)

    def add(self, a: Any, b: Any, n: int) -> None:
        self.outcomes[(a.outcome, b.outcome)] = self.outcomes.get((a.outcome, b.outcome), 0) + n
        key = (a.statement or "", a.outcome, b.statement or "", b.outcome)
        self.statements[key] = self.statements.get(key, 0) + n
        if a.decided and b.decided:
            ck = (frozenset(a.criteria_met), frozenset(b.criteria_met))
            self.criteria[ck] = self.criteria.get(ck, 0) + n

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def agreeing(self) -> int:
        return sum(n for (a, b), n in self.outcomes.items() if a == b)

    def confusion(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (a, b), n in sorted(self.outcomes.items()):
            out.setdefault(a, {})[b] = n
        return out


@dataclass(frozen=True)
class Score:
    """A candidate's score against the reference (``score``)."""

    candidate: str
    reference: str
    loaded: bool
    reason: str | None = None              # why the candidate did not load
    scenarios: int = 0
    agreeing: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # reference outcome → candidate outcome → scenarios
    weighted: dict[str, Any] | None = None  # the claims mix: requests, agreeing, confusion
    regions: tuple[dict[str, Any], ...] = ()  # the diff's regions, each with witness_decided and witness_confirmed
    changes: tuple[dict[str, Any], ...] = ()  # the regions grouped by what changed (DiffReport.changes)
    structure: dict[str, Any] = field(default_factory=dict)
    grounding: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    report: DiffReport | None = field(default=None, repr=False, compare=False)

    @property
    def agreement(self) -> float:
        return self.agreeing / self.scenarios if self.scenarios else 0.0

    @property
    def witnesses_confirmed(self) -> bool:
        return all(r["witness_confirmed"] for r in self.regions)

    def to_dict(self) -> dict[str, Any]:
        if not self.loaded:
            return {"candidate": self.candidate, "reference": self.reference, "loaded": False,
                    "reason": self.reason, "agreement": 0.0, "score": 0.0}
        return {"candidate": self.candidate, "reference": self.reference, "loaded": True,
                "agreement": round(self.agreement, 6), "scenarios": self.scenarios, "agreeing": self.agreeing,
                "confusion": self.confusion, **({"weighted": self.weighted} if self.weighted else {}),
                "disagreeing_regions": len(self.regions), "all_witnesses_confirmed": self.witnesses_confirmed,
                "changes": list(self.changes), "regions": list(self.regions),
                "structure": self.structure, "grounding": self.grounding, "seconds": round(self.seconds, 3)}


# loading ---------------------------------------------------------------------
def reference_side(ref: str) -> Side:
    from .compare import parse_ref

    policy, version = parse_ref(ref)
    return Side(policy, version, version.id, f"{policy.number}@{version.id}")


def candidate_side(path: str | Path, reference: Side) -> Side:
    """The candidate: a policy folder (its latest version) or a draft file
    read against the reference's policy.  Raises CovkbError when it does
    not load (``Policy`` and the draft compiler refuse it)."""
    p = Path(path)
    if p.is_dir():
        policy = Policy(policy=p)
        version = policy.latest()
        side = Side(policy, version, version.id, f"{p.name}@{version.id}")
    elif p.is_file():
        version = reference.policy.resolve(str(p))
        side = Side(reference.policy, version, str(p), f"{p.name}")
    else:
        raise InvalidRequest(f"no candidate folder or draft file {path}")
    side.data.vocabulary  # noqa: B018  (load it all now: a fault is the candidate's, reported as such)
    side.data.engine_text  # noqa: B018
    return side


def one_line(err: BaseException) -> str:
    msg = err.message if isinstance(err, CovkbError) else f"{type(err).__name__}: {err}"
    return " ".join(str(msg).split())


# agreement by counting -------------------------------------------------------
def tally(run: _Diff, ref: VersionData) -> Tally:
    """The reference's scenarios, each counted with both sides' outcome (see
    the module docstring: a region both sides settle counts whole)."""
    out = Tally()
    kb = _Kb(ref)
    for fields, about, code in _subjects(kb):
        dims = kb.labelled_dimensions(kb.facts_of(about, code))
        root = {k: v for k, v in fields.items() if k in ("service", "cpt")} if run.sliced else {}
        _count(run, root, fields, dims, {}, out)
    return out


def _count(run: _Diff, root: dict[str, Any], fields: dict[str, Any],
           dims: list[tuple[tuple[str, ...], list[dict[str, Any]]]], chosen: dict[int, dict[str, Any]],
           out: Tally) -> None:
    parts = tuple(chosen[i] if i in chosen else states[-1] for i, (_, states) in enumerate(dims))
    request = {**fields, **CLOSED_READING, **_merge(parts)}
    sa, sb = run.side(root)
    a, b = sa.answer(request), sb.answer(request)
    free = [i for i in range(len(dims)) if i not in chosen]
    if not free or (a.settled and b.settled):
        out.add(a, b, math.prod(len(dims[i][1]) for i in free))
        return
    depends = [v for _, v, _ in sorted(a.variables + b.variables)]
    pick = next((i for v in depends for i in free if v in dims[i][0]), free[0])
    for state in dims[pick][1]:
        _count(run, root, fields, dims, {**chosen, pick: state}, out)


def weighted(reference: Side, candidate: Side, mix: Path) -> dict[str, Any]:
    """A claims mix's requests, each decided by both sides (the Prolog
    engine): how many agree, and their confusion matrix."""
    from .batch import is_csv
    from .kb import KnowledgeBase

    requests = _read_mix(mix, reference.data, is_csv(str(mix)))
    kr = KnowledgeBase("prolog", policy=reference.policy.folder)
    kc = KnowledgeBase("prolog", policy=candidate.policy.folder)
    counts: Counter[tuple[str, str]] = Counter()
    for req in requests:
        counts[(_decide(kr, req, reference.ref), _decide(kc, req, candidate.ref))] += 1
    confusion: dict[str, dict[str, int]] = {}
    for (a, b), n in sorted(counts.items()):
        confusion.setdefault(a, {})[b] = n
    total, same = sum(counts.values()), sum(n for (a, b), n in counts.items() if a == b)
    return {"mix": str(mix), "requests": total, "agreeing": same,
            "agreement": round(same / total, 6) if total else 0.0, "confusion": confusion}


def _read_mix(path: Path, data: VersionData, csv_input: bool) -> list[dict[str, Any]]:
    from .batch import csv_request, read_csv_header, read_csv_rows, read_jsonl

    try:
        with path.open("rb") as src:
            if csv_input:
                header, offset = read_csv_header(src, list(data.vocabulary.fields))
                items = list(read_csv_rows(src, header, offset=offset))
                return [csv_request(item[1], data.vocabulary) for item in items if isinstance(item[1], (tuple, dict))]
            return [json.loads(item[1]) for item in read_jsonl(src) if isinstance(item[1], str) and item[1].strip()]
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"cannot read the claims mix {path}: {exc}") from None


def _decide(kb: Any, request: dict[str, Any], ref: str) -> str:
    try:
        return kb.determine(request, explain=False, version=ref).outcome
    except CovkbError as exc:
        return exc.code


def confirm(report: DiffReport, reference: Side, candidate: Side) -> list[dict[str, dict[str, str]]]:
    """Each region's witness decided by both engines on both sides (the
    candidate reads it as the diff did: ``Region.witness_reads``)."""
    from .kb import KnowledgeBase

    out: list[dict[str, dict[str, str]]] = [{} for _ in report.regions]
    for side, which in ((reference, "before"), (candidate, "after")):
        for engine in ENGINES:
            kb = KnowledgeBase(engine=engine, policy=side.policy.folder)
            try:
                for i, r in enumerate(report.regions):
                    out[i].setdefault(which, {})[engine] = _decide(kb, r.witness_reads.get(which, r.witness), side.ref)
            finally:
                kb.close()
    return out


def score(candidate: str | Path, against: str, *, mix: Path | None = None, confirm_witnesses: bool = True) -> Score:
    """Score a candidate encoding (a policy folder or a draft file) against
    the reference POLICY@VERSION."""
    from .score_structure import grounding, structure

    start = time.perf_counter()
    reference = reference_side(against)
    try:
        cand = candidate_side(candidate, reference)
        run = _Diff(reference.data, cand.data)
    except Exception as exc:  # noqa: BLE001  (whatever a candidate holds, it is data: it scores zero)
        return Score(str(candidate), reference.name, False, one_line(exc), seconds=time.perf_counter() - start)
    report = diff_data(reference.data, cand.data, run=run)
    counts = tally(run, reference.data)
    decided = confirm(report, reference, cand) if confirm_witnesses else [{} for _ in report.regions]
    regions = []
    for r, got in zip(report.regions, decided):
        want = {"before": r.before["outcome"], "after": r.after["outcome"]}
        ok = bool(got) and all(o == want[w] for w, engines in got.items() for o in engines.values())
        regions.append({**r.to_dict(), "conditions": r.conditions(report.words), "in_words": r.describe(report.words),
                        "transition": r.transition(report.words), "witness_decided": got, "witness_confirmed": ok})
    return Score(
        cand.name, reference.name, True, None, counts.total, counts.agreeing, counts.confusion(),
        weighted(reference, cand, mix) if mix else None, tuple(regions), tuple(report.changes()),
        structure(reference.data, cand.data, counts), grounding(reference.data, cand.data),
        time.perf_counter() - start, report)


__all__ = ["score", "Score", "Tally", "tally", "MOSTLY"]
