%## covkb — the schema of the fact files
%
% Every fact in kb/ (and in a draft revision) is a ground fact of one of
% these predicates; both evaluators and the Python reader refuse anything
% else.  Read by evaluator.pl's loader and by pyapi/covkb/facts.py.
%
% Nothing here names a policy's terms: a policy declares its own request
% language, scope, derived facts and code meanings with these predicates.

%!  schema(Predicate, Arity)
%   A predicate a fact file may use.
%!  argument(Predicate, Position, Role)
%   What an argument is, for the tools that treat facts generically:
%     statement  a statement id: the fact belongs to that statement (a
%                revision that drops the statement drops the fact)
%     code       a code of the coding table: the fact belongs to that code
%     quote      verbatim text of the source document (checked by `check`)
%     section    a section id;  subject  what an interpretation is about
%     id         any other id;  text  free text;  value  a value or number

%!  unique(Predicate, Key, Position)
%   Facts of Predicate that agree on their first Key arguments agree on
%   argument Position: there is one of it, so neither engine chooses among
%   several (checked when a version loads; a version that breaks it is
%   refused, naming both facts).
unique(interpretation, 1, 2).       % one reading of a subject
unique(code_qualifier, 1, 3).       % one qualifier says which service a code reports
unique(code_qualifier, 2, 4).       % ... with one value per service
unique(code_note, 1, 2).
unique(code_open_ended, 1, 2).
unique(scope, 1, 2).
unique(scope, 1, 3).
unique(partial_version, 0, 1).      % one place where a partly known version breaks off
unique(partial_version, 0, 2).
unique(partial_version, 0, 3).
unique(referral, 1, 2).
unique(member_of, 2, 3).            % a criterion belongs to one group
unique(finding_example, 2, 3).      % a specific form is an example of a general one in one place
unique(finding_example, 2, 4).

%## Vocabulary shared by every policy (kb/vocabulary.pl)
schema(schema, 2).
schema(argument, 3).
schema(revision_fact, 1).
argument(revision_fact, 1, id).
argument(schema, 1, id).
argument(schema, 2, value).
argument(argument, 1, id).
argument(argument, 2, value).
argument(argument, 3, id).
%   outcome(Outcome, Label)             a determination's outcome
%   outcome_favour(Outcome, Rank)       how favourable to coverage (higher: more)
%   outcome_means(Outcome, Meaning)     what it means for coverage (a meaning/2)
%   meaning(Meaning, Label)             covered, denied, referred, not_addressed, ...
%   meaning_crd(Meaning, Covered, InfoNeeded)
%                                       its CRD coverage-information codes
%   meaning_crd_doc(Meaning, DocNeeded, DocPurpose)
%                                       its CRD doc-needed and doc-purpose, where answers decide
%   meaning_crd_code(Meaning, InfoNeeded)
%                                       its CRD info-needed where the ordered code is too coarse
%   meaning_tone(Meaning, Tone)         how it is drawn: favourable, adverse, open, neutral
%   meaning_card(Meaning, Indicator, Heading)
%                                       how a CDS Hooks card shows it: info, warning, critical
%   meaning_review(Meaning, Action, X12Code, Heading)
%                                       the PAS review action of an item: approved, denied,
%                                       pended_for_information, pended_for_review
%   truth(Value, Label)                 the values of a yes/no fact
schema(outcome, 2).
schema(outcome_favour, 2).
schema(outcome_means, 2).
schema(meaning, 2).
schema(meaning_crd, 3).
schema(meaning_crd_doc, 3).
schema(meaning_crd_code, 2).
schema(meaning_tone, 2).
schema(meaning_card, 3).
schema(meaning_review, 4).
schema(truth, 2).
argument(outcome, 1, id).
argument(outcome, 2, text).
argument(outcome_favour, 1, id).
argument(outcome_favour, 2, value).
argument(outcome_means, 1, id).
argument(outcome_means, 2, id).
argument(meaning, 1, id).
argument(meaning, 2, text).
argument(meaning_crd, 1, id).
argument(meaning_crd, 2, value).
argument(meaning_crd, 3, value).
argument(meaning_crd_doc, 1, id).
argument(meaning_crd_doc, 2, value).
argument(meaning_crd_doc, 3, value).
argument(meaning_crd_code, 1, id).
argument(meaning_crd_code, 2, value).
argument(meaning_tone, 1, id).
argument(meaning_tone, 2, id).
argument(meaning_card, 1, id).
argument(meaning_card, 2, id).
argument(meaning_card, 3, text).
argument(meaning_review, 1, id).
argument(meaning_review, 2, id).
argument(meaning_review, 3, value).
argument(meaning_review, 4, text).
argument(truth, 1, id).
argument(truth, 2, text).

