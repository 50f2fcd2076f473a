%## Coverage Policy
%
% One statement per bullet of the policy.  A statement has
%   statement(Id, Section, Outcome)          what it decides, where it stands
%   statement_quote(Id, N, Quote)            its words, lead sentence first
%   applies_to(Id, Service)                  which service it rules on
%   requires(Id, Fact, Value, Quote)         what must hold for it to apply
%   criteria(Id, any, Quote)                 "ANY of the following conditions"
%   criterion(Id, Criterion, Finding, Quote) one condition of that list
%   referral(Id, Target)                     the policy or benefit it defers to
% A statement applies to a service and to every more specific service.

%## Coverage Policy — referrals to other policies and benefits

%# > For information regarding coverage for intravenous immunoglobulin therapy
%# > (IVIG, IGIV) for the treatment of recurrent spontaneous abortion, refer to
%# > the Cigna Drug and Biologic Coverage Policy Immune Globulin.
statement(ivig_refer_to_immune_globulin_policy, coverage_policy, refer_to_other_policy).
statement_quote(ivig_refer_to_immune_globulin_policy, 1, "For information regarding coverage for intravenous immunoglobulin therapy (IVIG, IGIV) for the treatment of recurrent spontaneous abortion, refer to the Cigna Drug and Biologic Coverage Policy Immune Globulin.").
applies_to(ivig_refer_to_immune_globulin_policy, ivig).
referral(ivig_refer_to_immune_globulin_policy, "Cigna Drug and Biologic Coverage Policy Immune Globulin").

%# > For information regarding coverage for parental preimplantation genetic
%# > diagnosis, chromosomal abnormalities, karyotyping, molecular
%# > cytogenetics, and other genetic related conditions, please reference
%# > Cigna Coverage Policy Genetic Testing for Reproductive Carrier Screening
%# > and Prenatal Diagnosis.
statement(genetic_testing_refer_to_genetic_testing_policy, coverage_policy, refer_to_other_policy).
statement_quote(genetic_testing_refer_to_genetic_testing_policy, 1, "For information regarding coverage for parental preimplantation genetic diagnosis, chromosomal abnormalities, karyotyping, molecular cytogenetics, and other genetic related conditions, please reference Cigna Coverage Policy Genetic Testing for Reproductive Carrier Screening and Prenatal Diagnosis.").
applies_to(genetic_testing_refer_to_genetic_testing_policy, preimplantation_genetic_testing).
applies_to(genetic_testing_refer_to_genetic_testing_policy, karyotyping).
applies_to(genetic_testing_refer_to_genetic_testing_policy, chromosomal_microarray).
applies_to(genetic_testing_refer_to_genetic_testing_policy, prenatal_genetic_diagnosis).
referral(genetic_testing_refer_to_genetic_testing_policy, "Cigna Coverage Policy Genetic Testing for Reproductive Carrier Screening and Prenatal Diagnosis").
interpretation(applies_to(genetic_testing_refer_to_genetic_testing_policy, chromosomal_microarray), "Chromosomal microarray is read as 'molecular cytogenetics' for 'chromosomal abnormalities'; the policy's related resources also list a separate CGH/CMA policy, which this statement does not name.").
interpretation(applies_to(genetic_testing_refer_to_genetic_testing_policy, prenatal_genetic_diagnosis), "Prenatal genetic diagnosis is read as one of the 'other genetic related conditions' the statement refers to the policy it names, whose title ends 'and Prenatal Diagnosis'.").

%# > Please refer to the applicable pharmacy benefit to determine benefit
%# > availability and the terms and conditions of coverage for medications
%# > for recurrent pregnancy loss.
statement(medications_refer_to_pharmacy_benefit, coverage_policy, refer_to_other_policy).
statement_quote(medications_refer_to_pharmacy_benefit, 1, "Please refer to the applicable pharmacy benefit to determine benefit availability and the terms and conditions of coverage for medications for recurrent pregnancy loss.").
applies_to(medications_refer_to_pharmacy_benefit, medication).
referral(medications_refer_to_pharmacy_benefit, "the applicable pharmacy benefit").

%## Coverage Policy — Diagnostic Testing

%# > Each of the following diagnostic tests for recurrent pregnancy loss is
%# > considered not medically necessary:
%# > - inhibin B
statement(inhibin_b_not_medically_necessary, diagnostic_testing, not_medically_necessary).
statement_quote(inhibin_b_not_medically_necessary, 1, "Each of the following diagnostic tests for recurrent pregnancy loss is considered not medically necessary:").
statement_quote(inhibin_b_not_medically_necessary, 2, "inhibin B").
applies_to(inhibin_b_not_medically_necessary, inhibin_b_test).

%# > - peroxisome proliferator activation receptor (PPARs) and cytokine tumor
%# >   necrosis factor- α (TNF α) in placenta tissues
statement(placental_ppar_and_tnf_alpha_not_medically_necessary, diagnostic_testing, not_medically_necessary).
statement_quote(placental_ppar_and_tnf_alpha_not_medically_necessary, 1, "Each of the following diagnostic tests for recurrent pregnancy loss is considered not medically necessary:").
statement_quote(placental_ppar_and_tnf_alpha_not_medically_necessary, 2, "peroxisome proliferator activation receptor (PPARs) and cytokine tumor necrosis factor- α (TNF α) in placenta tissues").
applies_to(placental_ppar_and_tnf_alpha_not_medically_necessary, placental_ppar_test).
applies_to(placental_ppar_and_tnf_alpha_not_medically_necessary, placental_tnf_alpha_test).

