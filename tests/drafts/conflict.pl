% Faulty draft: a second statement on antenatal transabdominal cerclage with
% another outcome.  `covkb check` must report a conflict with a witness.
revision_of("2025-02-15").
statement(tac_during_pregnancy_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(tac_during_pregnancy_not_medically_necessary, 1, "Each of the following interventions is considered not medically necessary for the treatment of recurrent pregnancy loss:").
applies_to(tac_during_pregnancy_not_medically_necessary, transabdominal_cerclage).
requires(tac_during_pregnancy_not_medically_necessary, pregnant, yes, "antenatal (during pregnancy)").
