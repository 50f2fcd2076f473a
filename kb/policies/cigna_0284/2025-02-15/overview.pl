%## Instructions for use and Overview

%# > Coverage determinations in each specific instance require consideration
%# > of 1) the terms of the applicable benefit plan document in effect on the
%# > date of service; ...
% Not formalised: covkb has no benefit plan documents, laws or collateral
% sources; it answers what this policy says, nothing more.
not_formalised(instructions_for_use, "In the event of a conflict, a customer's benefit plan document always supersedes the information in the Coverage Policies.", "covkb reads no benefit plan document; its answers are what this policy says, which a plan document may override.").
%# > Claims submitted for services that are not accompanied by covered
%# > code(s) under the applicable Coverage Policy will be denied as not covered.
% A claims rule, not a medical-necessity rule: the determination stays what
% the statements decide, and a request with a code the coding table does not
% list carries this sentence as a notice.
uncovered_code_denial(instructions_for_use, "Claims submitted for services that are not accompanied by covered code(s) under the applicable Coverage Policy will be denied as not covered.").
not_formalised(instructions_for_use, "Medical directors are expected to exercise clinical judgment where appropriate and have discretion in making individual coverage determinations.", "Clinical judgment and medical-director discretion are outside any encoding.").

%# > This Coverage Policy addresses recurrent pregnancy loss.
%!  scope(Fact, Section, Quote)
% Every statement of the policy is about services for recurrent pregnancy
% loss: where the request rules it out, the policy does not address the
% service.
scope(recurrent_pregnancy_loss, overview, "This Coverage Policy addresses recurrent pregnancy loss.").
interpretation(scope(recurrent_pregnancy_loss), "The statements speak of services 'for recurrent pregnancy loss'. A request cannot state a service's purpose, so covkb reads this as: the individual has recurrent pregnancy loss (two or more failed pregnancies, or an RPL diagnosis code); where that is ruled out, the policy does not address the service.").
