%## General Background

%# > Obstructive sleep apnea (OSA) is defined in this policy as an
%# > apnea-hypopnea index (AHI) of 5 or more events per hour of sleep.
%!  number_at_least(Fact, Field, Minimum, Section, Quote)
% The scope fact (overview.pl): apnea_hypopnea_index >= 5.
number_at_least(obstructive_sleep_apnea, apnea_hypopnea_index, 5, general_background, "Obstructive sleep apnea (OSA) is defined in this policy as an apnea-hypopnea index (AHI) of 5 or more events per hour of sleep.").

%# > The AHI is the number of apneas and hypopneas per hour of sleep recorded
%# > by a sleep study.  Severity is graded as mild (AHI 5 to 14 events per
%# > hour), moderate (AHI 15 to 29 events per hour) or severe (AHI 30 or more
%# > events per hour).
% The statements use the AHI thresholds directly (coverage_policy.pl);
% moderate_to_severe_osa there is "15 or more", matching this grading.
not_formalised(general_background, "Severity is graded as mild (AHI 5 to 14 events per hour), moderate (AHI 15 to 29 events per hour) or severe (AHI 30 or more events per hour).", "Background grading; the statements state their own AHI thresholds, which are encoded where they stand.").

%# > Ischemic heart disease includes a prior myocardial infarction.
% Encoded in vocabulary.pl as finding_is_a(prior_myocardial_infarction,
% ischemic_heart_disease).

%# > A backup rate is a feature of a bi-level device that delivers a breath at
%# > a set rate when the individual does not breathe spontaneously; it serves
%# > central sleep apnea and hypoventilation syndromes, not obstructive sleep
%# > apnea.
not_formalised(general_background, "it serves central sleep apnea and hypoventilation syndromes, not obstructive sleep apnea.", "The reason the backup-rate statement gives not medically necessary; central sleep apnea and hypoventilation are outside this policy's scope.").

%# > Adherence to PAP therapy is commonly defined as use for 4 or more hours
%# > per night on 70 percent of nights during a consecutive 30-day period.
not_formalised(general_background, "Adherence to PAP therapy is commonly defined as use for 4 or more hours per night on 70 percent of nights during a consecutive 30-day period.", "No statement of this version makes continued coverage depend on adherence.").