%## A policy's vocabulary and request language (kb/policies/*/vocabulary.pl)
%   service(Service, Label)             a service a request may name
%   service_is_a(Specific, General)
%   patient_fact(Fact, Label)           a fact about the patient (yes/no unless
%                                       fact_value/3 gives its values)
%   fact_value(Fact, Value, Label)      one value of a non-boolean fact
%   finding(Finding, Label)             a clinical finding (closed world: listed
%                                       means present, unlisted absent)
%   finding_is_a(Specific, General)
%   qualifier(Qualifier, Label)         a request field that says which service a
%                                       code reports (values: code_qualifier/4)
%   request_field(Field, Kind, Label)   a request field; Kind is one of
%                                         boolean     yes/no, the value of a fact
%                                         choice      one of a fact's values
%                                         count       a whole number
%                                         measurement a whole number in a unit
%                                         code_list   codes of a code system
%   field_fact(Field, Fact)             a boolean or choice field states Fact
%   field_range(Field, Min, Max)        bounds of a count or measurement
%   field_unit(Field, Unit)             the unit of a measurement ("mm")
%   field_code_system(Field, System)    the code system of a code list
%   field_alias(Field, Alias)           a short command-line name
%   field_at_most(Field, Other, Why)    a request may not give the count Field
%                                       above the count Other (Why says why);
%                                       both engines read a number rule on
%                                       either count through the other
%                                       (trace_source number_bound/5), Why
%                                       shown as covkb's interpretation
schema(service, 2).
schema(service_is_a, 2).
schema(patient_fact, 2).
schema(fact_value, 3).
schema(finding, 2).
schema(finding_is_a, 2).
schema(qualifier, 2).
schema(request_field, 3).
schema(field_fact, 2).
schema(field_range, 3).
schema(field_unit, 2).
schema(field_code_system, 2).
schema(field_alias, 2).
schema(field_at_most, 3).
argument(service, 1, id).
argument(service, 2, text).
argument(service_is_a, 1, id).
argument(service_is_a, 2, id).
argument(patient_fact, 1, id).
argument(patient_fact, 2, text).
argument(fact_value, 1, id).
argument(fact_value, 2, id).
argument(fact_value, 3, text).
argument(finding, 1, id).
argument(finding, 2, text).
argument(finding_is_a, 1, id).
argument(finding_is_a, 2, id).
argument(qualifier, 1, id).
argument(qualifier, 2, text).
argument(request_field, 1, id).
argument(request_field, 2, id).
argument(request_field, 3, text).
argument(field_fact, 1, id).
argument(field_fact, 2, id).
argument(field_range, 1, id).
argument(field_range, 2, value).
argument(field_range, 3, value).
argument(field_unit, 1, id).
argument(field_unit, 2, text).
argument(field_code_system, 1, id).
argument(field_code_system, 2, text).
argument(field_alias, 1, id).
argument(field_alias, 2, id).
argument(field_at_most, 1, id).
argument(field_at_most, 2, id).
argument(field_at_most, 3, text).

