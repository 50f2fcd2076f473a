"""Questionnaires generated from the policy: what a request must still say.

``plan(kb, request)`` decides the request and, when the policy leaves it
undecided (``insufficient_information``), asks exactly the request fields and
findings that settle the unknowns on which the outcome depends (the
determination's ``missing``; covkb.determination), never a derived fact's id:
a derived fact (one a count settles through a number rule) is asked as the
field that settles it, as ``VersionData.realize`` writes a fact's value as a
request.  Each item is shown only while it can still change the outcome given
what is known and the answers before it (``enable``, worked out from the
engine's cases: every completion of the unknowns and what the policy decides
in it), so no item is asked whose every answer leads to the same outcome.

The item's text is the question covkb.sentences asks of the missing fact (in
the policy's words, kb/: ``fact_asks/2``), its help the policy's quotes the
derivation shows for that fact, its options the vocabulary's values.

Nothing here is FHIR: covkb.service.dtr writes a Plan as a Questionnaire.
Policy-generic: no policy's terms are named here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .determination import Case, Determination
from .errors import KnowledgeBaseError
from .facts import atom
from .untrusted import read_request
from .wording import Words, lower

if TYPE_CHECKING:
    from .kb import KnowledgeBase
    from .policy import VersionData

# where an item's answer goes in the request
SOURCES = ("service", "qualifier", "finding", "field")


@dataclass(frozen=True, slots=True)
class Option:
    """One answer an item offers: its value (as the request states it) and its words."""

    value: Any            # True/False, a code (service, qualifier, choice), or a number's lower bound
    label: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition on an earlier answer: ``op`` is "=", ">=", "<" or
    "exists" (the value True: answered; False: not answered) or "!=" (true also when
    unanswered, as FHIR's enableWhen reads it)."""

    link_id: str
    op: str
    value: Any

    def holds(self, answers: dict[str, Any]) -> bool:
        got = answers.get(self.link_id)
        if self.op == "exists":
            return (got is not None) == bool(self.value)
        if self.op == "!=":
            return got != self.value
        if got is None:
            return False
        if self.op == "=":
            return got == self.value
        return got >= self.value if self.op == ">=" else got < self.value


@dataclass(frozen=True, slots=True)
class Item:
    """One question: a request field, a finding, the service or a qualifier."""

    link_id: str                         # the request field's or the finding's id ("service", a qualifier)
    source: str                          # one of SOURCES: where the answer goes in the request
    kind: str                            # boolean | choice | integer
    text: str                            # the question, in words
    help: tuple[tuple[str, str], ...]    # (section path, the policy's quote), in document order
    options: tuple[Option, ...]          # a boolean's or a choice's answers; an integer's classes
    facts: tuple[str, ...]               # the missing facts it settles (ids, for machines)
    # when it is shown: any of these conjunctions of conditions holds (() = always)
    enable: tuple[tuple[Condition, ...], ...] = ()
    minimum: int | None = None           # an integer's range
    maximum: int | None = None
    # what each option tells of the facts ((fact, value), ...), in the options' order
    gives: tuple[tuple[tuple[str, Any], ...], ...] = ()

    def option_for(self, values: dict[str, Any]) -> Any:
        """The answer that gives the facts these values (None: none does)."""
        return next((o.value for o, g in zip(self.options, self.gives) if dict(g) == values), None)

    def enabled(self, answers: dict[str, Any]) -> bool:
        return not self.enable or any(all(c.holds(answers) for c in conj) for conj in self.enable)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a request must still say, for the version that decides it."""

    policy: str                  # the policy's id (kb/policies/<id>)
    version: str
    service: str                 # the ordered service (or CPT code) as the request names it
    known_digest: str            # a digest of what the request already said
    items: tuple[Item, ...]
    request: dict[str, Any]      # what was known, as a request
    outcome: str                 # the outcome on what was known
    possible_outcomes: tuple[str, ...] = ()
    title: str = ""
    # missing facts no answer a request can give settles (a person must decide)
    unaskable: tuple[str, ...] = ()

    def item(self, link_id: str) -> Item | None:
        return next((i for i in self.items if i.link_id == link_id), None)


def canonical_url(base_url: str, plan: Plan) -> str:
    """The Questionnaire's stable canonical URL: the same policy, version,
    service and known facts give the same URL."""
    return f"{base_url.rstrip('/')}/fhir/Questionnaire/{questionnaire_id(plan)}"


def questionnaire_id(plan: Plan) -> str:
    """A FHIR id (at most 64 of [A-Za-z0-9-.]) naming the plan: policy, version, service, digest."""
    def part(s: str, n: int) -> str:
        return "".join(ch if ch.isalnum() else "-" for ch in s)[:n].strip("-")
    return f"{part(plan.policy, 14)}.{part(plan.version, 17)}.{part(plan.service, 14)}.{plan.known_digest}"


def known_digest(request: dict[str, Any]) -> str:
    """A short digest of what a request says (its JSON, keys sorted)."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def plan(kb: KnowledgeBase, request: dict[str, Any], version: str | None = None, *,
         decided: tuple[list[Case], VersionData, Determination] | None = None) -> Plan:
    """The questionnaire a request needs (no items when it is decided).
    decided: the request's cases, version data and determination where the
    caller has them already (``decide``), so it is not decided twice."""
    cases, data, det = decided if decided is not None else decide(kb, request, version)
    known = read_request(request, data.vocabulary).to_json_dict()
    service = known.get("service") or (f"cpt-{known['cpt']}" if known.get("cpt") else "none")
    reading = det.reading()
    items = _items(data, det, reading, cases, known.get("cpt")) if det.outcome == "insufficient_information" else ()
    asked = {f for i in items for f in i.facts}
    return Plan(kb.policy.id, data.version.id, service, known_digest(known), items, known, det.outcome,
                det.possible_outcomes, f"{kb.policy.number}: {reading.summary}",
                tuple(f for f in det.missing if f not in asked))


