%## Cigna 0284 — vocabulary of services, patient facts and findings
%
% The ids a request may use.  Labels are for people; the ids are what the
% statements of every version refer to.  Version-specific knowledge (which
% finding counts as which, which code reports which service) lives in the
% version folders, next to the policy sentence it comes from.

%## Services

%!  service(Service, Label)
service(inhibin_b_test, "Inhibin B test").
service(placental_ppar_test, "Peroxisome proliferator activation receptor (PPAR) test in placenta tissue").
service(placental_tnf_alpha_test, "Cytokine tumor necrosis factor-alpha (TNF-alpha) test in placenta tissue").
service(nk_cell_test, "Natural killer (NK) cell testing").
service(transabdominal_cerclage, "Transabdominal or laparoscopic cervical cerclage").
service(transvaginal_cerclage, "Transvaginal cervical cerclage").
service(cervical_cerclage, "Cervical cerclage, any approach").
service(paternal_cell_immunization, "Paternal cell (paternal leukocyte) immunization").
service(third_party_donor_leukocytes, "Third-party donor leukocytes").
service(ivig, "Intravenous immunoglobulin (IVIG, IGIV)").
service(intralipid_infusion, "Intralipid infusion").
service(karyotyping, "Karyotyping (parental or of products of conception)").
service(parental_karyotyping, "Parental karyotyping").
service(products_of_conception_karyotyping, "Karyotype analysis of the products of conception").
service(preimplantation_genetic_testing, "Preimplantation genetic testing or diagnosis").
service(chromosomal_microarray, "Chromosomal microarray analysis").
service(medication, "Medication for recurrent pregnancy loss").

%!  service_is_a(Specific, General)
% A request for the general service leaves open which specific one it is.
% Every cerclage is placed transvaginally or transabdominally (laparoscopic
% placement is transabdominal); the two cover the general service.
service_is_a(transabdominal_cerclage, cervical_cerclage).
service_is_a(transvaginal_cerclage, cervical_cerclage).
service_is_a(parental_karyotyping, karyotyping).
service_is_a(products_of_conception_karyotyping, karyotyping).

%## Patient facts

%!  patient_fact(Fact, Label)
% Yes/no facts about the patient other than findings.  Where a request
% states neither them nor anything that settles them, they are unknown.
patient_fact(pregnant, "The individual is pregnant").
patient_fact(recurrent_pregnancy_loss, "The individual has recurrent pregnancy loss").

%## Request language
% What a request may state besides the service, the CPT code and findings.
% How each field settles a patient fact is version content (the scope and
% definitions of 2025-02-15/overview.pl and general_background.pl).

%!  qualifier(Qualifier, Label)
qualifier(analyte, "Analyte measured (CPT 83520)").
qualifier(substance, "Substance infused (CPT 96365)").

%!  request_field(Field, Kind, Label)
request_field(pregnant, boolean, "Pregnancy status").
field_fact(pregnant, pregnant).
request_field(prior_pregnancy_losses, count, "Number of prior failed pregnancies").
field_range(prior_pregnancy_losses, 0, 99).
field_alias(prior_pregnancy_losses, losses).
request_field(diagnoses, code_list, "Diagnosis codes").
field_code_system(diagnoses, "ICD-10-CM").
field_alias(diagnoses, diagnosis).

%!  finding(Finding, Label)
% Clinical findings a request lists.  Listed means present, unlisted means
% absent, unless the request names the finding as unknown.
finding(prior_failed_transvaginal_cerclage, "Prior failed transvaginal cervical cerclage (indication not stated)").
finding(prior_failed_history_indicated_transvaginal_cerclage, "Prior failed history-indicated transvaginal cervical cerclage").
finding(prior_failed_ultrasound_indicated_transvaginal_cerclage, "Prior failed ultrasound-indicated transvaginal cervical cerclage").
finding(prior_failed_physical_exam_indicated_transvaginal_cerclage, "Prior failed physical-exam-indicated transvaginal cervical cerclage").
finding(prior_cervical_trauma, "Prior cervical trauma").
finding(cone_biopsy, "Prior cone biopsy of the cervix").
finding(cervical_laceration_during_delivery, "Cervical laceration during a prior delivery").
finding(shortened_cervical_length, "Shortened cervical length").
finding(contraindication_to_transvaginal_cerclage, "Contraindication to transvaginal cerclage").

%!  finding_is_a(Specific, General)
% Definitional: a failed cerclage of a stated indication is a failed
% cerclage.  Examples the policy itself gives are in the version folders.
finding_is_a(prior_failed_history_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).
finding_is_a(prior_failed_ultrasound_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).
finding_is_a(prior_failed_physical_exam_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).
