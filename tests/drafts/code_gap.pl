% Faulty draft: a code that reports no service, and one for a service no
% statement rules on; and a statement no code reports.
revision_of("2025-02-15").
code("86001", coding_diagnostic_testing, "Natural killer (NK) cells, total count").
code_heading("86001", "Not Covered or Reimbursable:").
code("86002", coding_diagnostic_testing, "Natural killer (NK) cells, total count").
code_heading("86002", "Not Covered or Reimbursable:").
code_reports("86002", parental_karyotyping).
drops_code("86357").
