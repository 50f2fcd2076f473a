%## General Background

%# > Recurrent pregnancy loss, also referred to as recurrent spontaneous
%# > abortion (RSA) or recurrent miscarriage, is defined as two or more failed
%# > pregnancies (ACOG, 2024; ASRM, 2020)

%!  definition(Concept, Section, Quote)
definition(recurrent_pregnancy_loss, general_background, "Recurrent pregnancy loss, also referred to as recurrent spontaneous abortion (RSA) or recurrent miscarriage, is defined as two or more failed pregnancies").

%!  rpl_minimum_failed_pregnancies(N)
% "two or more failed pregnancies": prior_pregnancy_losses >= N.
rpl_minimum_failed_pregnancies(2).

%!  rpl_diagnosis_code(Code)
% ICD-10-CM codes that record recurrent pregnancy loss: N96 (recurrent
% pregnancy loss) and O26.2- (pregnancy care for patient with recurrent
% pregnancy loss).  The policy's coding table lists no ICD-10 codes.
rpl_diagnosis_code("N96").
rpl_diagnosis_code("O26.20").
rpl_diagnosis_code("O26.21").
rpl_diagnosis_code("O26.22").
rpl_diagnosis_code("O26.23").
interpretation(rpl_diagnosis_code, "The policy lists no diagnosis codes; covkb takes ICD-10-CM N96 and O26.2x as recording recurrent pregnancy loss, because their code titles name it.").

%# > Intralipid infusions ... As a result, strong evidence based conclusions
%# > cannot be made at this time regarding safety, efficacy, and the clinical
%# > benefit of improved pregnancy and live birth rates.
not_formalised(general_background, "As a result, strong evidence based conclusions cannot be made at this time regarding safety, efficacy, and the clinical benefit of improved pregnancy and live birth rates.", "Background discussion of intralipid infusion: no policy statement of this version rules on it, so covkb leaves it not addressed.").

%# > ... short cervical length (less than 25 mm) before 24 weeks gestation
not_formalised(general_background, "short cervical length (less than 25 mm) before 24 weeks gestation", "An ACOG indication quoted as background, not a policy criterion: the statements say only 'shortened cervical length' and give no threshold.").
