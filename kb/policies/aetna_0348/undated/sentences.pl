%## How the bulletin's statements read in sentences (kb/schema.pl)
%
% What each statement rules on, as a noun phrase in the bulletin's terms.

%!  statement_reads(Statement, Words)
statement_reads(endometrial_biopsy_medically_necessary, "an endometrial biopsy for recurrent pregnancy loss").
statement_reads(uterine_cavity_imaging_medically_necessary, "imaging of the uterine cavity for recurrent pregnancy loss").
statement_reads(parental_karyotype_medically_necessary, "karyotyping of both parents").
statement_reads(abortus_karyotype_medically_necessary, "karyotyping of the abortus tissue").
statement_reads(antiphospholipid_syndrome_tests_medically_necessary, "tests for antiphospholipid syndrome").
statement_reads(pelvic_ultrasound_medically_necessary, "a pelvic ultrasound scan").
statement_reads(prenatal_genetic_diagnosis_medically_necessary, "prenatal genetic diagnosis").
statement_reads(inherited_thrombophilia_tests_medically_necessary, "tests for inherited thrombophilias").
statement_reads(thyroid_tests_medically_necessary, "thyroid tests").
statement_reads(other_antiphospholipid_antibodies_experimental, "other anti-phospholipid antibody tests").
statement_reads(nk_cell_percentage_experimental, "the percentage of circulating natural killer (NK) cells").
statement_reads(embryo_toxicity_assay_experimental, "the embryo toxicity assay").
statement_reads(cytokine_polymorphism_studies_experimental, "genetic association studies of cytokine polymorphisms").
