%## Draft: declare intralipid infusion not medically necessary
% (Golden: the facts queries/drafts/intralipid_not_medically_necessary.toml must compile to, in this order; once the
% shipped draft itself, written by hand in Prolog.)
%
% The 2025 text discusses intralipid infusion only in its background ("strong
% evidence based conclusions cannot be made at this time"); this draft adds
% it to the interventions considered not medically necessary.
% Proposed wording: intralipid_not_medically_necessary.txt

revision_of("2025-02-15").

%# > Each of the following interventions is considered not medically
%# > necessary for the treatment of recurrent pregnancy loss:
%# > - intralipid infusion
statement(intralipid_infusion_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(intralipid_infusion_not_medically_necessary, 1, "Each of the following interventions is considered not medically necessary for the treatment of recurrent pregnancy loss:").
statement_quote(intralipid_infusion_not_medically_necessary, 2, "intralipid infusion").
applies_to(intralipid_infusion_not_medically_necessary, intralipid_infusion).
