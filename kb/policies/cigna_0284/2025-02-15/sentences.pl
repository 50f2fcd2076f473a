%## How this version's statements read in sentences (kb/schema.pl)
%
% What each statement rules on, as a noun phrase in the policy's terms: a
% decision reads "Medically necessary: antenatal transabdominal cerclage, as
% the patient is pregnant and ...".  Earlier versions are revisions of this
% one and keep these (a statement they drop takes its reading with it).

%!  statement_reads(Statement, Words)
statement_reads(ivig_refer_to_immune_globulin_policy, "intravenous immunoglobulin (IVIG) for recurrent pregnancy loss").
statement_reads(genetic_testing_refer_to_genetic_testing_policy, "genetic testing for recurrent pregnancy loss").
statement_reads(medications_refer_to_pharmacy_benefit, "medications for recurrent pregnancy loss").
statement_reads(inhibin_b_not_medically_necessary, "the inhibin B test for recurrent pregnancy loss").
statement_reads(placental_ppar_and_tnf_alpha_not_medically_necessary, "PPAR and TNF-alpha tests of placenta tissue for recurrent pregnancy loss").
statement_reads(nk_cell_testing_not_covered, "natural killer (NK) cell testing for recurrent pregnancy loss").
statement_reads(antenatal_transabdominal_cerclage, "antenatal transabdominal or laparoscopic cervical cerclage").
statement_reads(non_pregnant_cerclage, "cervical cerclage for a patient who is not pregnant").
statement_reads(paternal_cell_immunization_not_medically_necessary, "paternal cell immunization for recurrent pregnancy loss").
statement_reads(third_party_donor_leukocytes_not_medically_necessary, "third-party donor leukocytes for recurrent pregnancy loss").
