% Faulty draft: a quote that is not in any source text, and a statement
% without a quote.
revision_of("2025-02-15").
statement(intralipid_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(intralipid_not_medically_necessary, 1, "Intralipid infusion is considered experimental.").
applies_to(intralipid_not_medically_necessary, intralipid_infusion).
statement(medication_not_covered, treatment, not_covered).
applies_to(medication_not_covered, chromosomal_microarray).
drops_statement(genetic_testing_refer_to_genetic_testing_policy).
