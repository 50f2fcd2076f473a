%## Draft: a numeric threshold for "shortened cervical length"
%
% The 2025 statements say "shortened cervical length" with no threshold.
% This draft replaces that condition, in both cerclage statements, by the
% ACOG threshold the background already quotes: a cervical length under
% 25 mm before 24 weeks of gestation.
% Proposed wording: cervical_length_threshold.txt

revision_of("2025-02-15").

finding(cervical_length_under_25_mm, "Cervical length under 25 mm before 24 weeks of gestation").

drops_statement(antenatal_transabdominal_cerclage).
drops_statement(non_pregnant_cerclage).

statement(antenatal_transabdominal_cerclage, treatment, medically_necessary).
statement_quote(antenatal_transabdominal_cerclage, 1, "The following treatments are considered medically necessary for recurrent pregnancy loss:").
statement_quote(antenatal_transabdominal_cerclage, 2, "antenatal (during pregnancy) transabdominal/laparoscopic cervical cerclage for an individual with ANY of the following conditions:").
applies_to(antenatal_transabdominal_cerclage, transabdominal_cerclage).
requires(antenatal_transabdominal_cerclage, pregnant, yes, "antenatal (during pregnancy)").
criteria(antenatal_transabdominal_cerclage, any, "for an individual with ANY of the following conditions:").
criterion(antenatal_transabdominal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, "prior failed history-indicated transvaginal cervical cerclage").
criterion(antenatal_transabdominal_cerclage, prior_cervical_trauma, prior_cervical_trauma, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
criterion(antenatal_transabdominal_cerclage, cervical_length_under_25_mm, cervical_length_under_25_mm, "cervical length less than 25 mm before 24 weeks gestation").

statement(non_pregnant_cerclage, treatment, medically_necessary).
statement_quote(non_pregnant_cerclage, 1, "The following treatments are considered medically necessary for recurrent pregnancy loss:").
statement_quote(non_pregnant_cerclage, 2, "cerclage performed on a non-pregnant individual with ANY of the following conditions:").
applies_to(non_pregnant_cerclage, cervical_cerclage).
requires(non_pregnant_cerclage, pregnant, no, "cerclage performed on a non-pregnant individual").
criteria(non_pregnant_cerclage, any, "with ANY of the following conditions:").
criterion(non_pregnant_cerclage, prior_failed_history_indicated_transvaginal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, "prior failed history-indicated transvaginal cervical cerclage").
criterion(non_pregnant_cerclage, prior_cervical_trauma, prior_cervical_trauma, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
criterion(non_pregnant_cerclage, cervical_length_under_25_mm, cervical_length_under_25_mm, "cervical length less than 25 mm before 24 weeks gestation").
