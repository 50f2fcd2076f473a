%## Draft: transabdominal cerclage on a non-pregnant individual is not medically
% necessary.  It conflicts with non_pregnant_cerclage (any approach), so every
% such request becomes invalid: diff must report it (broken), not "no change".
revision_of("2025-02-15").
statement(non_pregnant_tac_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(non_pregnant_tac_not_medically_necessary, 1, "Transabdominal cerclage on a non-pregnant individual is considered not medically necessary.").
applies_to(non_pregnant_tac_not_medically_necessary, transabdominal_cerclage).
requires(non_pregnant_tac_not_medically_necessary, pregnant, no, "on a non-pregnant individual").
