"""What each outcome means, read once from the knowledge base.

kb/vocabulary.pl declares every outcome's label (``outcome/2``), its favour
to coverage (``outcome_favour/2``) and its meaning (``outcome_means/2``);
each meaning declares its CRD coverage-information codes (``meaning_crd/3``,
``meaning_crd_doc/3`` where answers the clinician gives would decide, and
``meaning_crd_code/2`` where the ordered code is too coarse to),
how it is drawn (``meaning_tone/2``) and how a CDS Hooks card shows it
(``meaning_card/3``: indicator and heading) and the Da Vinci PAS review
action an item takes (``meaning_review/4``).  A policy may add an outcome with
the same declarations.  Every module that needs to know what an outcome
means (compare, diff, check, CRD, pictures, pages) asks ``Outcomes``; none
names an outcome id.  An outcome a version uses without all of these is
refused when the version loads (``KnowledgeBaseError``), never read with a
silent default.

The meanings covkb's modules reason with: ``covered``, ``denied``,
``referred``, ``not_addressed``, ``unknown`` (the text that would decide is
not known) and ``undecided`` (the facts given leave it open).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from .errors import KnowledgeBaseError

MEANINGS = ("covered", "denied", "referred", "not_addressed", "unknown", "undecided")
TONES = ("favourable", "adverse", "open", "neutral")
INDICATORS = ("info", "warning", "critical")  # CDS Hooks 2.0 Card.indicator
REVIEW_ACTIONS = ("approved", "denied", "pended_for_information", "pended_for_review")  # PAS, per item


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outcome and everything it means."""

    id: str
    label: str
    favour: int            # higher is more favourable to coverage
    meaning: str           # one of MEANINGS
    crd_covered: str       # CRD coverage-information `covered`
    crd_info_needed: str | None
    crd_doc_needed: str | None   # CRD `doc-needed` where answers decide (then a questionnaire), else None
    crd_doc_purpose: str | None  # CRD `doc-purpose` beside it
    tone: str              # one of TONES
    card_indicator: str    # CDS Hooks Card.indicator, one of INDICATORS
    card_heading: str      # the words a card's summary opens with ("Covered")
    review_action: str     # Da Vinci PAS: one of REVIEW_ACTIONS
    review_code: str       # its X12 306 code (A1, A3, A4)
    review_heading: str    # the words a PAS note opens with ("Approved")
    crd_code_info_needed: str | None = None  # CRD `info-needed` where the ordered code is too coarse to decide

    @property
    def decided(self) -> bool:
        """A decision on coverage: covered or denied."""
        return self.meaning in ("covered", "denied")


class Outcomes(Mapping[str, Outcome]):
    """The declared outcomes of a version, by id."""

    def __init__(self, outcomes: Iterable[Outcome]) -> None:
        self._by_id = {o.id: o for o in outcomes}

    def __getitem__(self, outcome: str) -> Outcome:
        try:
            return self._by_id[outcome]
        except KeyError:
            raise KnowledgeBaseError(f"outcome {outcome!r} is not declared (outcome/2, outcome_favour/2, "
                                     "outcome_means/2 in kb/vocabulary.pl or the policy's vocabulary)",
                                     code="kb_outcome") from None

    def __contains__(self, outcome: object) -> bool:
        return outcome in self._by_id

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def means(self, outcome: str | None, *meanings: str) -> bool:
        """outcome has one of these meanings (None: no outcome, never)."""
        return outcome is not None and self[outcome].meaning in meanings

    def with_meaning(self, meaning: str) -> tuple[str, ...]:
        return tuple(o.id for o in self._by_id.values() if o.meaning == meaning)

    def merged(self, other: Outcomes) -> Outcomes:
        """Both versions' outcomes (diff and compare read two)."""
        return Outcomes([*self._by_id.values(), *(o for k, o in other._by_id.items() if k not in self._by_id)])


def read_outcomes(rows: Callable[[str], list[tuple]], atom: Callable[[object], str],
                  used: Iterable[str] = ()) -> Outcomes:
    """The outcomes declared in a version's facts (``rows(name)``), checked:
    each declared or used outcome (``used``: what statements and headings
    decide) has a label, a favour and a meaning, each meaning its CRD codes,
    its tone and its card."""
    labels = {atom(o): label for o, label in rows("outcome")}
    favour = {atom(o): int(r) for o, r in rows("outcome_favour")}
    means = {atom(o): atom(m) for o, m in rows("outcome_means")}
    crd = {atom(m): (str(c), i if isinstance(i, str) else None) for m, c, i in rows("meaning_crd")}
    doc = {atom(m): (str(d), str(p)) for m, d, p in rows("meaning_crd_doc")}
    code = {atom(m): str(i) for m, i in rows("meaning_crd_code")}
    tone = {atom(m): atom(t) for m, t in rows("meaning_tone")}
    card = {atom(m): (atom(i), str(h)) for m, i, h in rows("meaning_card")}
    review = {atom(m): (atom(a), str(c), str(h)) for m, a, c, h in rows("meaning_review")}
    problems = []
    declared = {atom(m) for m, _ in rows("meaning")}
    if declared != set(MEANINGS):
        problems.append(f"the meanings declared (meaning/2) are {', '.join(sorted(declared))}; "
                        f"covkb reads {', '.join(MEANINGS)}")
    for m in MEANINGS:
        if m not in crd or m not in tone:
            problems.append(f"meaning {m} has no {'meaning_crd/3' if m not in crd else 'meaning_tone/2'}")
        elif tone[m] not in TONES:
            problems.append(f"meaning {m} has tone {tone[m]!r}, not one of {', '.join(TONES)}")
        if m not in card:
            problems.append(f"meaning {m} has no meaning_card/3")
        elif card[m][0] not in INDICATORS:
            problems.append(f"meaning {m} has card indicator {card[m][0]!r}, not one of {', '.join(INDICATORS)}")
        if m not in review:
            problems.append(f"meaning {m} has no meaning_review/4")
        elif review[m][0] not in REVIEW_ACTIONS:
            problems.append(f"meaning {m} has review action {review[m][0]!r}, not one of {', '.join(REVIEW_ACTIONS)}")
    out = []
    for o in sorted({*labels, *favour, *means, *used}):
        missing = [name for name, table in (("outcome/2", labels), ("outcome_favour/2", favour),
                                            ("outcome_means/2", means)) if o not in table]
        if missing:
            problems.append(f"outcome {o} has no {', '.join(missing)}")
        elif means[o] not in MEANINGS:
            problems.append(f"outcome {o} means {means[o]!r}, not one of {', '.join(MEANINGS)}")
        else:
            out.append(Outcome(o, labels[o], favour[o], means[o], *crd[means[o]], *doc.get(means[o], (None, None)),
                               tone[means[o]], *card[means[o]], *review[means[o]], code.get(means[o])))
    if problems:
        raise KnowledgeBaseError("undeclared outcome meanings: " + "; ".join(problems), code="kb_outcome")
    return Outcomes(out)
