%## General Background

%# > Recurrent pregnancy loss, also referred to as recurrent spontaneous
%# > abortion (RSA) or recurrent miscarriage, is defined as two or more failed
%# > pregnancies (ACOG, 2024; ASRM, 2020)

%!  number_at_least(Fact, Field, Minimum, Section, Quote)
% "two or more failed pregnancies": prior_pregnancy_losses >= 2.
number_at_least(recurrent_pregnancy_loss, prior_pregnancy_losses, 2, general_background, "Recurrent pregnancy loss, also referred to as recurrent spontaneous abortion (RSA) or recurrent miscarriage, is defined as two or more failed pregnancies").

%## Diagnosis codes
% The policy lists no diagnosis codes.  covkb reads two ICD-10-CM
% categories whose titles name recurrent pregnancy loss; what each says of
% a current pregnancy comes from ICD-10-CM itself, so every fact below is
% an interpretation, marked as such.

%!  listed_code_implies(Field, Code, Fact, Value)
listed_code_implies(diagnoses, "N96", recurrent_pregnancy_loss, yes).
listed_code_implies(diagnoses, "N96", pregnant, no).
interpretation(listed_code_implies(diagnoses, "N96"), "ICD-10-CM N96 'Recurrent pregnancy loss' records recurrent pregnancy loss; its Excludes1 note ('recurrent pregnancy loss with current pregnancy (O26.2-)') means it is not coded during a pregnancy, so covkb reads it as: not pregnant.").
listed_code_implies(diagnoses, "O26.20", recurrent_pregnancy_loss, yes).
listed_code_implies(diagnoses, "O26.20", pregnant, yes).
listed_code_implies(diagnoses, "O26.21", recurrent_pregnancy_loss, yes).
listed_code_implies(diagnoses, "O26.21", pregnant, yes).
listed_code_implies(diagnoses, "O26.22", recurrent_pregnancy_loss, yes).
listed_code_implies(diagnoses, "O26.22", pregnant, yes).
listed_code_implies(diagnoses, "O26.23", recurrent_pregnancy_loss, yes).
listed_code_implies(diagnoses, "O26.23", pregnant, yes).
interpretation(listed_code_implies(diagnoses, "O26.20"), "ICD-10-CM O26.2- 'Pregnancy care for patient with recurrent pregnancy loss' records recurrent pregnancy loss in a current pregnancy, so covkb reads it as: pregnant.").
interpretation(listed_code_implies(diagnoses, "O26.21"), "ICD-10-CM O26.2- 'Pregnancy care for patient with recurrent pregnancy loss' records recurrent pregnancy loss in a current pregnancy, so covkb reads it as: pregnant.").
interpretation(listed_code_implies(diagnoses, "O26.22"), "ICD-10-CM O26.2- 'Pregnancy care for patient with recurrent pregnancy loss' records recurrent pregnancy loss in a current pregnancy, so covkb reads it as: pregnant.").
interpretation(listed_code_implies(diagnoses, "O26.23"), "ICD-10-CM O26.2- 'Pregnancy care for patient with recurrent pregnancy loss' records recurrent pregnancy loss in a current pregnancy, so covkb reads it as: pregnant.").

%# > Intralipid infusions ... As a result, strong evidence based conclusions
%# > cannot be made at this time regarding safety, efficacy, and the clinical
%# > benefit of improved pregnancy and live birth rates.
not_formalised(general_background, "As a result, strong evidence based conclusions cannot be made at this time regarding safety, efficacy, and the clinical benefit of improved pregnancy and live birth rates.", "Background discussion of intralipid infusion: no policy statement of this version rules on it, so covkb leaves it not addressed.").

%# > ... short cervical length (less than 25 mm) before 24 weeks gestation
not_formalised(general_background, "short cervical length (less than 25 mm) before 24 weeks gestation", "An ACOG indication quoted as background, not a policy criterion: the statements say only 'shortened cervical length' and give no threshold.").
