%## Coverage Policy
%
% One statement per policy statement.  A statement has
%   statement(Id, Section, Outcome)          what it decides, where it stands
%   statement_quote(Id, N, Quote)            its words, lead sentence first
%   applies_to(Id, Service)                  which service it rules on
%   requires(Id, Fact, Value, Quote)         what must hold for it to apply
%   criteria(Id, any|all, Quote)             how its top-level criteria combine
%   criterion(Id, Criterion, Fact, Quote)    one condition: Fact is yes
%   criterion_group(Id, Group, any|all, Quote)
%                                            a nested list of conditions
%   member_of(Id, Criterion, Group)          the criterion (or group) is in Group
%   referral(Id, Target)                     the policy or benefit it defers to
% A statement applies to a service and to every more specific service.

%## Coverage Policy — referral to another policy

%# > For information regarding coverage for oral appliances for obstructive
%# > sleep apnea, refer to Example Health Plan Medical Policy EX-102 Oral
%# > Appliances for Sleep Apnea.
statement(oral_appliances_refer_to_policy_ex_102, coverage_policy, refer_to_other_policy).
statement_quote(oral_appliances_refer_to_policy_ex_102, 1, "For information regarding coverage for oral appliances for obstructive sleep apnea, refer to Example Health Plan Medical Policy EX-102 Oral Appliances for Sleep Apnea.").
applies_to(oral_appliances_refer_to_policy_ex_102, oral_appliance).
referral(oral_appliances_refer_to_policy_ex_102, "Example Health Plan Medical Policy EX-102 Oral Appliances for Sleep Apnea").

%## Coverage Policy — Positive Airway Pressure Devices

%# > A continuous positive airway pressure (CPAP) device is considered
%# > medically necessary for an individual with obstructive sleep apnea who
%# > meets ANY of the following criteria:
%# > - an apnea-hypopnea index (AHI) of 15 or more events per hour
%# > - ALL of the following:
%# >   - an AHI of 5 or more events per hour
%# >   - an oxygen saturation nadir below 88 percent during the sleep study
%# >   - ANY of the following symptoms or conditions:
%# >     - excessive daytime sleepiness
%# >     - hypertension
%# >     - ischemic heart disease
statement(cpap_device_medically_necessary, pap_devices, medically_necessary).
statement_quote(cpap_device_medically_necessary, 1, "A continuous positive airway pressure (CPAP) device is considered medically necessary for an individual with obstructive sleep apnea who meets ANY of the following criteria:").
applies_to(cpap_device_medically_necessary, cpap_device).
criteria(cpap_device_medically_necessary, any, "who meets ANY of the following criteria:").

% (a) moderate or severe OSA
criterion(cpap_device_medically_necessary, moderate_to_severe_osa, moderate_to_severe_osa, "an apnea-hypopnea index (AHI) of 15 or more events per hour").
%!  number_at_least(Fact, Field, Minimum, Section, Quote)
number_at_least(moderate_to_severe_osa, apnea_hypopnea_index, 15, pap_devices, "an apnea-hypopnea index (AHI) of 15 or more events per hour").

% (b) ALL of: AHI 5+, a low saturation nadir, and ANY of four conditions
criterion_group(cpap_device_medically_necessary, mild_osa_with_desaturation_and_symptoms, all, "ALL of the following:").

criterion(cpap_device_medically_necessary, ahi_at_least_5, obstructive_sleep_apnea, "an AHI of 5 or more events per hour").
member_of(cpap_device_medically_necessary, ahi_at_least_5, mild_osa_with_desaturation_and_symptoms).
interpretation(criterion(cpap_device_medically_necessary, ahi_at_least_5), "An AHI of 5 or more events per hour is the policy's own definition of obstructive sleep apnea (General Background), so covkb reads this condition as the fact that the individual has obstructive sleep apnea: an OSA diagnosis code settles it as the AHI does.").

criterion(cpap_device_medically_necessary, nocturnal_hypoxaemia, nocturnal_hypoxaemia, "an oxygen saturation nadir below 88 percent during the sleep study").
member_of(cpap_device_medically_necessary, nocturnal_hypoxaemia, mild_osa_with_desaturation_and_symptoms).
%!  number_below(Fact, Field, Threshold, Section, Quote)
number_below(nocturnal_hypoxaemia, oxygen_saturation_nadir, 88, pap_devices, "an oxygen saturation nadir below 88 percent during the sleep study").

criterion_group(cpap_device_medically_necessary, osa_symptoms, any, "ANY of the following symptoms or conditions:").
member_of(cpap_device_medically_necessary, osa_symptoms, mild_osa_with_desaturation_and_symptoms).
criterion(cpap_device_medically_necessary, excessive_daytime_sleepiness, excessive_daytime_sleepiness, "excessive daytime sleepiness").
member_of(cpap_device_medically_necessary, excessive_daytime_sleepiness, osa_symptoms).
criterion(cpap_device_medically_necessary, hypertension, hypertension, "hypertension").
member_of(cpap_device_medically_necessary, hypertension, osa_symptoms).
criterion(cpap_device_medically_necessary, ischemic_heart_disease, ischemic_heart_disease, "ischemic heart disease").
member_of(cpap_device_medically_necessary, ischemic_heart_disease, osa_symptoms).

