% Faulty draft: a criterion on an undeclared finding, and a cycle in the
% findings ontology.
revision_of("2025-02-15").
drops_statement(non_pregnant_cerclage).
statement(non_pregnant_cerclage, treatment, medically_necessary).
statement_quote(non_pregnant_cerclage, 1, "cerclage performed on a non-pregnant individual with ANY of the following conditions:").
applies_to(non_pregnant_cerclage, cervical_cerclage).
requires(non_pregnant_cerclage, pregnant, no, "cerclage performed on a non-pregnant individual").
criteria(non_pregnant_cerclage, any, "with ANY of the following conditions:").
criterion(non_pregnant_cerclage, cervical_insufficiency, cervical_insufficiency, "cervical incompetence").
finding_example(prior_cervical_trauma, cone_biopsy, treatment, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
