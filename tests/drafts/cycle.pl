% Faulty draft: prior cervical trauma made an example of a cone biopsy, which
% is already an example of it: the findings ontology has a cycle.  Loading
% it must fail with the cycle named (an evaluator would loop).
revision_of("2025-02-15").
finding_example(prior_cervical_trauma, cone_biopsy, treatment, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
