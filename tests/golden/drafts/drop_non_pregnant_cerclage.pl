%## Draft: drop the statement on cerclage for a non-pregnant individual
% (Golden: the facts queries/drafts/drop_non_pregnant_cerclage.toml must compile to, in this order; once the
% shipped draft itself, written by hand in Prolog.)
%
% The background says of it that "the data is insufficient to allow
% evidence-based conclusions regarding safety and efficacy"; this draft
% removes the statement, so cerclage before pregnancy is no longer addressed.

revision_of("2025-02-15").
drops_statement(non_pregnant_cerclage).
