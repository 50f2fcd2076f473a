%## Coding Information
%
%   code(Code, Section, Description)            a row of the coding table
%   code_heading(Code, Quote)                   the heading it is listed under
%   code_note(Code, Quote)                      a footnote on the row
%   code_reports(Code, Service)                 a service the code can report here
%   code_qualifier(Code, Service, Qualifier, Value)
%                                               the code reports Service only
%                                               when Qualifier is Value
%   code_implies(Code, Fact, Value, Quote)      reporting the code settles Fact
%   code_open_ended(Code, Quote)                an "unlisted procedure" code: it
%                                               reports this policy's service only
%                                               when the request names that service
% A code that takes a qualifier reports no service of this policy for any
% other value of it.

%# > Notes: 1. This list of codes may not be all-inclusive since the American
%# > Medical Association (AMA) and Centers for Medicare and Medicaid Services
%# > (CMS) code updates may occur more frequently than policy updates.
% A request naming a service a statement rules on, with a code the table
% does not list, is decided by that statement (with this note beside it); a
% code the table does not list, with no service named, is not addressed.
codes_not_exhaustive(coding_information, "This list of codes may not be all-inclusive since the American Medical Association (AMA) and Centers for Medicare and Medicaid Services (CMS) code updates may occur more frequently than policy updates.").
not_formalised(coding_information, "Deleted codes and codes which are not effective at the time the service is rendered may not be eligible for reimbursement.", "covkb holds no code effective-date tables.").

%## Coding Information — Diagnostic Testing

%# > Considered Not Medically Necessary when used to report inhibin B,
%# > peroxisome proliferator activation receptor (PPARs) or cytokine tumor
%# > necrosis factor- α (TNF α) in placenta tissues:
%# > 83520  Immunoassay for analyte other than infectious agent antibody or
%# >        infectious agent antigen; quantitative, not otherwise specified
code("83520", coding_diagnostic_testing, "Immunoassay for analyte other than infectious agent antibody or infectious agent antigen; quantitative, not otherwise specified").
code_heading("83520", "Considered Not Medically Necessary when used to report inhibin B, peroxisome proliferator activation receptor (PPARs) or cytokine tumor necrosis factor- α (TNF α) in placenta tissues:").
code_reports("83520", inhibin_b_test).
code_reports("83520", placental_ppar_test).
code_reports("83520", placental_tnf_alpha_test).
code_qualifier("83520", inhibin_b_test, analyte, inhibin_b).
code_qualifier("83520", placental_ppar_test, analyte, ppar).
code_qualifier("83520", placental_tnf_alpha_test, analyte, tnf_alpha).
interpretation(code_reports("83520", placental_ppar_test), "The heading limits PPARs and TNF-alpha to 'placenta tissues'; covkb reads analyte ppar or tnf_alpha with 83520 as measured in placenta tissue, since a request does not state the specimen.").
interpretation(code_reports("83520", placental_tnf_alpha_test), "The heading limits PPARs and TNF-alpha to 'placenta tissues'; covkb reads analyte ppar or tnf_alpha with 83520 as measured in placenta tissue, since a request does not state the specimen.").

%# > Not Covered or Reimbursable:
%# > 86357  Natural killer (NK) cells, total count
code("86357", coding_diagnostic_testing, "Natural killer (NK) cells, total count").
code_heading("86357", "Not Covered or Reimbursable:").
code_reports("86357", other_nk_cell_test).
interpretation(code_reports("86357", other_nk_cell_test), "A total count of NK cells is not the percentage of circulating NK cells (the one NK cell test another payer names), so covkb reads 86357 as NK cell testing other than that percentage.").

%## Coding Information — Treatment