def request_of(plan: Plan, answers: dict[str, Any]) -> dict[str, Any]:
    """The request the plan's known facts and these answers (link id → value) make."""
    req = json.loads(json.dumps(plan.request))
    for item in plan.items:
        value = answers.get(item.link_id)
        if value is None:
            continue
        if item.source == "finding":
            for key in ("findings", "unknown_findings", "absent_findings"):
                req[key] = [f for f in req.get(key, []) if f != item.link_id]
            req.setdefault("findings" if value else "absent_findings", []).append(item.link_id)
            req = {k: v for k, v in req.items() if v != []}
        else:
            req[item.link_id] = value
    return req


def next_item(kb: KnowledgeBase, request: dict[str, Any], answers: dict[str, Any],
              version: str | None = None) -> Item | None:
    """The next item that can still change the outcome (None once it is decided)."""
    p = plan(kb, request, version)
    return next((i for i in p.items if i.link_id not in answers and i.enabled(answers)), None)


def decide(kb: KnowledgeBase, request: dict[str, Any],
           version: str | None = None) -> tuple[list[Case], VersionData, Determination]:
    """The request decided with its derivation, and what a plan is made
    from: its cases and version data (``plan(..., decided=...)``)."""
    cases, data, warnings, reading = kb.cases(request, True, version)
    det = Determination.from_cases(cases, policy=kb.policy.number, data=data, warnings=warnings,
                                   engine=kb.engine_name, unlisted_findings=reading)
    return cases, data, det


# -- items -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Classes:
    """An item's answers as classes: each an answer (its option) and the facts' values it gives."""

    options: tuple[Option, ...]
    assigns: tuple[dict[str, Any], ...]
    bounds: tuple[tuple[int | None, int | None], ...] = ()   # an integer class: [lower, upper)


def _items(data: VersionData, det: Determination, reading: Any, cases: list[Case],
           cpt: str | None) -> tuple[Item, ...]:
    words = Words.of(data.vocabulary)
    questions = {q.fact: q for q in reading.questions}
    quotes = _quotes(cases)
    values: dict[str, list[Any]] = defaultdict(list)
    for c in cases:
        for var, value, _ in c.assign:
            if value not in values[var]:
                values[var].append(value)
    grouped: dict[tuple[str, str], list[str]] = {}
    for var in det.missing:
        grouped.setdefault(_target(data, var), []).append(var)
    drafts = []
    for (source, link_id), facts in grouped.items():
        classes, kind = _classes(data, words, source, link_id, facts, values, cpt)
        q = questions.get(facts[0])
        text = q.text if q is not None else words.question(facts[0])
        gives = tuple(tuple(sorted(a.items())) for a in classes.assigns)
        drafts.append((Item(link_id, source, kind, text, _help(data, quotes, facts), classes.options, tuple(facts),
                            (), *_range(data, source, link_id), gives), classes))
    return _with_enable(drafts, cases)


