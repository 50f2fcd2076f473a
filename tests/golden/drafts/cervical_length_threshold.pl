%## Draft: a numeric threshold for "shortened cervical length"
% (Golden: the facts queries/drafts/cervical_length_threshold.toml must compile to, in this order; once the
% shipped draft itself, written by hand in Prolog.)
%
% The 2025 statements say "shortened cervical length" with no threshold.
% This draft replaces that condition, in both cerclage statements, by the
% ACOG threshold the background already quotes: a cervical length under
% 25 mm before 24 weeks of gestation.
% Proposed wording: cervical_length_threshold.txt

revision_of("2025-02-15").

finding(cervical_length_under_25_mm, "Cervical length under 25 mm before 24 weeks of gestation").

%# > - cervical length less than 25 mm before 24 weeks gestation
drops_criterion(antenatal_transabdominal_cerclage, shortened_cervical_length).
criterion(antenatal_transabdominal_cerclage, cervical_length_under_25_mm, cervical_length_under_25_mm, "cervical length less than 25 mm before 24 weeks gestation").
drops_criterion(non_pregnant_cerclage, shortened_cervical_length).
criterion(non_pregnant_cerclage, cervical_length_under_25_mm, cervical_length_under_25_mm, "cervical length less than 25 mm before 24 weeks gestation").
