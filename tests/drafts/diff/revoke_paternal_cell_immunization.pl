%## Draft: paternal cell immunization is no longer ruled on (issue 8: CPT 86950 with no
% service named goes from not medically necessary to needing the service).
revision_of("2025-02-15").
drops_statement(paternal_cell_immunization_not_medically_necessary).