%## How ids read in sentences (s(CASP)'s #pred, per id)
% A policy (or the vocabulary it shares, or kb/vocabulary.pl for the
% outcomes) declares how its ids read in English, in its own terms;
% covkb.wording and covkb.sentences read every sentence a person reads
% from these and from the labels above.  An id without one falls back to
% its label (`covkb check` notes it, as info).
%!  outcome_reads(Outcome, Words)
%   The decision as a sentence opens with it: "Medically necessary",
%   "Criteria not met", "Not decided".
%!  fact_reads(Fact, Value, Clause)
%   A patient fact or finding with Value (yes, no, a fact_value/3 value), as
%   a clause: fact_reads(pregnant, yes, "the patient is pregnant").  Value
%   unknown: what the record does not say ("whether the patient is pregnant").
%!  fact_asks(Fact, Question)
%   The question a person asks to settle it: "Is the patient pregnant?"
%!  statement_reads(Statement, Words)
%   What a statement rules on, as a noun phrase ("antenatal transabdominal
%   cerclage"): an outcome of the statement reads "Medically necessary:
%   antenatal transabdominal cerclage".
%!  criterion_reads(Statement, Member, Words)
%   A criterion or group of criteria, as a noun phrase, where its fact's
%   reading would not say it ("an apnea-hypopnea index of 5 or more").
schema(outcome_reads, 2).
schema(fact_reads, 3).
schema(fact_asks, 2).
schema(statement_reads, 2).
schema(criterion_reads, 3).
argument(outcome_reads, 1, id).
argument(outcome_reads, 2, text).
argument(fact_reads, 1, id).
argument(fact_reads, 2, id).
argument(fact_reads, 3, text).
argument(fact_asks, 1, id).
argument(fact_asks, 2, text).
argument(statement_reads, 1, statement).
argument(statement_reads, 2, text).
argument(criterion_reads, 1, statement).
argument(criterion_reads, 2, id).
argument(criterion_reads, 3, text).
unique(outcome_reads, 1, 2).
unique(fact_reads, 2, 3).
unique(fact_asks, 1, 2).
unique(statement_reads, 1, 2).
unique(criterion_reads, 2, 3).

%## Versions (kb/policies/*/policy.pl)
%   policy(Policy, Number, Title)
%   version(Version, EffectiveYYYYMMDD, NextReviewYYYYMMDD, Knowledge)
%   version_source(Version, File)
%   shared_vocabulary(Name)             the policy reads the ids and request
%                                       fields of kb/vocabularies/Name.pl, which
%                                       other policies on the same condition share
%   first_effective(YYYYMMDD, Why)     the policy did not exist before this date,
%                                       whatever its versions' dates (Why: the source)
%   default_policy(Number)              (kb/policies/default.pl) the policy a
%                                       request answers to when it names none
schema(policy, 3).
schema(version, 4).
schema(version_source, 2).
schema(shared_vocabulary, 1).
schema(first_effective, 2).
argument(first_effective, 1, value).
argument(first_effective, 2, text).
schema(default_policy, 1).
argument(shared_vocabulary, 1, text).
argument(default_policy, 1, text).
argument(policy, 1, id).
argument(policy, 2, text).
argument(policy, 3, text).
argument(version, 1, text).
argument(version, 2, value).
argument(version, 3, value).
argument(version, 4, id).
argument(version_source, 1, text).
argument(version_source, 2, text).

%## A version's or draft's content
%   section(Section, Parent, Title)
%   scope(Fact, Section, Quote)         the policy addresses a request only
%                                       where Fact is yes; where it is no, the
%                                       outcome is not_addressed
%   number_at_least(Fact, Field, Minimum, Section, Quote)
%                                       Fact is yes when the count or
%                                       measurement Field is at least Minimum,
%                                       no when it is less
%   number_below(Fact, Field, Threshold, Section, Quote)
%                                       Fact is yes when Field is below
%                                       Threshold, no when it is not
%   listed_code_implies(Field, Code, Fact, Value)
%                                       a code listed in the code-list Field
%                                       settles Fact (an interpretation/2 fact
%                                       says where the meaning comes from)
%   statement(Id, Section, Outcome)     what a statement decides
%   statement_quote(Id, N, Quote)       its words, lead sentence first
%   applies_to(Id, Service)             the service it rules on (and every
%                                       more specific form of it)
%   requires(Id, Fact, Value, Quote)    what must hold for it to apply
%   criteria(Id, Mode, Quote)           Mode any or all, over its criteria
%   criterion(Id, Criterion, Fact, Quote)
%                                       a condition: Fact is yes
%   criterion_group(Id, Group, Mode, Quote)
%                                       a nested condition: any or all of its
%                                       members
%   member_of(Id, Criterion, Group)     Criterion (or a group) belongs to Group,
%                                       not to the statement's own criteria
%   referral(Id, Target)                the policy or benefit it defers to
%   finding_example(Specific, General, Section, Quote)
%   code(Code, Section, Description)    a row of the coding table
%   code_heading(Code, Quote)           the heading it is listed under
%   code_note(Code, Quote)              a footnote on the row
%   code_reports(Code, Service)
%   code_qualifier(Code, Service, Qualifier, Value)
%   code_implies(Code, Fact, Value, Quote)
%   code_open_ended(Code, Quote)        an "unlisted procedure" code
%   codes_not_exhaustive(Section, Quote)
%                                       the coding table may miss codes: a
%                                       request naming a service the policy
%                                       rules on, with a code the table does
%                                       not list, is decided by the service
%   uncovered_code_denial(Section, Quote)
%                                       claims whose code the coding table does
%                                       not list are denied as not covered (a
%                                       notice beside the determination)
%   heading_outcome(Words, Outcome)     a coding-table heading that starts with
%                                       Words lists codes whose statements say
%                                       Outcome (checked by `covkb check`)
%   interpretation(Subject, Note)       a reading beyond the text
%   not_formalised(Section, Quote, Why) text deliberately not encoded
schema(section, 3).
schema(scope, 3).
schema(number_at_least, 5).
schema(number_below, 5).
schema(listed_code_implies, 4).
schema(statement, 3).
schema(statement_quote, 3).
schema(applies_to, 2).
schema(requires, 4).
schema(criteria, 3).
schema(criterion, 4).
schema(criterion_group, 4).
schema(member_of, 3).
schema(referral, 2).
schema(finding_example, 4).
schema(code, 3).
schema(code_heading, 2).
schema(code_note, 2).
schema(code_reports, 2).
schema(code_qualifier, 4).
schema(code_implies, 4).
schema(code_open_ended, 2).
schema(codes_not_exhaustive, 2).
schema(uncovered_code_denial, 2).
schema(heading_outcome, 2).
schema(interpretation, 2).
schema(not_formalised, 3).
argument(section, 1, id).
argument(section, 2, id).
argument(section, 3, text).
argument(scope, 1, id).
argument(scope, 2, section).
argument(scope, 3, quote).
argument(number_at_least, 1, id).
argument(number_at_least, 2, id).
argument(number_at_least, 3, value).
argument(number_at_least, 4, section).
argument(number_at_least, 5, quote).
argument(number_below, 1, id).
argument(number_below, 2, id).
argument(number_below, 3, value).
argument(number_below, 4, section).
argument(number_below, 5, quote).
argument(listed_code_implies, 1, id).
argument(listed_code_implies, 2, text).
argument(listed_code_implies, 3, id).
argument(listed_code_implies, 4, id).
argument(statement, 1, statement).
argument(statement, 2, section).
argument(statement, 3, id).
argument(statement_quote, 1, statement).
argument(statement_quote, 2, value).
argument(statement_quote, 3, quote).
argument(applies_to, 1, statement).
argument(applies_to, 2, id).
argument(requires, 1, statement).
argument(requires, 2, id).
argument(requires, 3, id).
argument(requires, 4, quote).
argument(criteria, 1, statement).
argument(criteria, 2, id).
argument(criteria, 3, quote).
argument(criterion, 1, statement).
argument(criterion, 2, id).
argument(criterion, 3, id).
argument(criterion, 4, quote).
argument(criterion_group, 1, statement).
argument(criterion_group, 2, id).
argument(criterion_group, 3, id).
argument(criterion_group, 4, quote).
argument(member_of, 1, statement).
argument(member_of, 2, id).
argument(member_of, 3, id).
argument(referral, 1, statement).
argument(referral, 2, text).
argument(finding_example, 1, id).
argument(finding_example, 2, id).
argument(finding_example, 3, section).
argument(finding_example, 4, quote).
argument(code, 1, code).
argument(code, 2, section).
argument(code, 3, quote).
argument(code_heading, 1, code).
argument(code_heading, 2, quote).
argument(code_note, 1, code).
argument(code_note, 2, quote).
argument(code_reports, 1, code).
argument(code_reports, 2, id).
argument(code_qualifier, 1, code).
argument(code_qualifier, 2, id).
argument(code_qualifier, 3, id).
argument(code_qualifier, 4, id).
argument(code_implies, 1, code).
argument(code_implies, 2, id).
argument(code_implies, 3, id).
argument(code_implies, 4, quote).
argument(code_open_ended, 1, code).
argument(code_open_ended, 2, quote).
argument(codes_not_exhaustive, 1, section).
argument(codes_not_exhaustive, 2, quote).
argument(uncovered_code_denial, 1, section).
argument(uncovered_code_denial, 2, quote).
argument(heading_outcome, 1, text).
argument(heading_outcome, 2, id).
argument(interpretation, 1, subject).
argument(interpretation, 2, text).
argument(not_formalised, 1, section).
argument(not_formalised, 2, quote).
argument(not_formalised, 3, text).

%## FHIR R4 records as requests (kb/vocabularies/*_fhir.pl, read by the
%## CDS Hooks service; see the comments of recurrent_pregnancy_loss_fhir.pl)
%   fhir_system(System, Uri)                       a code system's short name
%   fhir_code(System, Code, Display, Source)       a code used, and where it is defined
%   fhir_order_code(System, Field)                 a draft order's code is the request's Field
%   fhir_code_list(Resource, System, Field)        every such code of the record goes into Field
%   fhir_code_means(Resource, System, Code, Field, Value)
%                                                  such a resource states Field = Value
%   fhir_observation(System, Code, Field, Reading) an Observation gives Field (coded,
%                                                  exactly, at_least, at_most)
%   fhir_answer(System, ObservationCode, AnswerCode, Value)
%                                                  a coded answer as the field's value
%   fhir_prefetch(Key, Resource, Query)            a CDS Hooks prefetch template
schema(fhir_system, 2).
schema(fhir_code, 4).
schema(fhir_order_code, 2).
schema(fhir_code_list, 3).
schema(fhir_code_means, 5).
schema(fhir_observation, 4).
schema(fhir_answer, 4).
schema(fhir_prefetch, 3).
argument(fhir_system, 1, id).
argument(fhir_system, 2, text).
argument(fhir_code, 1, id).
argument(fhir_code, 2, text).
argument(fhir_code, 3, text).
argument(fhir_code, 4, text).
argument(fhir_order_code, 1, id).
argument(fhir_order_code, 2, id).
argument(fhir_code_list, 1, id).
argument(fhir_code_list, 2, id).
argument(fhir_code_list, 3, id).
argument(fhir_code_means, 1, id).
argument(fhir_code_means, 2, id).
argument(fhir_code_means, 3, text).
argument(fhir_code_means, 4, id).
argument(fhir_code_means, 5, id).
argument(fhir_observation, 1, id).
argument(fhir_observation, 2, text).
argument(fhir_observation, 3, id).
argument(fhir_observation, 4, id).
argument(fhir_answer, 1, id).
argument(fhir_answer, 2, text).
argument(fhir_answer, 3, text).
argument(fhir_answer, 4, id).
argument(fhir_prefetch, 1, id).
argument(fhir_prefetch, 2, id).
argument(fhir_prefetch, 3, text).

%## Revisions: a version or draft written as changes to another
%   revision_of(Base)          start from Base's facts
%   drops_statement(S)         ... without statement S (and its facts)
%   drops_code(C)              ... without code C (and its facts)
%   drops_criterion(S, C)      ... without criterion C of statement S
%   partial_version(Section, Quote, Reason)
%                              only part of this version is known: keep from
%                              Base only the statements and codes named by
%                              known_statement/1 and known_code/1; where no
%                              known statement decides, the outcome is unknown
%   evidence(Subject, Section, Quote)
%                              the text a revision's claim about Subject rests on
%!  revision_fact(Predicate)
%   Revision facts describe how a version is made from its base; they never
%   carry over to a revision of that version.
schema(revision_of, 1).
schema(drops_statement, 1).
schema(drops_code, 1).
schema(drops_criterion, 2).
schema(partial_version, 3).
schema(known_statement, 1).
schema(known_code, 1).
schema(evidence, 3).
revision_fact(revision_of).
revision_fact(drops_statement).
revision_fact(drops_code).
revision_fact(drops_criterion).
revision_fact(partial_version).
revision_fact(known_statement).
revision_fact(known_code).
argument(revision_of, 1, text).
argument(drops_statement, 1, id).
argument(drops_code, 1, text).
argument(drops_criterion, 1, id).
argument(drops_criterion, 2, id).
argument(partial_version, 1, section).
argument(partial_version, 2, quote).
argument(partial_version, 3, text).
argument(known_statement, 1, id).
argument(known_code, 1, text).
argument(evidence, 1, subject).
argument(evidence, 2, section).
argument(evidence, 3, quote).

%## Derived: what covkb computes from the facts once, for both engines
%   criterion_position(Statement, Member, Position)
%                                       where a criterion's or group's quote
%                                       starts in the version's source text (-1:
%                                       not found); explanations list criteria
%                                       in this order (then by id)
schema(criterion_position, 3).
argument(criterion_position, 1, statement).
argument(criterion_position, 2, id).
argument(criterion_position, 3, value).
