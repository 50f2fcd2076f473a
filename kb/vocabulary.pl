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

%!  truth(Value, Label)
% The values of a yes/no fact in a request or a case.
truth(yes, "yes").
truth(no, "no").