def _target(data: VersionData, var: str) -> tuple[str, str]:
    """Where a missing fact's answer goes: (source, the request field or finding id)."""
    vocab = data.vocabulary
    if var == "service":
        return "service", "service"
    if var in vocab.qualifiers:
        return "qualifier", var
    if var in vocab.findings and var not in vocab.patient_facts:
        return "finding", var
    for f in sorted(vocab.fields.values(), key=lambda f: f.name):
        if f.fact == var and f.states_fact:
            return "field", f.name
    for name in ("number_at_least", "number_below"):
        for r in sorted(data.rows(name), key=str):
            if atom(r[0]) == var and atom(r[1]) in vocab.fields:
                return "field", atom(r[1])
    raise KnowledgeBaseError(f"no request field or finding settles {var!r}: the questionnaire cannot ask it")


def _classes(data: VersionData, words: Words, source: str, link_id: str, facts: list[str],
             values: dict[str, list[Any]], cpt: str | None) -> tuple[_Classes, str]:
    vocab = data.vocabulary
    if source in ("service", "qualifier"):
        (var,) = facts
        # a qualifier may name a value no code names (the code then reports another service); a
        # request cannot say that a code reports a service other than those it names
        vals = [v for v in values[var] if v != "unlisted_code" and (v != "other" or source == "qualifier")]
        # a qualifier's case value is the service its value makes the code report
        said = {_id(r[1]): _id(r[3]) for r in data.rows("code_qualifier") if r[0] == cpt and _id(r[2]) == var}
        opts = tuple(Option("other", "Another one than these") if v == "other" else
                     Option(said.get(v, v), words.label(v)) for v in vals)
        return _Classes(opts, tuple({var: v} for v in vals)), "choice"
    if source == "finding":
        (var,) = facts
        return _Classes((Option(True, _cap(words.clause(var, "yes"))), Option(False, _cap(words.clause(var, "no")))),
                        ({var: "yes"}, {var: "no"})), "boolean"
    field_ = vocab.fields[link_id]
    if field_.states_fact:
        (var,) = facts
        vals = [v for v in field_.values if v in values[var]]
        opts = tuple(Option(field_.request_value(v), _cap(words.clause(var, v))) for v in vals)
        return _Classes(opts, tuple({var: v} for v in vals)), "boolean" if field_.kind == "boolean" else "choice"
    return _number_classes(data, field_, facts), "integer"


def _number_classes(data: VersionData, field_: Any, facts: list[str]) -> _Classes:
    """A count's answers as the intervals between the thresholds its number rules read."""
    rules = [(atom(r[0]), name, r[2]) for name in ("number_at_least", "number_below") for r in data.rows(name)
             if atom(r[1]) == field_.name and atom(r[0]) in facts]
    lo, hi = field_.range
    cuts = sorted({t for _, _, t in rules if lo < t <= hi})
    edges = [lo, *cuts, hi + 1]
    options, assigns, bounds = [], [], []
    for a, b in zip(edges, edges[1:]):
        assign = {f: ("yes" if (a >= t if name == "number_at_least" else a < t) else "no") for f, name, t in rules}
        options.append(Option(a, f"{a}" if b == a + 1 else f"{a} to {b - 1}"))
        assigns.append(assign)
        bounds.append((a if a > lo else None, b if b <= hi else None))
    return _Classes(tuple(options), tuple(assigns), tuple(bounds))


def _range(data: VersionData, source: str, link_id: str) -> tuple[int | None, int | None]:
    f = data.vocabulary.fields.get(link_id) if source == "field" else None
    return f.range if f is not None and f.numeric else (None, None)