%# > The following diagnostic test for recurrent pregnancy loss is not covered
%# > or reimbursable:
%# > - natural killer (NK) cell testing
statement(nk_cell_testing_not_covered, diagnostic_testing, not_covered).
statement_quote(nk_cell_testing_not_covered, 1, "The following diagnostic test for recurrent pregnancy loss is not covered or reimbursable:").
statement_quote(nk_cell_testing_not_covered, 2, "natural killer (NK) cell testing").
applies_to(nk_cell_testing_not_covered, nk_cell_test).

%## Coverage Policy — Treatment

%# > The following treatments are considered medically necessary for
%# > recurrent pregnancy loss:
%# > - antenatal (during pregnancy) transabdominal/laparoscopic cervical
%# >   cerclage for an individual with ANY of the following conditions:
%# >   - prior failed history-indicated transvaginal cervical cerclage
%# >   - prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)
%# >   - shortened cervical length
statement(antenatal_transabdominal_cerclage, treatment, medically_necessary).
statement_quote(antenatal_transabdominal_cerclage, 1, "The following treatments are considered medically necessary for recurrent pregnancy loss:").
statement_quote(antenatal_transabdominal_cerclage, 2, "antenatal (during pregnancy) transabdominal/laparoscopic cervical cerclage for an individual with ANY of the following conditions:").
applies_to(antenatal_transabdominal_cerclage, transabdominal_cerclage).
requires(antenatal_transabdominal_cerclage, pregnant, yes, "antenatal (during pregnancy)").
criteria(antenatal_transabdominal_cerclage, any, "for an individual with ANY of the following conditions:").
criterion(antenatal_transabdominal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, "prior failed history-indicated transvaginal cervical cerclage").
criterion(antenatal_transabdominal_cerclage, prior_cervical_trauma, prior_cervical_trauma, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
criterion(antenatal_transabdominal_cerclage, shortened_cervical_length, shortened_cervical_length, "shortened cervical length").

%# > - cerclage performed on a non-pregnant individual with ANY of the
%# >   following conditions: (the same three conditions)
statement(non_pregnant_cerclage, treatment, medically_necessary).
statement_quote(non_pregnant_cerclage, 1, "The following treatments are considered medically necessary for recurrent pregnancy loss:").
statement_quote(non_pregnant_cerclage, 2, "cerclage performed on a non-pregnant individual with ANY of the following conditions:").
applies_to(non_pregnant_cerclage, cervical_cerclage).
interpretation(applies_to(non_pregnant_cerclage, cervical_cerclage), "The statement names no approach, so covkb applies it to cerclage by any approach; the coding table lists both a nonobstetrical cerclage code (57700) and transabdominal codes (58578, 58999) for the non-pregnant uterus.").
requires(non_pregnant_cerclage, pregnant, no, "cerclage performed on a non-pregnant individual").
criteria(non_pregnant_cerclage, any, "with ANY of the following conditions:").
criterion(non_pregnant_cerclage, prior_failed_history_indicated_transvaginal_cerclage, prior_failed_history_indicated_transvaginal_cerclage, "prior failed history-indicated transvaginal cervical cerclage").
criterion(non_pregnant_cerclage, prior_cervical_trauma, prior_cervical_trauma, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
criterion(non_pregnant_cerclage, shortened_cervical_length, shortened_cervical_length, "shortened cervical length").

%# > prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)
%!  finding_example(Specific, General, Section, Quote)
% The policy's own examples of a finding: the specific one counts as the
% general one.
finding_example(cone_biopsy, prior_cervical_trauma, treatment, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").
finding_example(cervical_laceration_during_delivery, prior_cervical_trauma, treatment, "prior cervical trauma (e.g., cone biopsy, cervical laceration during delivery)").

%# > shortened cervical length
interpretation(shortened_cervical_length, "The policy sets no threshold for 'shortened cervical length'; covkb takes the finding as the requester asserts it (the background's ACOG indication, under 25 mm before 24 weeks, is not made a criterion).").

%# > Each of the following interventions is considered not medically
%# > necessary for the treatment of recurrent pregnancy loss:
%# > - paternal cell immunization/paternal leukocyte immunization
%# > - third-party donor leukocytes
statement(paternal_cell_immunization_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(paternal_cell_immunization_not_medically_necessary, 1, "Each of the following interventions is considered not medically necessary for the treatment of recurrent pregnancy loss:").
statement_quote(paternal_cell_immunization_not_medically_necessary, 2, "paternal cell immunization/paternal leukocyte immunization").
applies_to(paternal_cell_immunization_not_medically_necessary, paternal_cell_immunization).

statement(third_party_donor_leukocytes_not_medically_necessary, treatment, not_medically_necessary).
statement_quote(third_party_donor_leukocytes_not_medically_necessary, 1, "Each of the following interventions is considered not medically necessary for the treatment of recurrent pregnancy loss:").
statement_quote(third_party_donor_leukocytes_not_medically_necessary, 2, "third-party donor leukocytes").
applies_to(third_party_donor_leukocytes_not_medically_necessary, third_party_donor_leukocytes).
