%## Draft: CPT 86357 moved under a "Considered Not Medically Necessary" coding
% heading while the statement on NK cell testing still says "not covered or
% reimbursable": check must report the heading against the outcome.
revision_of("2025-02-15").
drops_code("86357").
code("86357", coding_diagnostic_testing, "Natural killer (NK) cells, total count").
code_heading("86357", "Considered Not Medically Necessary:").
code_reports("86357", other_nk_cell_test).
