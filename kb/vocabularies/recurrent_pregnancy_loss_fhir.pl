%## Recurrent pregnancy loss — what a FHIR R4 record means in a request
%
% Read by the CDS Hooks service (`covkb serve`, /cds-services) for every
% policy whose policy.pl names shared_vocabulary("recurrent_pregnancy_loss"):
% a draft order and the patient's record (prefetch) become one covkb request
% through these facts, never through policy-specific code.  The predicates
% are declared in kb/schema.pl.
%
% A record's silence is not evidence.  A finding the record does not state
% is unknown (the request's unlisted_findings: unknown; a refuted one goes
% into its absent_findings), and so are a
% pregnancy status and a count it does not state: an incomplete record gets
% a conditional answer naming what is needed, never a denial.  Nor is
% uncertainty: a Condition states a finding present when it is confirmed
% (or has no verificationStatus), absent when it is refuted, and nothing
% when unconfirmed, provisional, differential or entered in error; a
% Procedure states it present when completed, and nothing otherwise (one
% not done is not evidence that none was); an Observation counts when
% final, amended or corrected.

%!  fhir_system(System, Uri)             a code system, by a short name
fhir_system(cpt, "http://www.ama-assn.org/go/cpt").
fhir_system(icd10cm, "http://hl7.org/fhir/sid/icd-10-cm").
fhir_system(loinc, "http://loinc.org").
fhir_system(snomed, "http://snomed.info/sct").

%!  fhir_code(System, Code, Display, Source)
%   A code these facts use, with its display and where its meaning was read.
fhir_code(loinc, "82810-3", "Pregnancy status", "LOINC; its answers as the HL7 IPS value set Pregnancy Status (pregnancy-status-uv-ips) lists them").
fhir_code(loinc, "LA15173-0", "Pregnant", "HL7 IPS value set Pregnancy Status (pregnancy-status-uv-ips)").
fhir_code(loinc, "LA26683-5", "Not pregnant", "HL7 IPS value set Pregnancy Status (pregnancy-status-uv-ips)").
fhir_code(loinc, "LA4489-6", "Unknown", "HL7 IPS value set Pregnancy Status (pregnancy-status-uv-ips)").
fhir_code(loinc, "11614-5", "[#] Abortions.spontaneous", "HL7 IPS value set Pregnancies Summary (pregnancies-summary-uv-ips)").
fhir_code(snomed, "54535009", "Cone biopsy of cervix", "SNOMED CT").
fhir_code(cpt, "57520", "Conization of cervix, with or without fulguration, with or without dilation and curettage, with or without repair; cold knife or laser", "CPT").
fhir_code(cpt, "57522", "Conization of cervix, with or without fulguration, with or without dilation and curettage, with or without repair; loop electrode excision", "CPT").
fhir_code(cpt, "88262", "Chromosome analysis; count 15-20 cells, 2 karyotypes, with banding", "CPT").
fhir_code(icd10cm, "O71.3", "Obstetric laceration of cervix", "ICD-10-CM").
fhir_code(icd10cm, "O26.872", "Cervical shortening, second trimester", "ICD-10-CM").
fhir_code(icd10cm, "O26.873", "Cervical shortening, third trimester", "ICD-10-CM").
fhir_code(icd10cm, "O26.879", "Cervical shortening, unspecified trimester", "ICD-10-CM").

%!  fhir_order_code(System, Field)
%   The code of a draft order (ServiceRequest.code.coding) in System is the
%   request's Field.
fhir_order_code(cpt, cpt).

%!  fhir_code_list(Resource, System, Field)
%   Every code in System of a Resource of the record (Condition) goes into
%   the code-list request field Field; the policy's own facts say what, if
%   anything, each code implies.
fhir_code_list(condition, icd10cm, diagnoses).

%!  fhir_code_means(Resource, System, Code, Field, Value)
%   A Resource of the record coded System#Code states request field Field
%   to be Value (findings: that finding is present).  Resource
%   servicerequest: the draft order itself (service: the service it asks for).
% A cone biopsy (SNOMED CT, or billed as a CPT conization) is the policy's
% "cone biopsy"; the policy's own facts make it a prior cervical trauma.
fhir_code_means(procedure, snomed, "54535009", findings, cone_biopsy).
fhir_code_means(procedure, cpt, "57520", findings, cone_biopsy).
fhir_code_means(procedure, cpt, "57522", findings, cone_biopsy).
fhir_code_means(condition, icd10cm, "O71.3", findings, cervical_laceration_during_delivery).
fhir_code_means(condition, icd10cm, "O26.872", findings, shortened_cervical_length).
fhir_code_means(condition, icd10cm, "O26.873", findings, shortened_cervical_length).
fhir_code_means(condition, icd10cm, "O26.879", findings, shortened_cervical_length).
% A draft order's own codes may name the service where the code alone
% does not: chromosome analysis (CPT 88262, not in the policies' coding
% tables) is karyotyping, of the parents or of abortus tissue.
fhir_code_means(servicerequest, cpt, "88262", service, karyotyping).
% A cerclage in the procedure history (CPT 59320, 59325) is not evidence
% that it failed, nor of its indication: the findings on failed cerclage
% stay unknown unless the record states them.

%!  fhir_observation(System, Code, Field, Reading)
%   An Observation coded System#Code gives the request field Field.
%   Reading:  coded      its valueCodeableConcept, through fhir_answer/4
%             exactly    its valueInteger or valueQuantity is the count
%             at_least   the count is at least its value
%             at_most    the count is at most its value
%   A bound settles a count only where every threshold the policy sets on
%   the field puts every value the bound allows on the same side;
%   otherwise the count stays unknown.  The latest observation of a code
%   (effective date, else issued) is the one read.
fhir_observation(loinc, "82810-3", pregnant, coded).
% Every spontaneous abortion is a failed pregnancy: at least that many
% failed pregnancies.  Consecutive spontaneous abortions are a run among
% them: at most that many.
fhir_observation(loinc, "11614-5", prior_pregnancy_losses, at_least).
fhir_observation(loinc, "11614-5", consecutive_spontaneous_abortions, at_most).

%!  fhir_answer(System, ObservationCode, AnswerCode, Value)
%   An answer (valueCodeableConcept) to the observation, as the field's
%   value: yes, no, or unknown (the record says it is not known).
fhir_answer(loinc, "82810-3", "LA15173-0", yes).
fhir_answer(loinc, "82810-3", "LA26683-5", no).
fhir_answer(loinc, "82810-3", "LA4489-6", unknown).

%!  fhir_prefetch(Key, Resource, Query)
%   A CDS Hooks prefetch template the service asks for; Resource is the
%   resource type its Bundle holds.
fhir_prefetch(patient, patient, "Patient/{{context.patientId}}").
fhir_prefetch(coverage, coverage, "Coverage?patient={{context.patientId}}&status=active").
fhir_prefetch(conditions, condition, "Condition?patient={{context.patientId}}").
fhir_prefetch(procedures, procedure, "Procedure?patient={{context.patientId}}").
fhir_prefetch(pregnancy_status, observation, "Observation?patient={{context.patientId}}&code=http://loinc.org|82810-3&_sort=-date").
fhir_prefetch(pregnancy_history, observation, "Observation?patient={{context.patientId}}&code=http://loinc.org|11614-5&_sort=-date").
