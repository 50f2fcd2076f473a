%## Instructions for use and Overview

%# > This policy is fictional: it was written for the automated tests of
%# > covkb and describes no real health plan's coverage.
not_formalised(instructions_for_use, "This policy is fictional: it was written for the automated tests of covkb and describes no real health plan's coverage.", "A notice about the document itself, not a coverage rule.").

%# > In the event of a conflict, the member's benefit plan document always
%# > supersedes the information in this Medical Policy.
not_formalised(instructions_for_use, "In the event of a conflict, the member's benefit plan document always supersedes the information in this Medical Policy.", "covkb reads no benefit plan document; its answers are what this policy says, which a plan document may override.").

%# > Medical directors may exercise clinical judgment in making individual
%# > coverage determinations.
not_formalised(instructions_for_use, "Medical directors may exercise clinical judgment in making individual coverage determinations.", "Clinical judgment and medical-director discretion are outside any encoding.").
% The policy has no claims rule for codes its table does not list (no
% uncovered_code_denial/2): such a code with a named service is decided by
% that service's statement, with only the coding note beside it.

%# > This Medical Policy addresses positive airway pressure (PAP) devices and
%# > related services for individuals with obstructive sleep apnea.
%!  scope(Fact, Section, Quote)
% Every statement is about services for obstructive sleep apnea: where the
% request rules it out (an AHI under 5), the policy does not address the
% service.  What settles obstructive_sleep_apnea: the AHI (the definition
% in general_background.pl) or an OSA diagnosis code.
scope(obstructive_sleep_apnea, overview, "This Medical Policy addresses positive airway pressure (PAP) devices and related services for individuals with obstructive sleep apnea.").
interpretation(scope(obstructive_sleep_apnea), "The policy addresses services 'for individuals with obstructive sleep apnea'; covkb reads this as: the individual has obstructive sleep apnea, an AHI of 5 or more events per hour as the General Background defines it, or an OSA diagnosis code. Where that is ruled out, the policy does not address the service.").

%# > Obstructive sleep apnea is characterized by repeated collapse of the
%# > upper airway during sleep, ...
not_formalised(overview, "Obstructive sleep apnea is characterized by repeated collapse of the upper airway during sleep, leading to reduced or absent airflow, oxygen desaturation and arousals from sleep.", "A description of the condition; the policy's working definition (by AHI) is in the General Background.").
