% Faulty draft: a statement whose requirements contradict each other.
revision_of("2025-02-15").
statement(cerclage_pregnant_and_not, treatment, medically_necessary).
statement_quote(cerclage_pregnant_and_not, 1, "The following treatments are considered medically necessary for recurrent pregnancy loss:").
applies_to(cerclage_pregnant_and_not, transvaginal_cerclage).
requires(cerclage_pregnant_and_not, pregnant, yes, "antenatal (during pregnancy)").
requires(cerclage_pregnant_and_not, pregnant, no, "cerclage performed on a non-pregnant individual").
