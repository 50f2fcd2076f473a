"""`covkb score CANDIDATE --against POLICY@VERSION`: how faithfully a
candidate encoding of a policy decides, against the reference.

A candidate is a policy folder (the layout of kb/policies/<id>/, its
latest version scored) or a draft (.toml or .pl, a revision of a version:
``Policy.draft``); it is read only as data, like any draft, and one that
does not load scores zero with the one-line reason.  The score is semantic:

* agreement: over the reference's scenarios (``covkb.scenarios``: every
  distinct relevant request), the share the candidate decides with the same
  outcome, and a confusion matrix (reference outcome × candidate outcome).
  The reference's answer to every scenario is decided once and cached; a
  subject the diff finds alike on both sides counts as the reference's, and
  every other subject's scenarios are decided by the candidate only, in
  worker processes (``tally``, covkb.score_decide).  With a claims mix
  (JSON Lines or CSV requests), each request is decided by both sides and
  weighs one.
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

import hashlib
import itertools
import json
import os
import time
from collections.abc import Iterator
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diff import DiffReport, _Diff, _roots, _slice, diff_data
from .errors import CovkbError, InvalidRequest
from .limits import CLOSED_READING
from .policy import Policy, Version, VersionData
from .scenarios import _Kb, _merge, _subjects
from .score_decide import Answer, decide_all
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
        if a.statement and b.statement:
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


# agreement --------------------------------------------------------------------
@dataclass(frozen=True)
class Decided:
    """What one side decides for a scenario (the Prolog engine's determination)."""

    outcome: str
    statement: str | None = None
    criteria_met: frozenset[str] = frozenset()

    @property
    def decided(self) -> bool:
        return self.statement is not None


def _subject_root(fields: dict[str, Any], qualifiers: set[str]) -> str:
    """The diff root a subject's scenarios fall under (a code's, with its
    qualifier; else the service's)."""
    if "cpt" in fields:
        return json.dumps({k: v for k, v in fields.items() if k == "cpt" or k in qualifiers}, sort_keys=True)
    return json.dumps({"service": fields["service"]}, sort_keys=True)


CACHE_FORMAT = 2  # per subject: its distinct answers, and each scenario's (an index into them)


def reference_answers(reference: Side, workers: int | None = None) -> list[dict[str, list[Any]]]:
    """Per subject of the reference's scenarios (in ``scenarios._subjects``
    order): its distinct answers [outcome, statement, criteria met] and, for
    each scenario in order, the index of its answer.  Computed once per
    reference (every scenario decided, ``score_decide``) and kept in the
    cache directory, keyed by the digest of the reference's facts and text."""
    data = reference.data
    digest = hashlib.sha256((data.engine_text + data.source_text).encode()).hexdigest()[:24]
    path = cache_dir() / f"reference-{CACHE_FORMAT}-{digest}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    subjects = [(fields, list(itertools.product(*dims))) for fields, dims in _subject_dims(data)]
    requests = [{**fields, **CLOSED_READING, **_merge(combo)} for fields, combos in subjects for combo in combos]
    answers = iter(decide_all(str(reference.policy.folder), reference.ref, requests, workers))
    out = []
    for _, combos in subjects:
        index: dict[Answer, int] = {}
        scenarios = [index.setdefault(next(answers), len(index)) for _ in combos]
        out.append({"answers": [[o, st, list(c)] for o, st, c in index], "scenarios": scenarios})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out), encoding="utf-8")
    tmp.replace(path)  # whole or not at all: another score may read it at once
    return out


def _answers(subject: dict[str, list[Any]]) -> list[Decided]:
    return [Decided(o, st, frozenset(c)) for o, st, c in subject["answers"]]


