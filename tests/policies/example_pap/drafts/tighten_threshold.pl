%## Draft (fictional EX-101): tighten the CPAP thresholds
%
% Raises the AHI that suffices on its own from 15 to 20 events per hour,
% and lowers the saturation nadir of the nested ALL-of condition from
% "below 88 percent" to "below 85 percent".  One change is a top-level
% criterion, the other a criterion inside a group (its member_of/3 goes
% with it and is restated for the new criterion).
% Proposed wording: tighten_threshold.txt

revision_of("2026-01-01").

patient_fact(ahi_at_least_20, "The sleep study shows an AHI of 20 or more events per hour").
patient_fact(severe_nocturnal_hypoxaemia, "The sleep study shows an oxygen saturation nadir below 85 percent").

%# > - an apnea-hypopnea index (AHI) of 20 or more events per hour
drops_criterion(cpap_device_medically_necessary, moderate_to_severe_osa).
criterion(cpap_device_medically_necessary, ahi_at_least_20, ahi_at_least_20, "an apnea-hypopnea index (AHI) of 20 or more events per hour").
number_at_least(ahi_at_least_20, apnea_hypopnea_index, 20, pap_devices, "an apnea-hypopnea index (AHI) of 20 or more events per hour").

%# >   - an oxygen saturation nadir below 85 percent during the sleep study
drops_criterion(cpap_device_medically_necessary, nocturnal_hypoxaemia).
criterion(cpap_device_medically_necessary, severe_nocturnal_hypoxaemia, severe_nocturnal_hypoxaemia, "an oxygen saturation nadir below 85 percent during the sleep study").
member_of(cpap_device_medically_necessary, severe_nocturnal_hypoxaemia, mild_osa_with_desaturation_and_symptoms).
number_below(severe_nocturnal_hypoxaemia, oxygen_saturation_nadir, 85, pap_devices, "an oxygen saturation nadir below 85 percent during the sleep study").
