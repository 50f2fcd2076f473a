%## Cigna 0284, version 2025-02-15 — the document's sections
%
% Every citation names one of these; a section path is read up the
% parent links ("Coverage Policy > Treatment").

%!  section(Section, Parent, Title)
section(instructions_for_use, root, "INSTRUCTIONS FOR USE").
section(overview, root, "Overview").
section(coverage_policy, root, "Coverage Policy").
section(diagnostic_testing, coverage_policy, "Diagnostic Testing").
section(treatment, coverage_policy, "Treatment").
section(health_equity_considerations, root, "Health Equity Considerations").
section(general_background, root, "General Background").
section(medicare_coverage_determinations, root, "Medicare Coverage Determinations").
section(coding_information, root, "Coding Information").
section(coding_diagnostic_testing, coding_information, "Diagnostic Testing").
section(coding_treatment, coding_information, "Treatment").
section(references, root, "References").
section(revision_details, root, "Revision Details").