%# > Considered Medically Necessary when criteria in the applicable policy
%# > statements listed above are met:
%# > 57700  Cerclage of uterine cervix, nonobstetrical
code("57700", coding_treatment, "Cerclage of uterine cervix, nonobstetrical").
code_heading("57700", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_reports("57700", cervical_cerclage).
code_implies("57700", pregnant, no, "Cerclage of uterine cervix, nonobstetrical").
interpretation(code_implies("57700", pregnant, no), "'Nonobstetrical' cerclage is read as cerclage of a non-pregnant individual.").

%# > 58578 [†]  Unlisted laparoscopic procedure, uterus
%# > [†]Note: When used to represent laparoscopic approach for transabdominal
%# > cerclage, during pregnancy or for non-pregnant uterus.
code("58578", coding_treatment, "Unlisted laparoscopic procedure, uterus").
code_heading("58578", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_note("58578", "When used to represent laparoscopic approach for transabdominal cerclage, during pregnancy or for non-pregnant uterus.").
code_reports("58578", transabdominal_cerclage).
code_open_ended("58578", "When used to represent laparoscopic approach for transabdominal cerclage, during pregnancy or for non-pregnant uterus.").

%# > 58999 [††]  Unlisted procedure, female genital system (nonobstetrical)
%# > [††]Note: When used to represent approach for transabdominal cerclage for
%# > non-pregnant uterus.
code("58999", coding_treatment, "Unlisted procedure, female genital system (nonobstetrical)").
code_heading("58999", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_note("58999", "When used to represent approach for transabdominal cerclage for non-pregnant uterus.").
code_reports("58999", transabdominal_cerclage).
code_open_ended("58999", "When used to represent approach for transabdominal cerclage for non-pregnant uterus.").
code_implies("58999", pregnant, no, "When used to represent approach for transabdominal cerclage for non-pregnant uterus.").

%# > 59325  Cerclage of cervix, during pregnancy; abdominal
code("59325", coding_treatment, "Cerclage of cervix, during pregnancy; abdominal").
code_heading("59325", "Considered Medically Necessary when criteria in the applicable policy statements listed above are met:").
code_reports("59325", transabdominal_cerclage).
code_implies("59325", pregnant, yes, "Cerclage of cervix, during pregnancy; abdominal").

%# > Considered Not Medically Necessary:
%# > 86950  Leukocyte transfusion
code("86950", coding_treatment, "Leukocyte transfusion").
code_heading("86950", "Considered Not Medically Necessary:").
code_reports("86950", paternal_cell_immunization).
code_reports("86950", third_party_donor_leukocytes).
interpretation(code_reports("86950", paternal_cell_immunization), "Leukocyte transfusion is read as reporting the two leukocyte immunotherapies the treatment statements name; both are not medically necessary, so no qualifier is needed.").
interpretation(code_reports("86950", third_party_donor_leukocytes), "Leukocyte transfusion is read as reporting the two leukocyte immunotherapies the treatment statements name; both are not medically necessary, so no qualifier is needed.").

%# > 96365  Intravenous infusion, for therapy, prophylaxis, or diagnosis
%# >        (specify substance or drug); initial, up to 1 hour
code("96365", coding_treatment, "Intravenous infusion, for therapy, prophylaxis, or diagnosis (specify substance or drug); initial, up to 1 hour").
code_heading("96365", "Considered Not Medically Necessary:").
code_reports("96365", paternal_cell_immunization).
code_reports("96365", third_party_donor_leukocytes).
code_reports("96365", ivig).
code_reports("96365", intralipid_infusion).
code_qualifier("96365", paternal_cell_immunization, substance, paternal_leukocytes).
code_qualifier("96365", third_party_donor_leukocytes, substance, donor_leukocytes).
code_qualifier("96365", ivig, substance, ivig).
code_qualifier("96365", intralipid_infusion, substance, intralipid).
interpretation(code_reports("96365", paternal_cell_immunization), "The table lists 96365 as not medically necessary; covkb reads an infusion of paternal leukocytes as the paternal leukocyte immunization the treatment statements name.").
interpretation(code_reports("96365", third_party_donor_leukocytes), "The table lists 96365 as not medically necessary; covkb reads an infusion of donor leukocytes as the third-party donor leukocytes the treatment statements name.").
interpretation(code_reports("96365", ivig), "The table lists 96365 as not medically necessary, but the coverage section sends IVIG for recurrent spontaneous abortion to the Immune Globulin policy; covkb follows the coverage statement, so an IVIG infusion is referred.").
interpretation(code_reports("96365", intralipid_infusion), "The table lists 96365 as not medically necessary, but no statement of this version rules on intralipid infusion (only the background discusses it), so an intralipid infusion reported with 96365 is not addressed.").
