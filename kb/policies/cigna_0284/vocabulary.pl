%## Cigna 0284 — its own vocabulary
%
% The services, findings and request fields it shares with other policies
% on recurrent pregnancy loss are in kb/vocabularies/recurrent_pregnancy_loss.pl
% (policy.pl names it).  Here: what only this policy speaks of.
% Version-specific knowledge (which finding counts as which, which code
% reports which service) lives in the version folders, next to the policy
% sentence it comes from.

%## Patient facts

%!  patient_fact(Fact, Label)
% Cigna's recurrent pregnancy loss: two or more failed pregnancies (its
% definition is in 2025-02-15/general_background.pl).  Not Aetna's, which
% counts consecutive spontaneous abortions.
patient_fact(recurrent_pregnancy_loss, "The individual has recurrent pregnancy loss (two or more failed pregnancies)").

%## Request language
% What a request may state besides the shared fields: the qualifiers
% that say which service a code of this policy's coding table reports.

%!  qualifier(Qualifier, Label)
qualifier(analyte, "Analyte measured (CPT 83520)").
qualifier(substance, "Substance infused (CPT 96365)").

%## Coding table headings

%!  heading_outcome(Words, Outcome)
% What the coding table's headings say of the codes under them; `covkb
% check` compares each code's heading with the statements deciding it.
heading_outcome("Considered Medically Necessary when criteria", medically_necessary).
heading_outcome("Considered Not Medically Necessary", not_medically_necessary).
heading_outcome("Not Covered or Reimbursable", not_covered).

%## How its own facts read in sentences (kb/schema.pl)

%!  fact_reads(Fact, Value, Clause)
fact_reads(recurrent_pregnancy_loss, yes, "the patient has recurrent pregnancy loss").
fact_reads(recurrent_pregnancy_loss, no, "the patient does not have recurrent pregnancy loss").
fact_reads(recurrent_pregnancy_loss, unknown, "whether the patient has recurrent pregnancy loss (two or more failed pregnancies)").
%!  fact_asks(Fact, Question)
fact_asks(recurrent_pregnancy_loss, "How many failed pregnancies has the patient had (recurrent pregnancy loss is two or more)?").
