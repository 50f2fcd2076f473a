"""`covkb check`: is one version (or draft) of the policy consistent?

Each finding names its kind, the statements involved and, where the fault
shows in a request, a witness request.  Semantic checks run in clingo over
evaluator.lp and kb/engine/check.lp (every answer set a fully known request
with what the evaluator derives for it); text checks (citations,
vocabulary, ontology) run over the facts.

A finding's message names the policy's statements, services and outcomes
in its words (covkb.wording: "the statement on <what it rules on>", a
service's label, an outcome's); the JSON keeps their ids (``statements``,
the witness).  Only the notes on the declarations themselves (no template,
an undeclared id) name ids: they are what an analyst edits.

Severities: ``error`` (the version is inconsistent; exit status 1),
``warning`` (probably unintended), ``info`` (worth knowing, not a fault).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

from .engines.asp import CheckProgram
from .facts import Term, atom, cycles
from .limits import CLOSED_READING
from .policy import FIELD_KINDS, VersionData, normalise_quote
from .wording import Words, lower



@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    message: str
    statements: tuple[str, ...] = ()
    witness: dict[str, Any] | None = None
    confirmed: str | None = None  # what the ASP engine decides for the witness (outcome, or error:CODE)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message,
                "statements": list(self.statements), "witness": self.witness, "confirmed": self.confirmed}


@dataclass
class CheckReport:
    version: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(f.severity == s for f in self.findings) for s in ("error", "warning", "info")}
        return {"version": self.version, "ok": self.errors == 0, "counts": counts,
                "findings": [f.to_dict() for f in self.findings]}


def check(data: VersionData) -> CheckReport:
    report = CheckReport(data.version.id)
    add = report.findings.append
    rows = data.rows
    statements = {atom(r[0]): atom(r[2]) for r in rows("statement")}
    words = Words.of(data.vocabulary)
    name = words.statement_name

    _check_vocabulary(data, add)
    _check_templates(data, add)
    _check_citations(data, add, words)

    # evaluator.lp with kb/engine/check.lp, ground once: witnesses are fully
    # known requests in the policy's own fields
    solver = CheckProgram(data)

    services_of: dict[str, set[str]] = {}
    for s, svc in rows("applies_to"):
        services_of.setdefault(atom(s), set()).add(atom(svc))
    # reachability: a statement no fully known request lets decide
    for s in sorted(statements):
        if solver.witness("reachable", s) is None:
            add(Finding("unreachable_statement", "error",
                        f"{name(s)} applies to no request: its conditions can never hold together", (s,)))
    # conflicts and subsumption, for pairs on related services
    for a, b in combinations(sorted(statements), 2):
        w = solver.witness("conflict", a, b)
        if w is not None:
            add(Finding("policy_conflict", "error",  # the word determine and diff use
                        f"{name(a)} and {name(b)} both apply to the witness request with different outcomes",
                        (a, b), w))
            continue
        if solver.witness("overlap", a, b) is None:
            continue
        for x, y in ((a, b), (b, a)):
            if solver.witness("only", x, y) is None:
                add(Finding("subsumed_statement", "warning",
                            f"{name(x)} applies only where {name(y)} also applies, to the same effect: it adds nothing",
                            (x, y), solver.witness("overlap", x, y)))
                break
        else:
            add(Finding("overlap", "warning",
                        f"{name(a)} and {name(b)} both apply to some requests (with the same outcome)",
                        (a, b), solver.witness("overlap", a, b)))
    _check_referrals(data, add, words)
    _check_codes(data, add, services_of, words)
    _check_headings(data, add, services_of, solver, words)
    report.findings[:] = [replace(f, confirmed=_decide(data, f.witness)) if f.witness else f for f in report.findings]
    return report


def _check_referrals(data: VersionData, add, w: Words) -> None:
    """A referral stands beside an outcome that refers (outcome_means/2:
    referred); beside any other it would send a reader elsewhere for a
    decision the statement makes itself."""
    outcome_of = {atom(st): atom(o) for st, _sec, o in data.rows("statement")}
    for st, target in data.rows("referral"):
        o = outcome_of.get(atom(st))
        if o is not None and not data.outcomes.means(o, "referred"):
            add(Finding("referral_without_referring_outcome", "error",
                        f"{w.statement_name(atom(st))} refers to {target} but its outcome, {_outcome(w, o)}, "
                        f"does not refer: "
                        f"drop the referral (referral = \"\") or give an outcome that refers", (atom(st),)))


def _decide(data: VersionData, witness: dict[str, Any]) -> str:
    """What the ASP engine decides for a witness: its outcome, or error:CODE."""
    from .determination import Determination
    from .engines.asp import AspEngine
    from .errors import CovkbError
    from .request import parse_request

    try:
        req = parse_request(witness, data.vocabulary)
        cases = AspEngine(data).cases({**req.engine_dict(), "explain": False})
        return Determination.from_cases(cases, policy="", data=data, warnings=[], engine="asp", explain=False).outcome
    except CovkbError as exc:
        return f"error:{exc.code}"


def _check_headings(data: VersionData, add, services_of: dict[str, set[str]], solver: CheckProgram,
                    w: Words) -> None:
    """Each code's coding-table heading against the outcome of the statements
    that decide the services it reports (heading_outcome/2 says what a
    heading's words mean).  A mismatch is reported only with a request by
    that code which the engine lets the statement decide (or which two
    statements make a conflict): a code whose meaning rules the statement
    out (the code implies a fact the statement requires otherwise) is no
    mismatch."""
    meanings = sorted(((p, atom(o)) for p, o in data.rows("heading_outcome")), key=lambda m: -len(m[0]))
    if not meanings:
        return
    services = data.hierarchy.services
    reports: dict[str, set[str]] = {}
    for code, svc in data.rows("code_reports"):
        reports.setdefault(code, set()).add(atom(svc))
    quals = {(r[0], atom(r[1])): (atom(r[2]), atom(r[3])) for r in data.rows("code_qualifier")}
    for code, heading in sorted(data.rows("code_heading")):
        meant = next((o for p, o in meanings if heading.startswith(p)), None)
        if meant is None:
            continue
        for svc in sorted(reports.get(code, ())):
            for leaf in sorted(services.leaves(svc)):
                for st, svs in sorted(services_of.items()):
                    said = data.vocabulary.statements.get(st)
                    if not (services.above({leaf}) & svs) or said == meant or data.outcomes.means(said, "referred"):
                        continue
                    witness: dict[str, Any] = {**(solver.witness("reachable", st) or {}), **CLOSED_READING, "cpt": code,
                                               "service": leaf}
                    if (code, svc) in quals:
                        witness[quals[(code, svc)][0]] = quals[(code, svc)][1]
                    for fact in data.vocabulary.scope:
                        witness.update(data.realize(fact, "yes") or {})
                    witness = {k: v for k, v in witness.items() if v not in ([], None)}
                    got = _decide(data, witness)
                    if got not in (said, "criteria_not_met", "error:policy_conflict") or \
                            (got == "criteria_not_met" and not data.outcomes.means(said, "covered")):
                        continue  # the statement does not decide a request by this code
                    add(Finding("heading_mismatch", "error",
                                f"CPT {code} is listed under \"{heading}\" ({_outcome(w, meant)}), but "
                                f"{w.statement_name(st)}, which decides {w.noun(leaf)}, says "
                                f"{_outcome(w, said)}", (st,), witness))


def _check_codes(data: VersionData, add, services_of: dict[str, set[str]], w: Words) -> None:
    services = data.hierarchy.services
    covered = {svc for svcs in services_of.values() for svc in svcs}
    by_code: dict[str, set[str]] = {}
    for code, svc in data.rows("code_reports"):
        by_code.setdefault(code, set()).add(atom(svc))
    listed = {r[0] for r in data.rows("code")}
    for code in sorted(listed):
        svcs = by_code.get(code, set())
        if not svcs:
            add(Finding("code_gap", "warning", f"CPT {code} is in the coding table but reports no service"))
            continue
        for svc in sorted(svcs):
            if not any(services.above({leaf}) & covered for leaf in services.leaves(svc)):
                add(Finding("code_gap", "warning",
                            f"CPT {code} reports {w.noun(svc)}, which no statement of this version rules on"))
        outcomes = {data.vocabulary.statements[s] for s, svs in services_of.items()
                    if any(services.above({leaf}) & svs for svc in svcs for leaf in services.leaves(svc))}
        q = data.vocabulary.code_qualifiers.get(code)
        open_ended = any(r[0] == code for r in data.rows("code_open_ended"))
        if q or open_ended:
            outcomes.add("not_addressed")  # other analytes, substances, procedures
        witness: dict[str, Any] = {"cpt": code, **CLOSED_READING}
        for fact in data.vocabulary.scope:  # in scope, as the request language says it
            witness.update(data.realize(fact, "yes") or {})
        if (len(svcs) > 1 or open_ended) and (q or open_ended):
            decider = f"the {w.noun(q)}" if q else "naming the service"
            add(Finding("ambiguous_code", "info",
                        f"CPT {code} reports {_either([w.noun(x) for x in sorted(svcs)] + (['other procedures'] if open_ended else []))}, "
                        f"with the outcome {_either([_outcome(w, o) for o in sorted(outcomes)])}: {decider} decides which",
                        (), witness))
        elif len(svcs) > 1 and len(outcomes) > 1:
            add(Finding("ambiguous_code", "warning",
                        f"CPT {code} reports services with different outcomes "
                        f"({_either([_outcome(w, o) for o in sorted(outcomes)])}) "
                        f"and no qualifier decides which", (), witness))
    coded = {svc for svcs in by_code.values() for svc in svcs}
    if not data.rows("code"):
        # no coding table is known: one note, not one per statement
        add(Finding("statement_without_code", "info",
                    f"the version has no coding table: its {len(services_of)} statements are reached by service only"))
        return
    for s, svcs in sorted(services_of.items()):
        if data.outcomes.means(data.vocabulary.statements.get(s), "referred"):
            continue  # a referral has no code of its own in this policy
        if not any(services.above({leaf}) & coded or leaf in coded for svc in svcs for leaf in services.leaves(svc)) \
                and not any(svc in coded for svc in svcs):
            add(Finding("statement_without_code", "warning",
                        f"{w.statement_name(s)} rules on services no code of the coding table reports", (s,)))


def _check_citations(data: VersionData, add, w: Words) -> None:
    quoted = {atom(r[0]) for r in data.rows("statement_quote")}
    for s in sorted(data.vocabulary.statements):
        if s not in quoted:
            add(Finding("citation", "error", f"{w.statement_name(s)} has no quote of the policy text", (s,)))
    for f, quote in data.quotes():
        if data.quote_position(quote) < 0:
            subject = atom(f.args[0]) if isinstance(f.args[0], Term) and not f.args[0].args else None
            add(Finding("citation", "error",
                        f"{f.name} quote is not in the version's source text: \"{quote[:70]}\"{_closest_passage(data, quote)}",
                        (subject,) if subject in data.vocabulary.statements else ()))


def _check_templates(data: VersionData, add) -> None:
    """Notes (info) each id that reads by its label, having no template of
    how it reads in a sentence (kb/schema.pl, "How ids read in sentences")."""
    v = data.vocabulary

    def note(what: str, fallback: str = "its label") -> None:
        add(Finding("no_template", "info", f"{what}: it reads by {fallback}"))

    for fact in sorted(set(v.findings) | set(v.patient_facts)):
        kind = "finding" if fact in v.findings else "patient fact"
        lacking = [x for x in (*v.domain(fact), "unknown") if (fact, x) not in v.fact_readings]
        if lacking:
            note(f"{kind} {fact} has no fact_reads/3 for {', '.join(lacking)}")
        if fact not in v.fact_questions:
            note(f"{kind} {fact} has no fact_asks/2")
    for s in sorted(v.statements):
        if s not in v.statement_readings:
            note(f"statement {s} has no statement_reads/2", "its service's label")
    for o in sorted(set(v.statements.values()) | {"insufficient_information", "not_addressed"}):
        if o not in v.outcome_readings:
            note(f"outcome {o} has no outcome_reads/2")


def _outcome(w: Words, outcome: str | None) -> str:
    """An outcome inside a message: its label ("not medically necessary")."""
    return lower(w.heading(outcome)) if outcome else "none"


def _either(items: list[str]) -> str:
    """"a; b or c": items that may hold commas of their own, joined."""
    return "; ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def _closest_passage(data: VersionData, quote: str) -> str:
    """A hint for a quote the source does not hold: the passage of the source
    (as many words as the quote) that reads most like it, and where a draft's
    own proposed wording goes."""
    import difflib

    words = data.normalised_source.split(" ")
    n = max(1, len(normalise_quote(quote).split(" ")))
    windows = [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))]
    near = difflib.get_close_matches(normalise_quote(quote), windows, n=1, cutoff=0.5)
    closest = f"; the closest passage of the source text is \"{near[0][:120]}\"" if near else ""
    return f"{closest} (quote the source verbatim, or give new text as the draft's wording, docs/drafts.md)"


def _check_vocabulary(data: VersionData, add) -> None:
    v = data.vocabulary
    facts = set(v.findings) | set(v.patient_facts)
    sections = set(data.sections) | {"root"}

    def need(ok: bool, what: str) -> None:
        if not ok:
            add(Finding("vocabulary", "error", what))

    for name, f in v.fields.items():
        need(f.kind in FIELD_KINDS, f"request field {name} has kind {f.kind}, not one of {', '.join(FIELD_KINDS)}")
        need(not f.states_fact or f.fact in v.patient_facts,
             f"request field {name} states no declared patient fact (field_fact/2)")
    for name in ("number_at_least", "number_below"):
        for r in data.rows(name):
            fld = v.fields.get(atom(r[1]))
            need(fld is not None and fld.numeric, f"{name} reads {atom(r[1])}, which is no count or measurement field")
            need(atom(r[0]) in v.patient_facts, f"{name} settles undeclared patient fact {atom(r[0])}")
    for a, b, _ in v.bounds:
        fa, fb = v.fields.get(a), v.fields.get(b)
        need(fa is not None and fa.numeric and fb is not None and fb.numeric,
             f"field_at_most bounds {a} by {b}: both must be count or measurement fields")
    for r in data.rows("listed_code_implies"):
        fld = v.fields.get(atom(r[0]))
        need(fld is not None and fld.kind == "code_list", f"listed_code_implies reads {atom(r[0])}, which is no code list")
        need(atom(r[2]) in v.patient_facts, f"listed_code_implies settles undeclared patient fact {atom(r[2])}")
    for r in data.rows("code_implies"):
        need(atom(r[1]) in v.patient_facts and atom(r[2]) in v.domain(atom(r[1])),
             f"CPT {r[0]} implies {atom(r[1])} = {atom(r[2])}, which is no declared fact and value")
    for r in data.rows("scope"):
        need(atom(r[0]) in facts, f"the scope names undeclared fact {atom(r[0])}")
    groups = {(atom(r[0]), atom(r[1])) for r in data.rows("criterion_group")}
    for st, _c, g in data.rows("member_of"):
        need((atom(st), atom(g)) in groups, f"statement {atom(st)}: member_of names undeclared group {atom(g)}")
    for s, sec, out in data.rows("statement"):
        need(atom(sec) in sections, f"statement {atom(s)} names undeclared section {atom(sec)}")
        need(atom(out) in v.outcomes, f"statement {atom(s)} has undeclared outcome {atom(out)}")
    for s, svc in data.rows("applies_to") + [(c, s) for c, s in data.rows("code_reports")]:
        need(atom(svc) in v.services, f"undeclared service {atom(svc)} (in a fact about {s})")
    for r in data.rows("requires"):
        need(atom(r[1]) in facts, f"statement {atom(r[0])} requires undeclared fact {atom(r[1])}")
    for r in data.rows("criterion"):
        need(atom(r[2]) in facts, f"statement {atom(r[0])} has a criterion on undeclared finding {atom(r[2])}")
    forms = data.hierarchy
    for a, b in forms.findings.edges:
        need(a in v.findings and b in v.findings, f"ontology names undeclared finding in {a} -> {b}")
    for cycle in cycles(forms.findings.edges) + cycles(forms.services.edges):
        add(Finding("vocabulary", "error", f"the ontology has a cycle: {' -> '.join(cycle)}"))