def cache_dir() -> Path:
    base = os.environ.get("COVKB_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                          os.path.expanduser("~/.cache"), "covkb")
    return Path(base) / "score"


def _subject_dims(data: VersionData) -> Iterator[tuple[dict[str, Any], list[list[dict[str, Any]]]]]:
    kb = _Kb(data)
    for fields, about, code in _subjects(kb):
        yield fields, kb.dimensions(kb.facts_of(about, code))


class _Alike:
    """Whether both sides hold the same facts bearing on a subject (its
    service's and its code's slices, ``diff._slice``, equal): then every
    scenario of the subject gets the same answer on both sides."""

    def __init__(self, a: VersionData, b: VersionData) -> None:
        self.a, self.b = a, b
        self.memo: dict[str, bool] = {}

    def _same(self, root: dict[str, Any]) -> bool:
        key = json.dumps(root, sort_keys=True)
        if key not in self.memo:
            self.memo[key] = _deciding(_slice(self.a, root).facts) == _deciding(_slice(self.b, root).facts)
        return self.memo[key]

    def __call__(self, fields: dict[str, Any]) -> bool:
        roots = [{k: fields[k]} for k in ("service", "cpt") if k in fields]
        return all(self._same(r) for r in roots)


REVISION_FACTS = ("revision_of", "known_statement")  # a revision's bookkeeping, already applied to its facts


def _deciding(facts: tuple[Any, ...]) -> set[Any]:
    return {f for f in facts if f.name not in REVISION_FACTS and not f.name.startswith("drops_")}


def tally(reference: Side, candidate: Side, report: DiffReport, workers: int | None = None) -> Tally:
    """The reference's scenarios, each with both sides' answer.  A subject
    under a diff root where the diff found no region gets, in every
    scenario, the same answer on both sides (the diff splits each root
    until both sides decide every completion, and found no difference in
    any): its counts are the reference's.  Every other subject's scenarios
    (under a root with a region, a general service, a code no table lists)
    are decided by the candidate (``score_decide``, in worker processes)
    and paired with the reference's answer to each, from the cache."""
    data = reference.data
    explored = {json.dumps(_root, sort_keys=True) for _root in _roots(data, candidate.data)}
    touched = {json.dumps(r.root, sort_keys=True) for r in report.regions}
    quals = set(data.vocabulary.qualifiers)
    alike = _Alike(data, candidate.data)
    out = Tally()
    requests: list[dict[str, Any]] = []
    theirs: list[Decided] = []  # the reference's answer to each of requests
    for (fields, dims), subject in zip(_subject_dims(data), reference_answers(reference, workers)):
        answers = _answers(subject)
        root = _subject_root(fields, quals)
        if (root in explored and root not in touched) or alike(fields):
            for i, n in Counter(subject["scenarios"]).items():
                out.add(answers[i], answers[i], n)
            continue
        requests += [{**fields, **CLOSED_READING, **_merge(combo)} for combo in itertools.product(*dims)]
        theirs += [answers[i] for i in subject["scenarios"]]
    if requests:
        for a, (o, st, crit) in zip(theirs, decide_all(str(candidate.policy.folder), candidate.ref, requests, workers)):
            out.add(a, Decided(o, st, frozenset(crit)), 1)
    return out


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


def score(candidate: str | Path, against: str, *, mix: Path | None = None, confirm_witnesses: bool = True,
          agreement: bool = True, workers: int | None = None) -> Score:
    """Score a candidate encoding (a policy folder or a draft file) against
    the reference POLICY@VERSION.  agreement=False leaves the scenario
    counts out (the regions, structure and grounding stay); workers: the
    processes that decide scenarios (default: up to 2, the cores there are)."""
    from .score_structure import grounding, structure

    start = time.perf_counter()
    reference = reference_side(against)
    try:
        cand = candidate_side(candidate, reference)
        run = _Diff(reference.data, cand.data)
    except Exception as exc:  # noqa: BLE001  (whatever a candidate holds, it is data: it scores zero)
        return Score(str(candidate), reference.name, False, one_line(exc), seconds=time.perf_counter() - start)
    report = diff_data(reference.data, cand.data, run=run)
    counts = tally(reference, cand, report, workers) if agreement else Tally()
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


__all__ = ["score", "Score", "Tally", "tally", "MOSTLY", "reference_answers", "cache_dir"]
