%## EX-101 (fictional) — vocabulary of services, patient facts and findings
%
% The ids a request may use, and the request language: which fields a
% request may state beyond the service, the CPT/HCPCS code and findings.
% How each field settles a patient fact is version content (the number
% rules and diagnosis codes of 2026-01-01/coverage_policy.pl and
% general_background.pl).

%## Services

%!  service(Service, Label)
service(pap_device, "Positive airway pressure (PAP) device, any type").
service(cpap_device, "Continuous positive airway pressure (CPAP) device").
service(bilevel_device, "Bi-level positive airway pressure device, with or without a backup rate").
service(pap_titration_study, "Attended polysomnography with initiation of PAP therapy (titration study), any device").
service(cpap_titration_study, "Attended polysomnography with initiation of CPAP therapy (CPAP titration study)").
service(bilevel_titration_study, "Attended polysomnography with initiation of bi-level ventilation (bi-level titration study)").
service(positional_therapy_device, "Positional therapy device (sleep position trainer)").
service(oral_appliance, "Oral appliance for obstructive sleep apnea").
service(pap_cleaning_machine, "Cleaning machine for PAP equipment (ozone or ultraviolet sanitizer)").

%!  service_is_a(Specific, General)
% A request for the general service leaves open which specific one it is.
% Every PAP device delivers either one continuous pressure (CPAP, including
% auto-adjusting CPAP) or two (bi-level); every titration study titrates
% one of the two.  The specific forms cover the general service.
service_is_a(cpap_device, pap_device).
service_is_a(bilevel_device, pap_device).
service_is_a(cpap_titration_study, pap_titration_study).
service_is_a(bilevel_titration_study, pap_titration_study).

%## Patient facts

%!  patient_fact(Fact, Label)
% Facts about the patient other than findings: yes/no unless fact_value/3
% gives their values.  Where a request states neither them nor anything
% that settles them, they are unknown.
patient_fact(obstructive_sleep_apnea, "The individual has obstructive sleep apnea").
patient_fact(moderate_to_severe_osa, "The sleep study shows moderate or severe obstructive sleep apnea").
patient_fact(nocturnal_hypoxaemia, "The sleep study shows a low oxygen saturation nadir").
patient_fact(prior_cpap_failure, "A CPAP device has been tried and proven ineffective or not tolerated").
patient_fact(adequate_cpap_trial, "The CPAP trial lasted long enough").
patient_fact(pressure_mode, "The pressure mode of the PAP device").

%!  fact_value(Fact, Value, Label)
% pressure_mode is not yes/no: a device delivers one continuous pressure,
% two pressures (bi-level), or two pressures with a backup breath rate.
fact_value(pressure_mode, fixed, "One continuous pressure (CPAP)").
fact_value(pressure_mode, bilevel, "Bi-level, without a backup rate").
fact_value(pressure_mode, bilevel_backup, "Bi-level, with a backup rate").

%## Request language

%!  qualifier(Qualifier, Label)
% Which titration study CPT 95811 reports (values: code_qualifier/4 in
% 2026-01-01/coding_information.pl; any other value reports no service of
% this policy).
qualifier(titration_device, "Device whose pressure the study titrates (CPT 95811)").

%!  request_field(Field, Kind, Label)
request_field(apnea_hypopnea_index, measurement, "Apnea-hypopnea index (AHI) on the sleep study").
field_unit(apnea_hypopnea_index, "events/h").
field_range(apnea_hypopnea_index, 0, 200).
field_alias(apnea_hypopnea_index, ahi).

request_field(oxygen_saturation_nadir, measurement, "Lowest oxygen saturation during the sleep study").
field_unit(oxygen_saturation_nadir, "%").
field_range(oxygen_saturation_nadir, 0, 100).
field_alias(oxygen_saturation_nadir, nadir).

request_field(cpap_trial_nights, count, "Number of nights of the CPAP trial").
field_range(cpap_trial_nights, 0, 3650).
field_alias(cpap_trial_nights, trial_nights).

request_field(prior_cpap_failure, boolean, "CPAP tried and proven ineffective or not tolerated").
field_fact(prior_cpap_failure, prior_cpap_failure).

request_field(pressure_mode, choice, "Pressure mode of the PAP device").
field_fact(pressure_mode, pressure_mode).
field_alias(pressure_mode, pap_mode).

request_field(diagnoses, code_list, "Diagnosis codes").
field_code_system(diagnoses, "ICD-10-CM").
field_alias(diagnoses, diagnosis).

%## Findings

%!  finding(Finding, Label)
% Clinical findings a request lists.  Listed means present, unlisted means
% absent, unless the request names the finding as unknown.
finding(excessive_daytime_sleepiness, "Excessive daytime sleepiness").
finding(hypertension, "Hypertension").
finding(ischemic_heart_disease, "Ischemic heart disease").
finding(prior_myocardial_infarction, "Prior myocardial infarction").

%!  finding_is_a(Specific, General)
% Definitional (the background: "Ischemic heart disease includes a prior
% myocardial infarction."): a prior myocardial infarction is ischemic heart
% disease; a request listing ischemic heart disease leaves open whether
% there was an infarction.
finding_is_a(prior_myocardial_infarction, ischemic_heart_disease).

%## Outcomes of this policy's own

%!  outcome(Outcome, Label), outcome_favour(Outcome, Rank), outcome_means(Outcome, Meaning)
% A policy may decide an outcome covkb's vocabulary does not list; it
% declares it as kb/vocabulary.pl declares the shared ones, and every
% command reads what it means from these three facts (no code changes).
outcome(convenience_item, "A convenience item: not covered").
outcome_favour(convenience_item, 0).
outcome_means(convenience_item, denied).

%## How ids read in sentences (kb/schema.pl)
% Some ids have a reading, others fall back to their labels (`covkb check`
% notes each one without): the test policy shows both.

%!  fact_reads(Fact, Value, Clause)
fact_reads(obstructive_sleep_apnea, yes, "the individual has obstructive sleep apnea").
fact_reads(obstructive_sleep_apnea, no, "the individual does not have obstructive sleep apnea").
fact_reads(obstructive_sleep_apnea, unknown, "whether the individual has obstructive sleep apnea").
fact_reads(moderate_to_severe_osa, yes, "the sleep study shows moderate or severe obstructive sleep apnea").
fact_reads(moderate_to_severe_osa, no, "the sleep study does not show moderate or severe obstructive sleep apnea").
fact_reads(moderate_to_severe_osa, unknown, "how severe the individual's obstructive sleep apnea is").
fact_reads(prior_cpap_failure, yes, "a CPAP device has been tried and proved ineffective or not tolerated").
fact_reads(prior_cpap_failure, no, "no CPAP device has been tried and proved ineffective or not tolerated").
fact_reads(prior_cpap_failure, unknown, "whether a CPAP device has been tried and proved ineffective or not tolerated").
%!  fact_asks(Fact, Question)
fact_asks(obstructive_sleep_apnea, "Does the individual have obstructive sleep apnea (an AHI of 5 or more events per hour)?").
fact_asks(prior_cpap_failure, "Has a CPAP device been tried and proved ineffective or not tolerated?").
