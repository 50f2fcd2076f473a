%## Coding Information
%
%   code(Code, Section, Description)            a row of the coding table
%   code_heading(Code, Quote)                   the heading it is listed under
%   code_reports(Code, Service)                 a service the code can report here
%   code_note(Code, Quote)                      a footnote on the row
%   code_qualifier(Code, Service, Qualifier, Value)
%                                               the code reports Service only
%                                               when Qualifier is Value
%   code_implies(Code, Fact, Value, Quote)      reporting the code settles Fact
%   code_open_ended(Code, Quote)                a generic code: it reports this
%                                               policy's service only when the
%                                               request names that service

%# > Notes: 1. This list of codes may not be all-inclusive.
codes_not_exhaustive(coding_information, "This list of codes may not be all-inclusive.").
%# > 2. Deleted codes and codes which are not effective at the time the
%# > service is rendered may not be eligible for reimbursement.
not_formalised(coding_information, "Deleted codes and codes which are not effective at the time the service is rendered may not be eligible for reimbursement.", "covkb holds no code effective-date tables.").

%## Coding Information — Devices

%# > Considered Medically Necessary when criteria in the applicable policy
%# > statements listed above are met:
%# > E0470  Respiratory assist device, bi-level pressure capability, without
%# >        backup rate feature, used with noninvasive interface
code("E0470", coding_devices, "Respiratory assist device, bi-level pressure capability, without backup rate feature, used with noninvasive interface").
code_heading("E0470", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_reports("E0470", bilevel_device).
code_implies("E0470", pressure_mode, bilevel, "Respiratory assist device, bi-level pressure capability, without backup rate feature").

%# > E0601  Continuous positive airway pressure (CPAP) device
code("E0601", coding_devices, "Continuous positive airway pressure (CPAP) device").
code_heading("E0601", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_reports("E0601", cpap_device).
code_implies("E0601", pressure_mode, fixed, "Continuous positive airway pressure (CPAP) device").
interpretation(code_implies("E0601", pressure_mode, fixed), "A CPAP device delivers air at a single continuous pressure (General Background), so covkb reads E0601 as the pressure mode fixed; a request stating a bi-level mode with E0601 contradicts its code.").

%# > Considered Not Medically Necessary for obstructive sleep apnea:
%# > E0471  Respiratory assist device, bi-level pressure capability, with
%# >        backup rate feature, used with noninvasive interface
code("E0471", coding_devices, "Respiratory assist device, bi-level pressure capability, with backup rate feature, used with noninvasive interface").
code_heading("E0471", "Considered Not Medically Necessary for obstructive sleep apnea:").
code_reports("E0471", bilevel_device).
code_implies("E0471", pressure_mode, bilevel_backup, "Respiratory assist device, bi-level pressure capability, with backup rate feature").

%# > Not Covered or Reimbursable:
%# > A9270 [*]  Non-covered item or service
%# > [*]Note: When used to represent a positional therapy device (sleep
%# > position trainer).
code("A9270", coding_devices, "Non-covered item or service").
code_heading("A9270", "Not Covered or Reimbursable:").
code_note("A9270", "When used to represent a positional therapy device (sleep position trainer).").
code_reports("A9270", positional_therapy_device).
code_open_ended("A9270", "When used to represent a positional therapy device (sleep position trainer).").

%## Coding Information — Sleep Studies

%# > Considered Medically Necessary when criteria in the applicable policy
%# > statements listed above are met:
%# > 95811  Polysomnography, attended by a technologist, with initiation of
%# >        continuous positive airway pressure therapy or bi-level ventilation
code("95811", coding_sleep_studies, "Polysomnography, attended by a technologist, with initiation of continuous positive airway pressure therapy or bi-level ventilation").
code_heading("95811", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_reports("95811", cpap_titration_study).
code_reports("95811", bilevel_titration_study).
code_qualifier("95811", cpap_titration_study, titration_device, cpap).
code_qualifier("95811", bilevel_titration_study, titration_device, bilevel).
interpretation(code_reports("95811", bilevel_titration_study), "95811 reports the initiation of CPAP therapy or of bi-level ventilation, which the Titration Studies statements decide differently; the request's titration device (the device whose pressure the study titrates) says which.").

%## Coding Information — Diagnoses

%# > G47.33  Obstructive sleep apnea (adult) (pediatric)
%!  listed_code_implies(Field, Code, Fact, Value)
listed_code_implies(diagnoses, "G47.33", obstructive_sleep_apnea, yes).
interpretation(listed_code_implies(diagnoses, "G47.33"), "The Coding Information lists ICD-10-CM G47.33 'Obstructive sleep apnea (adult) (pediatric)' under Diagnoses; covkb reads a request listing it as: the individual has obstructive sleep apnea. With an AHI under 5 (which the policy's definition rules out) the request contradicts itself.").
