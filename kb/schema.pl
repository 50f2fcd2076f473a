%## covkb — the schema of the fact files
%
% Every fact in kb/ (and in a draft revision) is a ground fact of one of
% these predicates; both evaluators and the Python reader refuse anything
% else.  Read by evaluator.pl's loader and by pyapi/covkb/facts.py.

%!  schema(Predicate, Arity)

%## Vocabulary (kb/vocabulary.pl, kb/policies/*/vocabulary.pl)
schema(schema, 2).
schema(outcome, 2).
schema(truth, 2).
schema(qualifier, 2).
schema(service, 2).
schema(service_is_a, 2).
schema(patient_fact, 2).
schema(finding, 2).
schema(finding_is_a, 2).

%## Versions (kb/policies/*/policy.pl)
schema(policy, 3).
schema(version, 4).
schema(version_source, 2).

%## A version's or draft's content
schema(section, 3).
schema(scope, 3).
schema(definition, 3).
schema(rpl_minimum_failed_pregnancies, 1).
schema(rpl_diagnosis_code, 1).
schema(statement, 3).
schema(statement_quote, 3).
schema(applies_to, 2).
schema(requires, 4).
schema(criteria, 3).
schema(criterion, 4).
schema(referral, 2).
schema(finding_example, 4).
schema(code, 3).
schema(code_heading, 2).
schema(code_note, 2).
schema(code_reports, 2).
schema(code_qualifier, 4).
schema(code_implies, 4).
schema(code_open_ended, 2).
schema(interpretation, 2).
schema(not_formalised, 3).

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
schema(revision_of, 1).
schema(drops_statement, 1).
schema(drops_code, 1).
schema(drops_criterion, 2).
schema(partial_version, 3).
schema(known_statement, 1).
schema(known_code, 1).
schema(evidence, 3).
