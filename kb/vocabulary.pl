%## covkb vocabulary shared by every policy
%
% Fact syntax: the subset that SWI-Prolog and clingo both read unchanged
% (no directives, no lists, double-quoted strings, % comments).
% Loaded by both evaluators; ids are ^[a-z][a-z0-9_]*$.

%!  outcome(Outcome, Label)
% A determination's outcome.  The policy's own words are in the label.
outcome(medically_necessary, "Medically necessary").
outcome(not_medically_necessary, "Not medically necessary").
outcome(not_covered, "Not covered or reimbursable").
outcome(criteria_not_met, "Medically necessary only when the criteria are met; they are not met").
outcome(not_addressed, "Not addressed by this policy").
outcome(refer_to_other_policy, "Addressed by another coverage policy or benefit").
outcome(insufficient_information, "Cannot be decided from the facts given").
outcome(unknown, "Not known: the version in force is only partly known, and not here").

%!  truth(Value, Label)
% The values a patient fact can take in a request or a case.
truth(yes, "yes").
truth(no, "no").

%!  qualifier(Qualifier, Label)
% A request field that some codes need to say which service they report.
qualifier(analyte, "Analyte measured (CPT 83520)").
qualifier(substance, "Substance infused (CPT 96365)").