def _quotes(cases: list[Case]) -> dict[str, set[tuple[str, str]]]:
    """The policy's quotes the derivations show where they read each fact ("service": the statements'),
    each with its section (a requirement's quote stands in its statement's section)."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    seen: set[int] = set()

    def visit(n: dict[str, Any], section: str) -> None:
        section = n.get("section") or section
        kind = n.get("kind")
        if kind in ("requirement", "criterion", "scope", "fact") and n.get("quote"):
            out[n.get("fact") or n.get("id")].add((section, n["quote"]))
        elif kind == "statement" and n.get("quotes"):
            out["service"].add((section, n["quotes"][-1]))
        for child in n.get("children", ()):
            if id(child) not in seen:  # cases share subtrees
                seen.add(id(child))
                visit(child, section)

    for c in cases:
        visit(c.proof, "")
    return out


def _help(data: VersionData, quotes: dict[str, set[tuple[str, str]]], facts: list[str]) -> tuple[tuple[str, str], ...]:
    """The policy's quotes where the derivations read these facts, in document order."""
    found = set().union(*(quotes.get(f, set()) for f in facts))
    ordered = sorted(found, key=lambda sq: (data.quote_position(sq[1]), sq[1]))
    return tuple((data.section_path(s) if s else "", q) for s, q in ordered)


def _with_enable(drafts: list[tuple[Item, _Classes]], cases: list[Case]) -> tuple[Item, ...]:
    """The items, each with the condition on the earlier answers under which
    it can still change the outcome (see _Relevance)."""
    rel = _Relevance([i for i, _ in drafts], [c for _, c in drafts], cases)
    # a fact missing only where no answer can reach (another service) is not asked
    kept = [d for n, d in enumerate(drafts) if rel.relevant(n, (None,) * n)]
    if len(kept) < len(drafts):
        drafts, rel = kept, _Relevance([i for i, _ in kept], [c for _, c in kept], cases)
    return tuple(_replace_enable(item, rel.enable(n, cls_list=[c for _, c in drafts]))
                 for n, (item, _) in enumerate(drafts))


def _replace_enable(item: Item, enable: tuple[tuple[Condition, ...], ...]) -> Item:
    return dataclasses.replace(item, enable=enable)


class _Relevance:
    """When each item can still change the outcome, given the answers (or
    none) to the items before it.  A case is one completion of the unknowns;
    an answer keeps the cases it agrees with; an item is relevant when two of
    those cases that differ only in its facts decide differently."""

    def __init__(self, items: list[Item], classes: list[_Classes], cases: list[Case]) -> None:
        self.items = items
        # each case: its answer class per item, its values but each item's facts (per item), its outcome
        self.rows: list[tuple[tuple[int, ...], tuple[tuple[Any, ...], ...], str]] = []
        for c in cases:
            values = c.values()
            idx = [next((k for k, a in enumerate(cl.assigns) if all(values.get(f) == v for f, v in a.items())), None)
                   for cl in classes]
            if None not in idx:  # a completion no answer can state (another service) is not asked for
                others = tuple(tuple(x for v, x in sorted(values.items()) if v not in item.facts) for item in items)
                self.rows.append((tuple(idx), others, c.outcome))
        self.sizes = [len(cl.assigns) for cl in classes]
        # the rows of each answer class of each item, to keep the rows an answer keeps by intersection
        self.of_class = [[{r for r, (idx, _, _) in enumerate(self.rows) if idx[j] == k} for k in range(n)]
                         for j, n in enumerate(self.sizes)]
        self._memo: dict[tuple[int, tuple[int | None, ...]], bool] = {}

    def relevant(self, i: int, prefix: tuple[int | None, ...]) -> bool:
        key = (i, prefix)
        if key not in self._memo:
            kept = set.intersection(set(range(len(self.rows))),
                                    *(self.of_class[j][p] for j, p in enumerate(prefix) if p is not None))
            seen: dict[tuple[Any, ...], set[str]] = defaultdict(set)
            for r in kept:
                _, others, outcome = self.rows[r]
                seen[others[i]].add(outcome)
            self._memo[key] = any(len(o) > 1 for o in seen.values())
        return self._memo[key]

    def reachable(self, prefix: tuple[int | None, ...]) -> bool:
        """Each answer in it was asked (its item relevant given the answers before)."""
        return all(p is None or self.relevant(j, prefix[:j]) for j, p in enumerate(prefix))

    def enable(self, i: int, cls_list: list[_Classes]) -> tuple[tuple[Condition, ...], ...]:
        domains = [(None, *range(self.sizes[j])) for j in range(i)]
        shown, dont_care = set(), set()
        for prefix in itertools.product(*domains):
            if not self.reachable(prefix):
                dont_care.add(prefix)
            elif self.relevant(i, prefix):
                shown.add(prefix)
        if len(shown) + len(dont_care) == len(list(itertools.product(*domains))):
            return ()
        terms = _cover(shown, dont_care, domains)
        out: list[tuple[Condition, ...]] = []
        for term in terms:
            alternatives = [_conditions(self.items[j], cls_list[j], states) for j, states in enumerate(term)
                            if set(states) != set(domains[j])]
            out += [tuple(c for conj in choice for c in conj) for choice in itertools.product(*alternatives)]
        return tuple(dict.fromkeys(out))


