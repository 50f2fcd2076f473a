%## Recurrent pregnancy loss — the vocabulary every policy on it shares
%
% Services, patient facts, findings and request fields that more than one
% payer's policy on recurrent pregnancy loss speaks of.  One id per thing:
% where two policies speak of the same service, they use the same id here;
% where one speaks of a more specific form of another's service, the form
% is a service_is_a/2 child; where they differ (Cigna's "failed
% pregnancies", Aetna's "consecutive spontaneous abortions"), the ids
% differ.  A policy's own facts (what defines recurrent pregnancy loss for
% it, its code qualifiers) stay in its own vocabulary.pl.
%
% Read by every policy whose policy.pl says
% shared_vocabulary("recurrent_pregnancy_loss").  A service a policy's
% statements never name is, for that policy, not addressed (or unknown
% where the version is only partly known).

%## Services

%!  service(Service, Label)
%# Cigna 0284: diagnostic tests and treatments its statements name.
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
service(products_of_conception_karyotyping, "Karyotype analysis of the products of conception (abortus tissue)").
service(preimplantation_genetic_testing, "Preimplantation genetic testing or diagnosis").
service(chromosomal_microarray, "Chromosomal microarray analysis").
service(medication, "Medication for recurrent pregnancy loss").

%# Aetna 0348: the tests of its two lists that Cigna's statements do not name.
service(endometrial_biopsy, "Endometrial biopsy (for luteal phase defect)").
service(hysterosalpingography, "Hysterosalpingography").
service(hysteroscopy, "Hysteroscopy").
service(sonohysterography, "Sonohysterography or sonohysteroscopy").
service(anti_beta2_glycoprotein_i_antibody_test, "Anti-beta2-glycoprotein I antibodies (IgG or IgM)").
service(anticardiolipin_antibody_test, "Anti-cardiolipin antibodies (IgG or IgM)").
service(lupus_anticoagulant_test, "Lupus anticoagulant").
service(pelvic_ultrasound, "Pelvic ultrasound scan").
service(prenatal_genetic_diagnosis, "Prenatal genetic diagnosis").
service(factor_v_leiden_test, "Factor V Leiden test").
service(prothrombin_g20210a_test, "Prothrombin G20210A mutation test").
service(homocysteine_test, "Serum homocysteine").
service(protein_c_deficiency_test, "Protein C deficiency test").
service(protein_s_deficiency_test, "Protein S deficiency test").
service(antithrombin_deficiency_test, "Antithrombin deficiency test").
service(tsh_test, "Thyroid stimulating hormone (TSH)").
service(thyroid_antibody_test, "Thyroid antibodies").
service(antiphosphatidylserine_antibody_test, "Antibodies to phosphatidylserine").
service(antiphosphatidylethanolamine_antibody_test, "Antibodies to phosphatidylethanolamine").
service(other_antiphospholipid_antibody_test, "Other anti-phospholipid antibodies (not anti-cardiolipin, lupus anticoagulant, IgG or IgM anti-beta2-glycoprotein I, phosphatidylserine or phosphatidylethanolamine; IgA anti-beta2-glycoprotein I is one of these)").
service(nk_cell_percentage_test, "Percentage of circulating natural killer (NK) cells").
service(other_nk_cell_test, "Natural killer (NK) cell testing other than the percentage of circulating NK cells (e.g. total count)").
service(embryo_toxicity_assay, "Embryo toxicity assay (ETA)").
service(cytokine_polymorphism_association_study, "Genetic association studies of inflammatory cytokine polymorphisms").
service(iti_h4_test, "Inter-alpha trypsin inhibitor-heavy chain 4 (ITI-H4)").

%!  service_is_a(Specific, General)
% A request for the general service leaves open which specific one it is:
% the specific forms listed cover the general service.
% Every cerclage is placed transvaginally or transabdominally (laparoscopic
% placement is transabdominal).
service_is_a(transabdominal_cerclage, cervical_cerclage).
service_is_a(transvaginal_cerclage, cervical_cerclage).
service_is_a(parental_karyotyping, karyotyping).
service_is_a(products_of_conception_karyotyping, karyotyping).
% Aetna names one NK cell test, Cigna NK cell testing in general: the
% percentage is one form, every other NK cell test the other.
service_is_a(nk_cell_percentage_test, nk_cell_test).
service_is_a(other_nk_cell_test, nk_cell_test).

