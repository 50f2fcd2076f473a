%## covkb vocabulary shared by every policy
%
% Fact syntax: the subset that SWI-Prolog and clingo both read unchanged
% (no directives, no lists, double-quoted strings, % comments).
% Loaded by both evaluators; ids are ^[a-z][a-z0-9_]*$.

%!  outcome(Outcome, Label)
% A determination's outcome.  A policy's own words are in its statements;
% these labels are covkb's.
outcome(medically_necessary, "Medically necessary").
outcome(not_medically_necessary, "Not medically necessary").
outcome(not_covered, "Not covered or reimbursable").
outcome(experimental_and_investigational, "Experimental and investigational").
outcome(criteria_not_met, "Medically necessary only when the criteria are met; they are not met").
outcome(not_addressed, "Not addressed by this policy").
outcome(refer_to_other_policy, "Addressed by another coverage policy or benefit").
outcome(insufficient_information, "Cannot be decided from the facts given").
outcome(unknown, "Not known: the version in force is only partly known, and not here").

%!  outcome_reads(Outcome, Words)
% The decision as the first words of a sentence a person reads ("Medically
% necessary: the patient is pregnant and ...").
outcome_reads(medically_necessary, "Medically necessary").
outcome_reads(not_medically_necessary, "Not medically necessary").
outcome_reads(not_covered, "Not covered").
outcome_reads(experimental_and_investigational, "Experimental and investigational, so not covered").
outcome_reads(criteria_not_met, "Criteria not met").
outcome_reads(not_addressed, "Not addressed by this policy").
outcome_reads(refer_to_other_policy, "Referred to another coverage policy or benefit").
outcome_reads(insufficient_information, "Not decided").
outcome_reads(unknown, "Not known").

%!  outcome_favour(Outcome, Rank)
% How favourable an outcome is to coverage (higher is more favourable):
% diff calls a change to a higher rank `relaxed`, to a lower `restricted`.
outcome_favour(medically_necessary, 5).
outcome_favour(refer_to_other_policy, 4).
outcome_favour(not_addressed, 3).
outcome_favour(insufficient_information, 3).
outcome_favour(unknown, 3).
outcome_favour(criteria_not_met, 2).
outcome_favour(not_medically_necessary, 1).
outcome_favour(experimental_and_investigational, 1).
outcome_favour(not_covered, 0).

%!  outcome_means(Outcome, Meaning)
% What an outcome means for coverage: the one reading every surface takes
% (compare's and diff's classes of change, CRD coverage information, how
% pictures and pages draw it, check's questions).  An outcome a policy adds
% declares its label, its favour and its meaning; an outcome without them
% is refused when the version loads.
outcome_means(medically_necessary, covered).
outcome_means(not_medically_necessary, denied).
outcome_means(not_covered, denied).
outcome_means(experimental_and_investigational, denied).
outcome_means(criteria_not_met, denied).
outcome_means(refer_to_other_policy, referred).
outcome_means(not_addressed, not_addressed).
outcome_means(unknown, unknown).
outcome_means(insufficient_information, undecided).

%!  meaning(Meaning, Label)
% The meanings an outcome can have.
meaning(covered, "Covered: the policy finds the service medically necessary").
meaning(denied, "Denied: the policy does not cover the service for this patient").
meaning(referred, "Referred: another coverage policy or benefit decides").
meaning(not_addressed, "Not addressed: the policy says nothing of this request").
meaning(unknown, "Unknown: the text that would decide is not known").
meaning(undecided, "Undecided: the facts given leave the outcome open").

%!  meaning_crd(Meaning, Covered, InfoNeeded)
% Da Vinci CRD coverage-information for an outcome of this meaning: the
% `covered` code and the `info-needed` code (none: no info-needed).  Only
% covered and denied are decisions; everything else is conditional, with
% OTH: the policy alone cannot close it (docs/service.md gives why).
meaning_crd(covered, "covered", none).
meaning_crd(denied, "not-covered", none).
meaning_crd(referred, "conditional", "OTH").
meaning_crd(not_addressed, "conditional", "OTH").
meaning_crd(unknown, "conditional", "OTH").
meaning_crd(undecided, "conditional", "OTH").

%!  meaning_crd_doc(Meaning, DocNeeded, DocPurpose)
% Da Vinci CRD STU 2.2 coverage-information `doc-needed` and `doc-purpose`
% for an outcome of this meaning, where answers the clinician can give
% would decide it: the `questionnaire` sub-extension then names the
% Questionnaire covkb generates from the policy for what is still open
% (covkb.questionnaire), to be sent with the prior authorization request.
% A meaning without one needs no documentation: the policy alone decides,
% or no answer could (another policy decides, the text is not known).
meaning_crd_doc(undecided, "clinical", "withpa").

%!  meaning_crd_code(Meaning, InfoNeeded)
% Da Vinci CRD `info-needed` for an outcome of this meaning when what is
% still open is what the ordered code leaves open (which service, which
% qualifier value): the order needs a more specific code, which is not
% asked through a questionnaire at order time (docs/service.md), so no
% doc-needed then.  A meaning without one keeps meaning_crd/3's code.
meaning_crd_code(undecided, "detail-code").

%!  meaning_tone(Meaning, Tone)
% How pictures and pages draw an outcome of this meaning: favourable,
% adverse, open (not decided) or neutral (not this policy's decision).
meaning_tone(covered, favourable).
meaning_tone(denied, adverse).
meaning_tone(referred, neutral).
meaning_tone(not_addressed, neutral).
meaning_tone(unknown, open).
meaning_tone(undecided, open).

%!  meaning_card(Meaning, Indicator, Heading)
% How a CDS Hooks card shows an outcome of this meaning: its indicator
% (info, warning or critical, from the clinician's side as Da Vinci CRD
% asks: most coverage requirements are info, a service that will not be
% reimbursed a warning, critical never for coverage) and the words its
% summary opens with.
meaning_card(covered, info, "Covered").
meaning_card(denied, warning, "Not covered").
meaning_card(referred, info, "Another coverage policy decides").
meaning_card(not_addressed, info, "Not addressed by this policy").
meaning_card(unknown, info, "Not decided: the policy text is not known").
meaning_card(undecided, info, "More information needed").

%!  meaning_review(Meaning, Action, X12Code, Heading)
% Da Vinci PAS: the review action an item of a prior-authorization request
% (Claim/$submit) takes when its outcome has this meaning, its X12 306
% code (the guide's reviewActionCode value set: A1 certified in total, A3
% not certified, A4 pended) and the words its note opens with.  Only a
% decision approves or denies; information missing pends the item with the
% questionnaire that asks for it; an outcome the policy does not decide
% (another policy, not addressed, text not known) pends it for a person,
% never approving it unseen.
meaning_review(covered, approved, "A1", "Approved").
meaning_review(denied, denied, "A3", "Denied").
meaning_review(undecided, pended_for_information, "A4", "Pended: more information is needed").
meaning_review(referred, pended_for_review, "A4", "Pended for a person's review: another coverage policy decides").
meaning_review(not_addressed, pended_for_review, "A4", "Pended for a person's review: the policy does not address it").
meaning_review(unknown, pended_for_review, "A4", "Pended for a person's review: the policy text that would decide is not known").

%!  truth(Value, Label)
% The values of a yes/no fact in a request or a case.
truth(yes, "yes").
truth(no, "no").
