%## Revision Details

%# > New policy | Initial policy on positive airway pressure devices for
%# > obstructive sleep apnea, written as a fictional test policy for covkb.
%# > | 1/1/2026
not_formalised(revision_details, "Initial policy on positive airway pressure devices for obstructive sleep apnea, written as a fictional test policy for covkb.", "History of the policy: this is its first version, so there is nothing earlier to encode.").
