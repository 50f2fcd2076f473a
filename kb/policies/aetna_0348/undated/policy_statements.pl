%## Policy — the statements of the copy, item by item
%
% One statement per item of the two lists; each quotes its list's lead
% sentence and its own item.  A statement applies to the services its item
% names (and every more specific form of them).  The scope, the definition
% of recurrent pregnancy loss and what the copy does not show are in
% policy_scope.pl.

%## 1. Medically necessary tests
%# > 1. Aetna considers the following tests medically necessary for
%# >    evaluation of members with recurrent pregnancy loss (defined as 2 or
%# >    more consecutive spontaneous abortions):

%# > 1. Endometrial biopsies for evaluation of luteal phase defect;
statement(endometrial_biopsy_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(endometrial_biopsy_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(endometrial_biopsy_medically_necessary, 2, "Endometrial biopsies for evaluation of luteal phase defect;").
applies_to(endometrial_biopsy_medically_necessary, endometrial_biopsy).
interpretation(applies_to(endometrial_biopsy_medically_necessary, endometrial_biopsy), "The purpose 'for evaluation of luteal phase defect' is not a request field: covkb reads any endometrial biopsy in the evaluation of recurrent pregnancy loss as this item.").

%# > 2. Hysterosalpingography, hysteroscopy or
%# >    sonohysteroscopy/sonohysterography to diagnose uterine anatomic
%# >    abnormalities;
statement(uterine_cavity_imaging_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(uterine_cavity_imaging_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(uterine_cavity_imaging_medically_necessary, 2, "Hysterosalpingography, hysteroscopy or sonohysteroscopy/sonohysterography to diagnose uterine anatomic abnormalities;").
applies_to(uterine_cavity_imaging_medically_necessary, hysterosalpingography).
applies_to(uterine_cavity_imaging_medically_necessary, hysteroscopy).
applies_to(uterine_cavity_imaging_medically_necessary, sonohysterography).
interpretation(applies_to(uterine_cavity_imaging_medically_necessary, hysterosalpingography), "The purpose 'to diagnose uterine anatomic abnormalities' is not a request field: covkb reads any of these procedures in the evaluation of recurrent pregnancy loss as this item.").
interpretation(applies_to(uterine_cavity_imaging_medically_necessary, hysteroscopy), "The purpose 'to diagnose uterine anatomic abnormalities' is not a request field: covkb reads any of these procedures in the evaluation of recurrent pregnancy loss as this item.").
interpretation(applies_to(uterine_cavity_imaging_medically_necessary, sonohysterography), "The purpose 'to diagnose uterine anatomic abnormalities' is not a request field: covkb reads any of these procedures in the evaluation of recurrent pregnancy loss as this item.").

%# > 3. Karyotype (cytogenetic analysis) of parents to detect balanced
%# >    chromosomal anomalies;
statement(parental_karyotype_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(parental_karyotype_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(parental_karyotype_medically_necessary, 2, "Karyotype (cytogenetic analysis) of parents to detect balanced chromosomal anomalies;").
applies_to(parental_karyotype_medically_necessary, parental_karyotyping).
interpretation(applies_to(parental_karyotype_medically_necessary, parental_karyotyping), "The purpose 'to detect balanced chromosomal anomalies' is not a request field: covkb reads any karyotype of the parents in the evaluation of recurrent pregnancy loss as this item.").

%# > 4. Karyotype of abortus tissue when a couple with recurrent pregnancy
%# >    loss experiences a subsequent spontaneous abortion;
statement(abortus_karyotype_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(abortus_karyotype_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(abortus_karyotype_medically_necessary, 2, "Karyotype of abortus tissue when a couple with recurrent pregnancy loss experiences a subsequent spontaneous abortion;").
applies_to(abortus_karyotype_medically_necessary, products_of_conception_karyotyping).
criteria(abortus_karyotype_medically_necessary, any, "when a couple with recurrent pregnancy loss experiences a subsequent spontaneous abortion").
criterion(abortus_karyotype_medically_necessary, subsequent_spontaneous_abortion, subsequent_spontaneous_abortion, "when a couple with recurrent pregnancy loss experiences a subsequent spontaneous abortion").

%# > 5. Measurement of anti-beta2-glycoprotein I (IgG or IgM) antibodies,
%# >    anti-cardiolipin (IgG or IgM) antibodies, and lupus anticoagulant, using
%# >    standard assays, for diagnosis of antiphospholipid syndrome;
statement(antiphospholipid_syndrome_tests_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(antiphospholipid_syndrome_tests_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(antiphospholipid_syndrome_tests_medically_necessary, 2, "Measurement of anti-beta2-glycoprotein I (IgG or IgM) antibodies, anti-cardiolipin (IgG or IgM) antibodies, and lupus anticoagulant, using standard assays, for diagnosis of antiphospholipid syndrome;").
applies_to(antiphospholipid_syndrome_tests_medically_necessary, anti_beta2_glycoprotein_i_antibody_test).
applies_to(antiphospholipid_syndrome_tests_medically_necessary, anticardiolipin_antibody_test).
applies_to(antiphospholipid_syndrome_tests_medically_necessary, lupus_anticoagulant_test).
interpretation(applies_to(antiphospholipid_syndrome_tests_medically_necessary, anti_beta2_glycoprotein_i_antibody_test), "'using standard assays, for diagnosis of antiphospholipid syndrome' is not a request field: covkb reads any measurement of these antibodies in the evaluation of recurrent pregnancy loss as this item.").
interpretation(applies_to(antiphospholipid_syndrome_tests_medically_necessary, anticardiolipin_antibody_test), "'using standard assays, for diagnosis of antiphospholipid syndrome' is not a request field: covkb reads any measurement of these antibodies in the evaluation of recurrent pregnancy loss as this item.").
interpretation(applies_to(antiphospholipid_syndrome_tests_medically_necessary, lupus_anticoagulant_test), "'using standard assays, for diagnosis of antiphospholipid syndrome' is not a request field: covkb reads any measurement of these antibodies in the evaluation of recurrent pregnancy loss as this item.").

%# > 6. Pelvic ultrasound scan to assess ovarian morphology and the uterine
%# >    cavity;
statement(pelvic_ultrasound_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(pelvic_ultrasound_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(pelvic_ultrasound_medically_necessary, 2, "Pelvic ultrasound scan to assess ovarian morphology and the uterine cavity;").
applies_to(pelvic_ultrasound_medically_necessary, pelvic_ultrasound).
interpretation(applies_to(pelvic_ultrasound_medically_necessary, pelvic_ultrasound), "The purpose 'to assess ovarian morphology and the uterine cavity' is not a request field: covkb reads any pelvic ultrasound scan in the evaluation of recurrent pregnancy loss as this item.").

%# > 7. Prenatal genetic diagnosis for all couples in which 1 partner has
%# >    been found to have a balanced translocation or inversion;
statement(prenatal_genetic_diagnosis_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(prenatal_genetic_diagnosis_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(prenatal_genetic_diagnosis_medically_necessary, 2, "Prenatal genetic diagnosis for all couples in which 1 partner has been found to have a balanced translocation or inversion;").
applies_to(prenatal_genetic_diagnosis_medically_necessary, prenatal_genetic_diagnosis).
criteria(prenatal_genetic_diagnosis_medically_necessary, any, "for all couples in which 1 partner has been found to have a balanced translocation or inversion").
criterion(prenatal_genetic_diagnosis_medically_necessary, partner_balanced_translocation_or_inversion, partner_balanced_translocation_or_inversion, "for all couples in which 1 partner has been found to have a balanced translocation or inversion").

%# > 8. Tests for inherited thrombophilic disorders: factor V Leiden,
%# >    prothrombin G20210A mutation, serum homocysteine, and deficiencies of
%# >    the anticoagulants protein C, protein S, and antithrombin II;
statement(inherited_thrombophilia_tests_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(inherited_thrombophilia_tests_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(inherited_thrombophilia_tests_medically_necessary, 2, "Tests for inherited thrombophilic disorders: factor V Leiden, prothrombin G20210A mutation, serum homocysteine, and deficiencies of the anticoagulants protein C, protein S, and antithrombin II;").
applies_to(inherited_thrombophilia_tests_medically_necessary, factor_v_leiden_test).
applies_to(inherited_thrombophilia_tests_medically_necessary, prothrombin_g20210a_test).
applies_to(inherited_thrombophilia_tests_medically_necessary, homocysteine_test).
applies_to(inherited_thrombophilia_tests_medically_necessary, protein_c_deficiency_test).
applies_to(inherited_thrombophilia_tests_medically_necessary, protein_s_deficiency_test).
applies_to(inherited_thrombophilia_tests_medically_necessary, antithrombin_deficiency_test).
interpretation(applies_to(inherited_thrombophilia_tests_medically_necessary, antithrombin_deficiency_test), "The purpose 'for inherited thrombophilic disorders' is not a request field: covkb reads any of these tests in the evaluation of recurrent pregnancy loss as this item. The text says 'antithrombin II'; the anticoagulant whose inherited deficiency is tested is antithrombin (formerly antithrombin III), so covkb reads the item as antithrombin deficiency testing ('antithrombin II' is probably a slip for antithrombin III).").

%# > 9. Tests for thyroid stimulating hormone (TSH) and thyroid antibodies.
statement(thyroid_tests_medically_necessary, medically_necessary_tests, medically_necessary).
statement_quote(thyroid_tests_medically_necessary, 1, "Aetna considers the following tests medically necessary for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions):").
statement_quote(thyroid_tests_medically_necessary, 2, "Tests for thyroid stimulating hormone (TSH) and thyroid antibodies.").
applies_to(thyroid_tests_medically_necessary, tsh_test).
applies_to(thyroid_tests_medically_necessary, thyroid_antibody_test).

%## 2. Experimental and investigational tests
%# > 2. Aetna considers any of the following tests/studies experimental and
%# >    investigational because they have been shown to be of no value in the
%# >    evaluation of recurrent pregnancy loss:

%# > 1. Antibodies to phosphatidylserine, phosphatidylethanolamine, or other
%# >    anti-phospholipid antibodies other than anti-cardiolipin and lupus
%# >    anticoagulant;
statement(other_antiphospholipid_antibodies_experimental, experimental_and_investigational_tests, experimental_and_investigational).
statement_quote(other_antiphospholipid_antibodies_experimental, 1, "Aetna considers any of the following tests/studies experimental and investigational because they have been shown to be of no value in the evaluation of recurrent pregnancy loss:").
statement_quote(other_antiphospholipid_antibodies_experimental, 2, "Antibodies to phosphatidylserine, phosphatidylethanolamine, or other anti-phospholipid antibodies other than anti-cardiolipin and lupus anticoagulant;").
applies_to(other_antiphospholipid_antibodies_experimental, antiphosphatidylserine_antibody_test).
applies_to(other_antiphospholipid_antibodies_experimental, antiphosphatidylethanolamine_antibody_test).
applies_to(other_antiphospholipid_antibodies_experimental, other_antiphospholipid_antibody_test).
interpretation(applies_to(other_antiphospholipid_antibodies_experimental, other_antiphospholipid_antibody_test), "Read literally, 'other anti-phospholipid antibodies other than anti-cardiolipin and lupus anticoagulant' takes in anti-beta2-glycoprotein I antibodies, which item 1.5 calls medically necessary; covkb reads the specific item 1.5 as prevailing and applies this item to the other anti-phospholipid antibodies only.").

%# > 2. Determination of the percentage of circulating natural killer (NK)
%# >    cells;
statement(nk_cell_percentage_experimental, experimental_and_investigational_tests, experimental_and_investigational).
statement_quote(nk_cell_percentage_experimental, 1, "Aetna considers any of the following tests/studies experimental and investigational because they have been shown to be of no value in the evaluation of recurrent pregnancy loss:").
statement_quote(nk_cell_percentage_experimental, 2, "Determination of the percentage of circulating natural killer (NK) cells;").
applies_to(nk_cell_percentage_experimental, nk_cell_percentage_test).

%# > 3. Embryo toxicity assay (ETA);
statement(embryo_toxicity_assay_experimental, experimental_and_investigational_tests, experimental_and_investigational).
statement_quote(embryo_toxicity_assay_experimental, 1, "Aetna considers any of the following tests/studies experimental and investigational because they have been shown to be of no value in the evaluation of recurrent pregnancy loss:").
statement_quote(embryo_toxicity_assay_experimental, 2, "Embryo toxicity assay (ETA);").
applies_to(embryo_toxicity_assay_experimental, embryo_toxicity_assay).

%# > 4. Genetic association studies of inflammatory cytokine polymorphisms;
statement(cytokine_polymorphism_studies_experimental, experimental_and_investigational_tests, experimental_and_investigational).
statement_quote(cytokine_polymorphism_studies_experimental, 1, "Aetna considers any of the following tests/studies experimental and investigational because they have been shown to be of no value in the evaluation of recurrent pregnancy loss:").
statement_quote(cytokine_polymorphism_studies_experimental, 2, "Genetic association studies of inflammatory cytokine polymorphisms;").
applies_to(cytokine_polymorphism_studies_experimental, cytokine_polymorphism_association_study).

