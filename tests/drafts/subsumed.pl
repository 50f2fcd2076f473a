% Faulty draft: NK cell testing during pregnancy, restated with the outcome
% the general statement already gives.
revision_of("2025-02-15").
statement(nk_cell_testing_during_pregnancy_not_covered, diagnostic_testing, not_covered).
statement_quote(nk_cell_testing_during_pregnancy_not_covered, 1, "natural killer (NK) cell testing").
applies_to(nk_cell_testing_during_pregnancy_not_covered, nk_cell_test).
requires(nk_cell_testing_during_pregnancy_not_covered, pregnant, yes, "antenatal (during pregnancy)").