%# > A bi-level positive airway pressure device without a backup rate feature
%# > is considered medically necessary for an individual with obstructive
%# > sleep apnea when ALL of the following criteria are met:
%# > - a CPAP device has been tried and proven ineffective or not tolerated
%# > - the CPAP trial lasted at least 30 nights
statement(bilevel_without_backup_rate_medically_necessary, pap_devices, medically_necessary).
statement_quote(bilevel_without_backup_rate_medically_necessary, 1, "A bi-level positive airway pressure device without a backup rate feature is considered medically necessary for an individual with obstructive sleep apnea when ALL of the following criteria are met:").
applies_to(bilevel_without_backup_rate_medically_necessary, bilevel_device).
requires(bilevel_without_backup_rate_medically_necessary, pressure_mode, bilevel, "A bi-level positive airway pressure device without a backup rate feature").
interpretation(applies_to(bilevel_without_backup_rate_medically_necessary, bilevel_device), "The two bi-level statements tell the devices apart by the backup rate; covkb reads that as the device's pressure mode (bilevel or bilevel_backup), which E0470 and E0471 settle. A bi-level device run at one fixed pressure is neither: no statement rules on it, so it is not addressed.").
criteria(bilevel_without_backup_rate_medically_necessary, all, "when ALL of the following criteria are met:").
criterion(bilevel_without_backup_rate_medically_necessary, prior_cpap_failure, prior_cpap_failure, "a CPAP device has been tried and proven ineffective or not tolerated").
criterion(bilevel_without_backup_rate_medically_necessary, adequate_cpap_trial, adequate_cpap_trial, "the CPAP trial lasted at least 30 nights").
number_at_least(adequate_cpap_trial, cpap_trial_nights, 30, pap_devices, "the CPAP trial lasted at least 30 nights").

%# > A bi-level positive airway pressure device with a backup rate feature is
%# > considered not medically necessary for the treatment of obstructive
%# > sleep apnea.
statement(bilevel_with_backup_rate_not_medically_necessary, pap_devices, not_medically_necessary).
statement_quote(bilevel_with_backup_rate_not_medically_necessary, 1, "A bi-level positive airway pressure device with a backup rate feature is considered not medically necessary for the treatment of obstructive sleep apnea.").
applies_to(bilevel_with_backup_rate_not_medically_necessary, bilevel_device).
requires(bilevel_with_backup_rate_not_medically_necessary, pressure_mode, bilevel_backup, "A bi-level positive airway pressure device with a backup rate feature").

%# > The following device for obstructive sleep apnea is not covered or
%# > reimbursable:
%# > - a positional therapy device (sleep position trainer)
statement(positional_therapy_device_not_covered, pap_devices, not_covered).
statement_quote(positional_therapy_device_not_covered, 1, "The following device for obstructive sleep apnea is not covered or reimbursable:").
statement_quote(positional_therapy_device_not_covered, 2, "a positional therapy device (sleep position trainer)").
applies_to(positional_therapy_device_not_covered, positional_therapy_device).

%# > A cleaning machine for PAP equipment (an ozone or ultraviolet sanitizer)
%# > is considered a convenience item: it serves the individual's comfort and
%# > does not treat obstructive sleep apnea.
statement(pap_cleaning_machine_convenience_item, pap_devices, convenience_item).
statement_quote(pap_cleaning_machine_convenience_item, 1, "A cleaning machine for PAP equipment (an ozone or ultraviolet sanitizer) is considered a convenience item").
applies_to(pap_cleaning_machine_convenience_item, pap_cleaning_machine).

%## Coverage Policy — Titration Studies

%# > An attended polysomnography with initiation of CPAP therapy (CPAP
%# > titration study) is considered medically necessary for an individual
%# > with obstructive sleep apnea.
statement(cpap_titration_study_medically_necessary, titration_studies, medically_necessary).
statement_quote(cpap_titration_study_medically_necessary, 1, "An attended polysomnography with initiation of CPAP therapy (CPAP titration study) is considered medically necessary for an individual with obstructive sleep apnea.").
applies_to(cpap_titration_study_medically_necessary, cpap_titration_study).

%# > An attended polysomnography with initiation of bi-level ventilation
%# > (bi-level titration study) is considered medically necessary for an
%# > individual with obstructive sleep apnea when a CPAP device has been
%# > tried and proven ineffective or not tolerated.
statement(bilevel_titration_study_medically_necessary, titration_studies, medically_necessary).
statement_quote(bilevel_titration_study_medically_necessary, 1, "An attended polysomnography with initiation of bi-level ventilation (bi-level titration study) is considered medically necessary for an individual with obstructive sleep apnea when a CPAP device has been tried and proven ineffective or not tolerated.").
applies_to(bilevel_titration_study_medically_necessary, bilevel_titration_study).
criteria(bilevel_titration_study_medically_necessary, all, "when a CPAP device has been tried and proven ineffective or not tolerated").
criterion(bilevel_titration_study_medically_necessary, prior_cpap_failure, prior_cpap_failure, "a CPAP device has been tried and proven ineffective or not tolerated").

%## How statements and criteria read in sentences (kb/schema.pl)
% Some do; the others fall back to their services' labels and their facts'.
%!  statement_reads(Statement, Words)
statement_reads(cpap_device_medically_necessary, "a CPAP device for obstructive sleep apnea").
statement_reads(bilevel_without_backup_rate_medically_necessary, "a bi-level device without a backup rate").
%!  criterion_reads(Statement, Member, Words)
criterion_reads(cpap_device_medically_necessary, ahi_at_least_5, "an apnea-hypopnea index of 5 or more events per hour").
criterion_reads(cpap_device_medically_necessary, osa_symptoms, "one of the listed symptoms or conditions").
