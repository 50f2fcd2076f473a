%## Draft: reword the NK cell testing statement, without changing it
% (Golden: the facts queries/drafts/reword_nk_cell_testing.toml must compile to, in this order; once the
% shipped draft itself, written by hand in Prolog.)
%
% A pure rewording: the statement keeps its id, service and outcome; only
% its words change.  `covkb diff 2025-02-15 queries/drafts/reword_nk_cell_testing.toml`
% must report no change.
% Proposed wording: reword_nk_cell_testing.txt

revision_of("2025-02-15").
drops_statement(nk_cell_testing_not_covered).

statement_reads(nk_cell_testing_not_covered, "natural killer (NK) cell testing for recurrent pregnancy loss").
statement(nk_cell_testing_not_covered, diagnostic_testing, not_covered).
statement_quote(nk_cell_testing_not_covered, 1, "Natural killer (NK) cell testing for recurrent pregnancy loss is not covered or reimbursable.").
applies_to(nk_cell_testing_not_covered, nk_cell_test).
