%## covkb — the derivation both engines build: its node kinds and their attributes, and the errors they report
%
% One case of a determination is an assignment of the request's unknowns,
% an outcome, a statement, the criteria met, a referral and a proof: a tree
% of nodes, each of one kind below, with the attributes listed for it (no
% other) and a list of children.  Neither engine builds the tree: each
% returns the same trace of what it decided (trace_atom/3, below), and one
% builder, covkb.explain, makes the tree from the trace and the version's
% facts; Python adds the determination and case nodes over the cases
% (determination.py).  covkb.derivation reads this file and checks every
% trace and case an engine returns against it when COVKB_CHECK_CONTRACT is
% set (the tests set it).
%
% Types: id (a bare id), text (a string: a code, a quote, a label), bool,
% integer, list(T), value (an id or a number: a fact's value), assumptions
% (the case's assumed facts).  nullable(T): the attribute is there, perhaps
% null.  An attribute marked node_optional/2 may be absent.

%!  node_kind(Kind, Label)
node_kind(determination, "the determination over every case").
node_kind(case, "one completion of the unknowns").
node_kind(outcome, "what the policy decides in a case, and why").
node_kind(scope, "whether the policy addresses the request").
node_kind(service, "the service the request is about").
node_kind(code, "a row of the coding table").
node_kind(notice, "a rule beside the determination (an unlisted code)").
node_kind(partial_version, "where a partly known version breaks off").
node_kind(statement, "a policy statement, applied or not").
node_kind(requirement, "what a statement requires of the patient").
node_kind(criteria, "a statement's criteria, any or all of them").
node_kind(criterion_group, "a nested group of criteria").
node_kind(criterion, "one criterion").
node_kind(fact, "a patient fact or finding, and where its value comes from").

%!  node_attribute(Kind, Attribute, Type)
node_attribute(determination, outcome, id).
node_attribute(determination, statement, nullable(id)).
node_attribute(case, assume, assumptions).
node_attribute(case, outcome, id).
node_attribute(case, statement, nullable(id)).
node_attribute(outcome, outcome, id).
node_attribute(outcome, reason, id).
node_attribute(outcome, service, id).
node_attribute(scope, id, id).
node_attribute(scope, value, value).
node_attribute(scope, section, id).
node_attribute(scope, quote, text).
node_attribute(scope, interpretation, nullable(text)).
node_attribute(service, id, id).
node_attribute(service, source, id).
node_attribute(service, requested, id).
node_attribute(service, code, text).
node_attribute(service, qualifier, id).
node_attribute(service, value, nullable(id)).
node_attribute(service, section, id).
node_attribute(service, quote, text).
node_attribute(code, id, text).
node_attribute(code, listed, bool).
node_attribute(code, reports, id).
node_attribute(code, section, id).
node_attribute(code, quote, text).
node_attribute(code, heading, text).
node_attribute(code, note, text).
node_attribute(code, interpretation, nullable(text)).
node_attribute(notice, id, id).
node_attribute(notice, code, text).
node_attribute(notice, section, id).
node_attribute(notice, quote, text).
node_attribute(partial_version, section, id).
node_attribute(partial_version, quote, text).
node_attribute(partial_version, reason, text).
node_attribute(statement, id, id).
node_attribute(statement, section, id).
node_attribute(statement, quotes, list(text)).
node_attribute(statement, decides, id).
node_attribute(statement, applies, bool).
node_attribute(statement, outcome, nullable(id)).
node_attribute(statement, criteria_met, list(id)).
node_attribute(statement, referral, nullable(text)).
node_attribute(statement, interpretation, nullable(text)).
node_attribute(requirement, id, id).
node_attribute(requirement, expected, value).
node_attribute(requirement, holds, bool).
node_attribute(requirement, quote, text).
node_attribute(requirement, interpretation, nullable(text)).
node_attribute(criteria, mode, id).
node_attribute(criteria, holds, bool).
node_attribute(criteria, quote, text).
node_attribute(criterion_group, id, id).
node_attribute(criterion_group, mode, id).
node_attribute(criterion_group, holds, bool).
node_attribute(criterion_group, quote, text).
node_attribute(criterion_group, section, id).
node_attribute(criterion, id, id).
node_attribute(criterion, fact, id).
node_attribute(criterion, holds, bool).
node_attribute(criterion, quote, text).
node_attribute(criterion, section, id).
node_attribute(criterion, interpretation, nullable(text)).
node_attribute(fact, id, id).
node_attribute(fact, value, value).
node_attribute(fact, source, id).
node_attribute(fact, field, id).
node_attribute(fact, number, integer).
node_attribute(fact, rule, id).
node_attribute(fact, threshold, integer).
node_attribute(fact, code, text).
node_attribute(fact, section, nullable(id)).
node_attribute(fact, quote, nullable(text)).
node_attribute(fact, interpretation, nullable(text)).
node_attribute(fact, would_suffice, list(id)).
node_attribute(fact, bounds, id).

%!  node_optional(Kind, Attribute)
% Attributes a node of the kind may leave out (they say where a value
% comes from, and only some sources have them).
node_optional(outcome, service).
node_optional(service, requested).
node_optional(service, code).
node_optional(service, qualifier).
node_optional(service, value).
node_optional(service, section).
node_optional(service, quote).
node_optional(code, listed).
node_optional(code, reports).
node_optional(code, section).
node_optional(code, quote).
node_optional(code, heading).
node_optional(code, note).
node_optional(code, interpretation).
node_optional(fact, field).
node_optional(fact, number).
node_optional(fact, rule).
node_optional(fact, threshold).
node_optional(fact, code).
node_optional(fact, section).
node_optional(fact, quote).
node_optional(fact, interpretation).
node_optional(fact, would_suffice).
node_optional(fact, bounds).

%!  node_value(Kind, Attribute, Value)
% The values an attribute of ids may take, where they are covkb's own.
node_value(outcome, reason, out_of_scope).
node_value(outcome, reason, other).
node_value(outcome, reason, unlisted_code).
node_value(outcome, reason, no_statement).
node_value(outcome, reason, statement).
node_value(service, source, request).
node_value(service, source, assumed).
node_value(service, source, code).
node_value(fact, source, request).
node_value(fact, source, number).
node_value(fact, source, number_bound).
node_value(fact, source, code).
node_value(fact, source, code_list).
node_value(fact, source, ontology).
node_value(fact, source, closed_world).
node_value(fact, source, stated_absent).
node_value(fact, source, general_stated_absent).
node_value(fact, source, not_stated).
node_value(fact, source, general_finding_listed).
node_value(fact, source, specific_form_unknown).
node_value(fact, source, assumed).
node_value(fact, rule, at_least).
node_value(fact, rule, below).
node_value(criteria, mode, any).
node_value(criteria, mode, all).
node_value(criterion_group, mode, any).
node_value(criterion_group, mode, all).

%!  trace_atom(Name, Arity, Scope)
% The trace an engine returns for each case: flat atoms, the same from
% evaluator.pl (JSON arrays, ["name", arg, ...]) and evaluator.lp (shown
% atoms), besides the case's assignment, outcome, statement, criteria met
% and referral.  Scope `request`: the same in every case of a request
% (evaluator.pl returns them once).  covkb.explain reads nothing else.
trace_atom(settled, 3, request).          % settled(Fact, Value, Source): the fact as the request
                                          % settles it (Value unknown: it does not), for every fact a
                                          % case may show: scope facts, facts of the statements on a
                                          % candidate service, witnesses of present general findings
trace_atom(service, 1, case).             % service(S): the service of the case, `other` or `unlisted_code`
trace_atom(reason, 1, case).              % reason(R): R a value of node_value(outcome, reason, R)
trace_atom(service_named, 3, case).       % service_named(S, request|assumed, Requested)
trace_atom(service_reported, 3, case).    % service_reported(S, Code, Reported): the least Reported
trace_atom(service_other, 3, case).       % service_other(Code, Qualifier, Value): a service of no
                                          % statement (Qualifier `service`: an open-ended code;
                                          % Value null: not given)
trace_atom(unlisted_code, 1, case).       % unlisted_code(Code): not in the coding table
trace_atom(shown, 3, case).               % shown(Statement, Applies, Outcome): explained; Applies
                                          % true when its requirements hold; Outcome null if not
trace_atom(requirement_holds, 2, case).   % requirement_holds(Statement, Fact)
trace_atom(criteria_hold, 1, case).       % criteria_hold(Statement): its ANY or ALL criteria hold
trace_atom(holds, 2, case).               % holds(Statement, Member): a criterion or group holds

%!  trace_source(Name, Arity)
% What settled a fact: settled/3's Source, and each of a contradiction's
% sources ([Value, Source] pairs, in the engine's order).  The node it
% becomes: covkb.explain.
trace_source(field, 1).                   % field(Field): a field of the request states it
trace_source(number, 4).                  % number(Field, at_least|below, Threshold, Number)
trace_source(number_bound, 5).            % number_bound(Field, at_least|below, Threshold, Other, Number):
                                          % the rule on Field, read through the count Other = Number
                                          % that bounds Field (field_at_most/3: Other at most Field
                                          % and Number at or above Threshold, or Field at most Other
                                          % and Number below it)
trace_source(code, 1).                    % code(Code): the CPT code implies it (code_implies/4)
trace_source(code_list, 2).               % code_list(Field, Code): a listed code (listed_code_implies/4)
trace_source(request, 0).                 % listed in the request (present or unknown), or nothing
                                          % settles it (unknown)
trace_source(ontology, 2).                % ontology(Witness, example|is_a): a more specific form is present
trace_source(general_finding_listed, 0).  % unknown: a more general form is listed
trace_source(specific_form_unknown, 0).   % unknown: a more specific form is listed as unknown
trace_source(closed_world, 0).            % absent: not listed, and the request reads silence as absent
                                          % (unlisted_findings: absent)
trace_source(stated_absent, 0).           % absent: listed in absent_findings
trace_source(general_stated_absent, 0).   % absent: a more general form is listed in absent_findings
trace_source(not_stated, 0).              % unknown: not listed, and the request reads silence as unknown
                                          % (unlisted_findings: unknown, the default)

%!  error_precedence(Key, Rank)
% A request may fail several checks at once: name no service it can be
% asked about, have sources that disagree on a fact, or reach statements
% that conflict in one or more completions of its unknowns.  Each engine
% returns every error that applies; the one reported is the least by Rank,
% then by its arguments (as canonical JSON: a contradiction of the least
% fact by id, a conflict of the least statements).  covkb.derivation reads
% this; neither engine orders errors itself.
error_precedence(no_service, 0).
error_precedence(code_service_qualifier, 1).
error_precedence(code_service, 1).
error_precedence(contradiction, 2).
error_precedence(policy_conflict, 3).
