%## EX-101 (fictional), version 2026-01-01 — the document's sections
%
% Every citation names one of these; a section path is read up the
% parent links ("Coverage Policy > Titration Studies").

%!  section(Section, Parent, Title)
section(instructions_for_use, root, "INSTRUCTIONS FOR USE").
section(overview, root, "Overview").
section(coverage_policy, root, "Coverage Policy").
section(pap_devices, coverage_policy, "Positive Airway Pressure Devices").
section(titration_studies, coverage_policy, "Titration Studies").
section(general_background, root, "General Background").
section(coding_information, root, "Coding Information").
section(coding_devices, coding_information, "Devices").
section(coding_sleep_studies, coding_information, "Sleep Studies").
section(coding_diagnoses, coding_information, "Diagnoses").
section(revision_details, root, "Revision Details").