def _cover(shown: set[tuple[Any, ...]], dont_care: set[tuple[Any, ...]],
           domains: list[tuple[Any, ...]]) -> list[tuple[frozenset[Any], ...]]:
    """A few products of state sets whose union is every shown combination
    (and perhaps some that never occur): each shown combination widened as
    far as it goes, then a greedy cover by the widest."""
    allowed = shown | dont_care

    def ok(term: list[set[Any]]) -> bool:
        return all(c in allowed for c in itertools.product(*term))

    def widened(combo: tuple[Any, ...]) -> tuple[frozenset[Any], ...]:
        term = [{s} for s in combo]
        for j, dom in enumerate(domains):
            for s in [dom, *([x] for x in dom)]:
                trial = term[:j] + [term[j] | set(s)] + term[j + 1:]
                if ok(trial):
                    term = trial
        return tuple(frozenset(t) for t in term)

    candidates = sorted({widened(c) for c in shown}, key=repr)
    covers = {t: {c for c in shown if all(x in s for x, s in zip(c, t))} for t in candidates}
    left, terms = set(shown), []
    while left:
        best = max(candidates, key=lambda t: (len(covers[t] & left), -len(repr(t))))
        terms.append(best)
        left -= covers[best]
    return terms


def _conditions(item: Item, classes: _Classes, states: frozenset[Any]) -> list[tuple[Condition, ...]]:
    """The state set of one earlier item as alternatives, each a conjunction of conditions."""
    answered = sorted(s for s in states if s is not None)
    if states == {None}:
        return [(Condition(item.link_id, "exists", False),)]
    if None not in states and len(answered) == len(classes.assigns):
        return [(Condition(item.link_id, "exists", True),)]
    if item.kind != "integer" and None in states and len(answered) == len(classes.assigns) - 1:
        (other,) = set(range(len(classes.assigns))) - set(answered)   # "!=": true also when unanswered
        return [(Condition(item.link_id, "!=", classes.options[other].value),)]
    if item.kind == "integer" and None not in states and answered == list(range(answered[0], answered[-1] + 1)):
        lo, hi = classes.bounds[answered[0]][0], classes.bounds[answered[-1]][1]
        conj = ((Condition(item.link_id, ">=", lo),) if lo is not None else ()) + \
            ((Condition(item.link_id, "<", hi),) if hi is not None else ())
        return [conj or (Condition(item.link_id, "exists", True),)]
    out: list[tuple[Condition, ...]] = []
    for s in sorted(states, key=lambda x: -1 if x is None else x):
        if s is None:
            out.append((Condition(item.link_id, "exists", False),))
        elif item.kind == "integer":
            out += _conditions(item, classes, frozenset({s}))
        else:
            out.append((Condition(item.link_id, "=", classes.options[s].value),))
    return out


def _id(v: Any) -> Any:
    return v if isinstance(v, str) else atom(v)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


__all__ = ["Condition", "Item", "Option", "Plan", "canonical_url", "known_digest", "lower", "next_item", "plan",
           "questionnaire_id", "request_of"]
