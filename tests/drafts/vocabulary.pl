% Faulty draft: a criterion on an undeclared finding, and a code implying an
% undeclared value.  (A cycle in the ontology is refused at load: cycle.pl.)
revision_of("2025-02-15").
drops_statement(non_pregnant_cerclage).
statement(non_pregnant_cerclage, treatment, medically_necessary).
statement_quote(non_pregnant_cerclage, 1, "cerclage performed on a non-pregnant individual with ANY of the following conditions:").
applies_to(non_pregnant_cerclage, cervical_cerclage).
requires(non_pregnant_cerclage, pregnant, no, "cerclage performed on a non-pregnant individual").
criteria(non_pregnant_cerclage, any, "with ANY of the following conditions:").
criterion(non_pregnant_cerclage, cervical_insufficiency, cervical_insufficiency, "cervical incompetence").
code_implies("59325", pregnant, maybe, "Cerclage of cervix, during pregnancy; abdominal").