%## Patient facts

%!  patient_fact(Fact, Label)
% Yes/no facts about the patient other than findings.  Where a request
% states neither them nor anything that settles them, they are unknown.
% How a policy defines recurrent pregnancy loss is its own patient fact.
patient_fact(pregnant, "The individual is pregnant").

%## Request language

%!  request_field(Field, Kind, Label)
request_field(pregnant, boolean, "Pregnancy status").
field_fact(pregnant, pregnant).
request_field(prior_pregnancy_losses, count, "Number of prior failed pregnancies").
field_range(prior_pregnancy_losses, 0, 99).
field_alias(prior_pregnancy_losses, losses).
request_field(consecutive_spontaneous_abortions, count, "Number of consecutive spontaneous abortions (the longest run)").
field_range(consecutive_spontaneous_abortions, 0, 99).
field_alias(consecutive_spontaneous_abortions, consecutive_losses).
%!  field_at_most(Field, Other, Why)
field_at_most(consecutive_spontaneous_abortions, prior_pregnancy_losses, "a spontaneous abortion is a failed pregnancy, so there cannot be more consecutive spontaneous abortions than failed pregnancies").
request_field(diagnoses, code_list, "Diagnosis codes").
field_code_system(diagnoses, "ICD-10-CM").
field_alias(diagnoses, diagnosis).

%## Findings

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
finding(subsequent_spontaneous_abortion, "The couple has had a spontaneous abortion after the recurrent pregnancy loss (the abortus tissue is of it)").
finding(partner_balanced_translocation_or_inversion, "One partner has been found to have a balanced translocation or inversion").

%!  finding_is_a(Specific, General)
% Definitional: a failed cerclage of a stated indication is a failed
% cerclage.  Examples a policy itself gives are in its version folders.
finding_is_a(prior_failed_history_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).
finding_is_a(prior_failed_ultrasound_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).
finding_is_a(prior_failed_physical_exam_indicated_transvaginal_cerclage, prior_failed_transvaginal_cerclage).

%## How the shared facts and findings read in sentences (kb/schema.pl)

