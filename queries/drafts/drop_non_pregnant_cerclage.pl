%## Draft: drop the statement on cerclage for a non-pregnant individual
%
% The background says of it that "the data is insufficient to allow
% evidence-based conclusions regarding safety and efficacy"; this draft
% removes the statement, so cerclage before pregnancy is no longer addressed.

revision_of("2025-02-15").
drops_statement(non_pregnant_cerclage).