%!  fact_reads(Fact, Value, Clause)
fact_reads(pregnant, yes, "the patient is pregnant").
fact_reads(pregnant, no, "the patient is not pregnant").
fact_reads(pregnant, unknown, "whether the patient is pregnant").
fact_reads(prior_failed_transvaginal_cerclage, yes, "the patient had a failed transvaginal cerclage").
fact_reads(prior_failed_transvaginal_cerclage, no, "the patient had no failed transvaginal cerclage").
fact_reads(prior_failed_transvaginal_cerclage, unknown, "whether the patient had a failed transvaginal cerclage").
fact_reads(prior_failed_history_indicated_transvaginal_cerclage, yes, "the patient had a failed history-indicated transvaginal cerclage").
fact_reads(prior_failed_history_indicated_transvaginal_cerclage, no, "the patient had no failed history-indicated transvaginal cerclage").
fact_reads(prior_failed_history_indicated_transvaginal_cerclage, unknown, "whether the patient's failed transvaginal cerclage was history-indicated").
fact_reads(prior_failed_ultrasound_indicated_transvaginal_cerclage, yes, "the patient had a failed ultrasound-indicated transvaginal cerclage").
fact_reads(prior_failed_ultrasound_indicated_transvaginal_cerclage, no, "the patient had no failed ultrasound-indicated transvaginal cerclage").
fact_reads(prior_failed_ultrasound_indicated_transvaginal_cerclage, unknown, "whether the patient's failed transvaginal cerclage was ultrasound-indicated").
fact_reads(prior_failed_physical_exam_indicated_transvaginal_cerclage, yes, "the patient had a failed physical-exam-indicated transvaginal cerclage").
fact_reads(prior_failed_physical_exam_indicated_transvaginal_cerclage, no, "the patient had no failed physical-exam-indicated transvaginal cerclage").
fact_reads(prior_failed_physical_exam_indicated_transvaginal_cerclage, unknown, "whether the patient's failed transvaginal cerclage was physical-exam-indicated").
fact_reads(prior_cervical_trauma, yes, "the patient had prior cervical trauma").
fact_reads(prior_cervical_trauma, no, "the patient had no prior cervical trauma").
fact_reads(prior_cervical_trauma, unknown, "whether the patient had prior cervical trauma").
fact_reads(cone_biopsy, yes, "the patient had a cone biopsy").
fact_reads(cone_biopsy, no, "the patient had no cone biopsy").
fact_reads(cone_biopsy, unknown, "whether the patient had a cone biopsy").
fact_reads(cervical_laceration_during_delivery, yes, "the patient's cervix was lacerated during a delivery").
fact_reads(cervical_laceration_during_delivery, no, "the patient's cervix was not lacerated during a delivery").
fact_reads(cervical_laceration_during_delivery, unknown, "whether the patient's cervix was lacerated during a delivery").
fact_reads(shortened_cervical_length, yes, "the patient has a shortened cervical length").
fact_reads(shortened_cervical_length, no, "the patient does not have a shortened cervical length").
fact_reads(shortened_cervical_length, unknown, "whether the patient has a shortened cervical length").
fact_reads(contraindication_to_transvaginal_cerclage, yes, "a transvaginal cerclage is contraindicated for the patient").
fact_reads(contraindication_to_transvaginal_cerclage, no, "nothing contraindicates a transvaginal cerclage for the patient").
fact_reads(contraindication_to_transvaginal_cerclage, unknown, "whether a transvaginal cerclage is contraindicated for the patient").
fact_reads(subsequent_spontaneous_abortion, yes, "the couple has had a spontaneous abortion since the recurrent pregnancy loss").
fact_reads(subsequent_spontaneous_abortion, no, "the couple has had no spontaneous abortion since the recurrent pregnancy loss").
fact_reads(subsequent_spontaneous_abortion, unknown, "whether the couple has had a spontaneous abortion since the recurrent pregnancy loss").
fact_reads(partner_balanced_translocation_or_inversion, yes, "one partner has a balanced translocation or inversion").
fact_reads(partner_balanced_translocation_or_inversion, no, "neither partner has a balanced translocation or inversion").
fact_reads(partner_balanced_translocation_or_inversion, unknown, "whether either partner has a balanced translocation or inversion").

%!  fact_asks(Fact, Question)
fact_asks(pregnant, "Is the patient pregnant?").
fact_asks(prior_failed_transvaginal_cerclage, "Has the patient had a transvaginal cerclage that failed?").
fact_asks(prior_failed_history_indicated_transvaginal_cerclage, "Was the patient's failed transvaginal cerclage history-indicated?").
fact_asks(prior_failed_ultrasound_indicated_transvaginal_cerclage, "Was the patient's failed transvaginal cerclage ultrasound-indicated?").
fact_asks(prior_failed_physical_exam_indicated_transvaginal_cerclage, "Was the patient's failed transvaginal cerclage physical-exam-indicated?").
fact_asks(prior_cervical_trauma, "Has the patient had cervical trauma (for example a cone biopsy, or a laceration during a delivery)?").
fact_asks(cone_biopsy, "Has the patient had a cone biopsy of the cervix?").
fact_asks(cervical_laceration_during_delivery, "Was the patient's cervix lacerated during a delivery?").
fact_asks(shortened_cervical_length, "Does the patient have a shortened cervical length?").
fact_asks(contraindication_to_transvaginal_cerclage, "Is a transvaginal cerclage contraindicated for the patient?").
fact_asks(subsequent_spontaneous_abortion, "Has the couple had a spontaneous abortion since the recurrent pregnancy loss (the abortus tissue is of it)?").
fact_asks(partner_balanced_translocation_or_inversion, "Has either partner been found to have a balanced translocation or inversion?").
