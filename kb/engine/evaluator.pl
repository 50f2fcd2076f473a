/*  covkb — the generic Prolog evaluator.

    Policy content is not here: it lives once in kb/ as facts that SWI-Prolog
    and clingo both read, and a policy declares there its own request
    language (request_field/3), scope (scope/3), derived facts
    (number_at_least/5, number_below/5, listed_code_implies/4, code_implies/4)
    and statements.  Each policy version is loaded into a module of its own
    (load.pl).  For a request, this module resolves the service, derives the
    facts the request settles, and decides every completion of the facts it
    leaves unknown: each case with the trace of what decided it (the atoms
    kb/derivation.pl declares: trace_atom/3, trace_source/2), the same as
    evaluator.lp's.  The derivation tree is built from the trace once, in
    Python (pyapi/covkb/explain.py), for both engines, as are aggregating
    the cases into one three-valued outcome, collecting citations and
    wording errors (determination.py, errors.py).

    Requests arrive as JSON text and are read as data (json_codec.pl);
    nothing a user sends is ever read as a Prolog term or called.
*/
:- module(covkb_evaluator,
          [ cases_json/3,           % +Module, +RequestJson, -CasesJson
            cases/4,                % +Module, +Request, -Settled, -Cases
            relevant_findings_json/3 % +Module, +RequestJson, -FindingsJson
          ]).
% the loader's entry points are this module's too: Python calls them here
:- reexport(load, [load_kb/2, load_kb_status/3, unload_kb/1]).
:- use_module(load, [unique_statements/1]).
:- use_module(json_codec, [json_request/2, json_text/2]).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(pairs)).

%!  cases_json(+Module, +RequestJson, -CasesJson:string) is det.
%
%   The boundary used from Python: {"facts": [...], "cases": [...]} (the
%   request's settled/3 trace atoms, once, and its cases) or, for a request
%   that cannot be answered, {"errors": [{"code", "key", "args"}, ...]}:
%   every error that applies.  Which one is reported is chosen in Python by
%   the order kb/derivation.pl declares (error_precedence/2), as for clingo.
%   A trace atom is a list, [Name|Args], a compound source likewise.
cases_json(M, RequestJson, Out) :-
    catch(( json_request(RequestJson, Req),
            cases(M, Req, Settled, Cases),
            R = _{facts: Settled, cases: Cases}
          ),
          Error,
          error_answer(Error, R)),
    json_text(R, Out).

%   error_answer(+Thrown, -Answer): the errors a request got, as JSON data.
error_answer(covkb_errors(Es), _{errors: Ds}) :- !, maplist(error_dict, Es, Ds).
error_answer(covkb_error(Code, Key, Args), _{errors: [D]}) :- !, error_dict(covkb_error(Code, Key, Args), D).
error_answer(E, _) :- throw(E).

error_dict(covkb_error(Code, Key, Args), _{code: Code, key: Key, args: Args}).

%   request_errors(+Goals): call each goal; when some throw covkb_error/3,
%   throw covkb_errors/1 with every one of them (the checks do not depend
%   on one another, so each is made whatever the others find).
request_errors(Goals) :-
    foldl(checked, Goals, [], Es0),
    (   Es0 == [] -> true ; reverse(Es0, Es), throw(covkb_errors(Es)) ).

checked(Goal, Es0, Es) :-
    catch(( call(Goal), Es = Es0 ), E, caught(E, Es0, Es)).

caught(covkb_error(C, K, A), Es0, [covkb_error(C, K, A)|Es0]) :- !.
caught(covkb_errors(L), Es0, Es) :- !, reverse(L, R), append(R, Es0, Es).
caught(E, _, _) :- throw(E).

%!  cases(+Module, +Request:dict, -Settled:list, -Cases:list) is det.
%
%   Request is the validated request (pyapi/covkb/request.py, engine form):
%   service, cpt (null or a string), qualifiers, values and codes (objects
%   keyed by field), findings, unknown_findings and absent_findings (lists)
%   and unlisted_findings (unknown or absent: how a finding the request does
%   not list is read; unknown when not given).  Settled: the
%   request's settled/3 trace atoms (the same in every case).  Each case is
%   a dict: assign (the completion: var, value, rank), outcome, statement,
%   criteria_met, referral and trace (its trace atoms).
cases(M, Req0, Settled, Cases) :-
    normalise_request(Req0, Req),
    Checks = [ resolve_services(M, Req, Cands, ServiceTraces, ServiceVar),
               settle_facts(M, Req, Facts) ],
    (   catch(maplist(call, Checks), covkb_error(_, _, _), fail)
    ->  true
    ;   request_errors(Checks)  % throws every error the checks find
    ),
    Ctx = ctx(M, Req, Facts),
    relevant_statements(M, Cands, Stmts),
    unknown_vars(Ctx, Cands, ServiceVar, Stmts, Vars),
    (   catch(decided_cases(Ctx, Cands, ServiceTraces, Vars, Cases), covkb_error(policy_conflict, _, _), fail)
    ->  true
    ;   % a case whose statements conflict fails the request: every case's
        % conflict is reported to Python, which chooses one
        findall(covkb_error(policy_conflict, K, A),
                ( assignment(Vars, As), consistent(Ctx, As),
                  catch(( assigned_case(Ctx, Cands, ServiceTraces, As, _), fail ),
                        covkb_error(policy_conflict, K, A), true) ),
                Es0),
        Es0 \== [],
        sort(Es0, Es),
        throw(covkb_errors(Es))
    ),
    settled_trace(Ctx, Stmts, Settled).

%   decided_cases(+Ctx, +Cands, +ServiceTraces, +Vars, -Cases): every case;
%   throws at a case whose statements conflict.
decided_cases(Ctx, Cands, ServiceTraces, Vars, Cases) :-
    Ctx = ctx(M, _, _),
    (   unique_statements(M)
    ->  % a case per assignment at most: decided outside findall/3, which
        % would copy every case
        findall(A, ( assignment(Vars, A), consistent(Ctx, A) ), As),
        assigned_cases(As, Ctx, Cands, ServiceTraces, Cases)
    ;   findall(Case, case(Ctx, Cands, ServiceTraces, Vars, Case), Cases)
    ),
    Cases \== [],
    !.

%!  relevant_findings_json(+Module, +RequestJson, -Out:string) is det.
%
%   The findings whose presence, absence or unknownness can change the
%   answer to requests for this service/code/qualifiers: the facts of every
%   statement that may apply, with their more general and more specific
%   forms.  Batch runs use it to recognise requests that must get the same
%   answer.  Out is {"findings": [...]} or {"errors": [...]}.
relevant_findings_json(M, RequestJson, Out) :-
    catch(( json_request(RequestJson, Req0),
            normalise_request(Req0, Req),
            request_errors([resolve_services(M, Req, Cands, _, _)]),
            relevant_statements(M, Cands, Stmts),
            findall(G, ( member(S, Stmts), statement_fact(M, S, F), M:finding(F, _),
                         ( finding_below(M, F, G) ; finding_above(M, F, G) ) ), Gs),
            sort(Gs, Findings),
            R = _{findings: Findings}
          ),
          Error,
          error_answer(Error, R)),
    json_text(R, Out).

%%  Request --------------------------------------------------------------

normalise_request(R0, req{service: S, cpt: C, quals: Qs, values: Vs, codes: Cs,
                          findings: Fs, unknown_findings: Us, absent_findings: As,
                          unlisted: Un}) :-
    opt_atom(R0, service, S),
    opt_string(R0, cpt, C),
    dict_field(R0, qualifiers, Q0), dict_pairs(Q0, _, QP), maplist(atom_value, QP, Qs),
    dict_field(R0, values, V0), dict_pairs(V0, _, VP), maplist(fact_field_value, VP, Vs),
    dict_field(R0, codes, C0), dict_pairs(C0, _, CP),
    findall(K-D, ( member(K-L, CP), is_list(L), member(D0, L), to_string(D0, D) ), Cs),
    list_field(R0, findings, Fs0), maplist(to_atom, Fs0, Fs),
    list_field(R0, unknown_findings, Us0), maplist(to_atom, Us0, Us),
    list_field(R0, absent_findings, As0), maplist(to_atom, As0, As),
    % silence is not evidence: an unlisted finding is unknown unless the
    % request asks for the closed reading
    (   get_dict(unlisted_findings, R0, U0), to_atom(U0, absent) -> Un = absent ; Un = unknown ).

opt_atom(D, K, V) :-
    (   get_dict(K, D, X), X \== null -> to_atom(X, V) ; V = none ).
opt_string(D, K, V) :-
    (   get_dict(K, D, X), X \== null -> to_string(X, V) ; V = none ).
list_field(D, K, L) :-
    (   get_dict(K, D, L0), is_list(L0) -> L = L0 ; L = [] ).
dict_field(D, K, V) :-
    (   get_dict(K, D, V0), is_dict(V0) -> V = V0 ; V = _{} ).
atom_value(K-V0, K-V) :- to_atom(V0, V).
% numbers stay numbers; yes/no and choice values become atoms
fact_field_value(K-V0, K-V) :- ( number(V0) -> V = V0 ; to_atom(V0, V) ).
to_atom(X, A) :- atom_string(A, X).
to_string(X, S) :- atom_string(X, S0), S = S0.

%!  fail_request(+Key, +Args:dict) is det.
%
%   Give up on the request: Key names the reason, Args its details; the
%   message is worded once, in Python (errors.py).
fail_request(Key, Args) :-
    throw(covkb_error(invalid_request, Key, Args)).

%%  Which service the request is about -----------------------------------

%   resolve_services(+M, +Req, -Candidates, -Traces, -Var)
%   Candidates: the specific services (or `other`, `unlisted_code`) the
%   request may be about; Traces: Service-Atoms, the trace atoms that say
%   how the request names it; Var: the request field that would settle a
%   choice among them (service, or a qualifier).
resolve_services(M, Req, Cands, Traces, Var) :-
    Code = Req.cpt, Svc = Req.service,
    (   Code \== none, \+ M:code(Code, _, _)
    ->  (   Svc == none
        ->  Cands = [unlisted_code], Traces = [unlisted_code-[[unlisted_code, Code]]]
        ;   leaf_services(M, Svc, Cands),
            maplist(named_service(Svc, [[unlisted_code, Code]]), Cands, Traces)
        ),
        Var = service
    ;   Code \== none
    ->  code_candidates(M, Req, Code, Svc, Cands, Traces, Var)
    ;   Svc \== none
    ->  leaf_services(M, Svc, Cands),
        maplist(named_service(Svc, []), Cands, Traces),
        Var = service
    ;   fail_request(no_service, _{})
    ).

code_candidates(M, Req, Code, Svc, Cands, Traces, Var) :-
    (   code_takes_qualifier(M, Code, Q) -> true ; Q = none ),
    (   Q \== none, memberchk(Q-QVal0, Req.quals) -> QVal = QVal0 ; QVal = '$no_value' ),
    findall((S-S0)-[[service_reported, S, Code, S0]],
            ( code_service(M, Code, Q, QVal, S0),
              refine_service(M, Svc, S0, S1),
              leaf_services(M, S1, Leaves),
              member(S, Leaves)
            ), Keyed0),
    % a candidate several reported services reach is shown by the least (as evaluator.lp)
    keysort(Keyed0, Keyed),
    least_reports(Keyed, Pairs0),
    (   Svc == none,
        (   Q \== none, ( QVal == '$no_value' ; \+ M:code_qualifier(Code, _, Q, QVal) )
        ;   M:code_open_ended(Code, _)
        )
    ->  other_service(M, Code, Q, QVal, Other), append(Pairs0, [other-[Other]], Pairs)
    ;   Pairs = Pairs0
    ),
    (   Pairs == []
    ->  (   QVal \== '$no_value'
        ->  fail_request(code_service_qualifier, _{code: Code, qualifier: Q, value: QVal, service: Svc})
        ;   fail_request(code_service, _{code: Code, service: Svc})
        )
    ;   true
    ),
    pairs_keys(Pairs, Cands), Traces = Pairs,
    (   Q \== none, QVal == '$no_value' -> Var = Q ; Var = service ).

least_reports([], []).
least_reports([(S-_)-Trace|T0], [S-Trace|T]) :-
    exclude(same_candidate(S), T0, T1),
    least_reports(T1, T).

same_candidate(S, (S-_)-_).

code_takes_qualifier(M, Code, Q) :- M:code_qualifier(Code, _, Q, _), !.

%   A service the code reports, given the qualifier's value (or '$no_value':
%   not given; not `none`, which a request may send as a value), where the
%   coding table lists the code under a heading.
code_service(M, Code, Q, QVal, S) :-
    M:code_reports(Code, S),
    (   Q == none
    ->  true
    ;   M:code_qualifier(Code, S, Q, V),
        ( QVal == '$no_value' -> true ; QVal == V )
    ),
    once(M:code_heading(Code, _)).

%   refine_service(+M, +Requested, +Reported, -Service): the more specific of
%   the two when one is a form of the other; fails when they are unrelated.
refine_service(_, none, S, S) :- !.
refine_service(M, Req, S, Req) :- service_below(M, Req, S), !.
refine_service(M, Req, S, S) :- service_below(M, S, Req), !.

service_below(_, S, S).
service_below(M, S, G) :- M:service_is_a(S, P), service_below(M, P, G).

leaf_services(M, S, Leaves) :-
    (   setof(L, leaf_below(M, S, L), Leaves) -> true ; Leaves = [S] ).
leaf_below(M, S, L) :-
    M:service_is_a(C, S),
    (   M:service_is_a(_, C) -> leaf_below(M, C, L) ; L = C ).

%   named_service(+Requested, +More, +S, -Trace): S named by the request, or
%   a more specific form of the service it names.
named_service(Svc, More, S, S-[[service_named, S, Src, Svc]|More]) :-
    ( S == Svc -> Src = request ; Src = assumed ).

%   other_service(+M, +Code, +Q, +QVal, -Atom): the code may report a service
%   of no statement: an open-ended code (qualifier `service`), or one whose
%   qualifier is not given or names no service.
other_service(M, Code, Q, QVal, [service_other, Code, Q1, V]) :-
    M:code(Code, _, _),
    (   Q == none, M:code_open_ended(Code, _) -> Q1 = service
    ;   M:code_heading(Code, _), Q1 = Q
    ),
    !,
    ( QVal == '$no_value' -> V = null ; V = QVal ).

%%  Facts the request settles -----------------------------------------------

%   settle_facts(+M, +Req, -Settled): Fact-(Value-Source) for every patient
%   fact, Source as the trace shows it (trace_source/2 of kb/derivation.pl);
%   a fact whose sources disagree makes the request invalid (each such fact
%   is an error, with every source).
settle_facts(M, Req, Settled) :-
    findall(F, M:patient_fact(F, _), Fs0), sort(Fs0, Fs),
    (   catch(maplist(settle_fact(M, Req), Fs, Settled), covkb_error(_, _, _), fail)
    ->  true
    ;   % a contradiction: settled again, every fact's error collected
        maplist(settle_goal(M, Req), Fs, Settled, Goals),
        request_errors(Goals)
    ).

settle_goal(M, Req, F, Settled, settle_fact(M, Req, F, Settled)).

settle_fact(M, Req, F, F-(V-S)) :-
    findall(src(Rank, Key, Val, Src), fact_source(M, Req, F, Rank, Key, Val, Src), Srcs0),
    sort(Srcs0, Srcs),
    (   Srcs == []
    ->  V = unknown, S = request
    ;   Srcs = [src(_, _, V, S)|_],
        (   member(src(_, _, V2, _), Srcs), V2 \== V
        ->  findall([V1, S1], member(src(_, _, V1, S1), Srcs), Sources),
            fail_request(contradiction, _{fact: F, sources: Sources})
        ;   true
        )
    ).

%   fact_source(+M, +Req, +Fact, -Rank, -Key, -Value, -Source): one thing in
%   the request that settles Fact.  Rank and Key order the sources (the
%   first is shown); the ASP evaluator orders them the same way.  Ranks: a
%   field stating the fact (0), a number rule on the field's count (1), the
%   CPT code (2), a listed code (3), a number rule read through a count that
%   bounds the rule's count (4, field_at_most/3): the least direct last.
fact_source(M, Req, F, 0, Field, V, [field, Field]) :-
    M:field_fact(Field, F),
    memberchk(Field-V, Req.values).
fact_source(M, Req, F, 1, Field-at_least, V, [number, Field, at_least, Min, N]) :-
    M:number_at_least(F, Field, Min, _, _),
    memberchk(Field-N, Req.values), number(N),
    ( N >= Min -> V = yes ; V = no ).
fact_source(M, Req, F, 1, Field-below, V, [number, Field, below, T, N]) :-
    M:number_below(F, Field, T, _, _),
    memberchk(Field-N, Req.values), number(N),
    ( N < T -> V = yes ; V = no ).
fact_source(M, Req, F, 2, Code, V, [code, Code]) :-
    Code = Req.cpt, Code \== none,
    M:code_implies(Code, F, V, _),
    M:code(Code, _, _).
fact_source(M, Req, F, 3, Field-Code, V, [code_list, Field, Code]) :-
    member(Field-Code, Req.codes),
    M:listed_code_implies(Field, Code, F, V).
fact_source(M, Req, F, 4, Other-Field-Rule, V, [number_bound, Field, Rule, T, Other, N]) :-
    count_bound(M, Field, Other, Side),
    number_rule(M, F, Field, Rule, T),
    memberchk(Other-N, Req.values), number(N),
    bound_value(Side, Rule, N, T, V).

%   count_bound(+M, ?Field, ?Other, ?Side): the count Other bounds the count
%   Field (field_at_most/3: a count never exceeds the one it is at most):
%   Side lower when Field is at least Other, upper when it is at most Other.
count_bound(M, Large, Small, lower) :- M:field_at_most(Small, Large, _).
count_bound(M, Small, Large, upper) :- M:field_at_most(Small, Large, _).

%   number_rule(+M, ?Fact, ?Field, ?Rule, ?Threshold): number_at_least/5 or
%   number_below/5.
number_rule(M, F, Field, at_least, T) :- M:number_at_least(F, Field, T, _, _).
number_rule(M, F, Field, below, T) :- M:number_below(F, Field, T, _, _).

%   bound_value(+Side, +Rule, +N, +T, -Value): what a bound N on a field
%   settles of the fact a Rule with threshold T reads from it, if anything:
%   a lower bound at or above T puts the field there too, an upper bound
%   below T puts it below.
bound_value(lower, at_least, N, T, yes) :- N >= T.
bound_value(lower, below, N, T, no) :- N >= T.
bound_value(upper, at_least, N, T, no) :- N < T.
bound_value(upper, below, N, T, yes) :- N < T.

%   finding_status(+M, +Req, +Finding, -Value, -Source): three-valued status
%   of a finding under the request and the findings ontology: present when
%   listed or a more specific form is present; unknown when listed as
%   unknown; absent when stated absent, itself or a more general form;
%   unknown when a more general form is listed or a more specific form is
%   unknown; otherwise as the request reads silence (unlisted_findings):
%   unknown (not_stated), or absent (closed_world).
finding_status(_, Req, F, yes, request) :-
    memberchk(F, Req.findings), !.
finding_status(M, Req, F, yes, [ontology, C, Link]) :-
    % the witness: an example before an is-a link, then the least by id
    findall(K-C, finding_child(M, F, C, K, _, _), Children0),
    msort(Children0, Children),
    member(K-C, Children),
    finding_status(M, Req, C, yes, _), !,
    link(K, Link).
finding_status(_, Req, F, unknown, request) :-
    memberchk(F, Req.unknown_findings), !.
finding_status(M, Req, F, no, Why) :-
    (   memberchk(F, Req.absent_findings) -> Why = stated_absent
    ;   finding_above(M, F, A), memberchk(A, Req.absent_findings)
    ->  Why = general_stated_absent
    ), !.
finding_status(M, Req, F, unknown, Why) :-
    (   finding_above(M, F, A), ( memberchk(A, Req.findings) ; memberchk(A, Req.unknown_findings) )
    ->  Why = general_finding_listed
    ;   finding_below(M, F, D), D \== F, memberchk(D, Req.unknown_findings)
    ->  Why = specific_form_unknown
    ;   Req.unlisted == unknown
    ->  Why = not_stated
    ), !.
finding_status(_, _, _, no, closed_world).

link(0, example).
link(1, is_a).

%   finding_child(+M, ?General, ?Specific, -Section, -Quote)
finding_child(M, G, S, Section, Quote) :- finding_child(M, G, S, _, Section, Quote).

%   finding_child(+M, ?General, ?Specific, -Kind, -Section, -Quote): Kind 0
%   an example (finding_example/4), 1 an is-a link.
finding_child(M, G, S, 0, Section, Quote) :- M:finding_example(S, G, Section, Quote).
finding_child(M, G, S, 1, null, null) :- M:finding_is_a(S, G).

finding_below(_, F, F).
finding_below(M, F, D) :- finding_child(M, F, C, _, _), finding_below(M, C, D).
finding_above(M, F, A) :- finding_child(M, A, F, _, _).
finding_above(M, F, A) :- finding_child(M, P, F, _, _), finding_above(M, P, A).

%   status(+Ctx, +Fact, -Value, -Source): a patient fact as settled, or a finding.
status(ctx(M, Req, Settled), F, V, S) :-
    (   memberchk(F-(V0-S0), Settled)
    ->  V = V0, S = S0
    ;   M:finding(F, _)
    ->  % steadfast: with V bound, finding_status/5 would skip the clauses
        % that find the finding present through a more specific form
        once(finding_status(M, Req, F, V0, S0)), V = V0, S = S0
    ;   V = unknown, S = request
    ).

%   settled_trace(+Ctx, +Stmts, -Atoms): settled/3 for every fact a case's
%   derivation may show: the scope facts, the facts of Stmts (the
%   statements on a candidate service) and, for a general finding present
%   through a more specific form, that form (as evaluator.lp).
settled_trace(Ctx, Stmts, Atoms) :-
    Ctx = ctx(M, _, _),
    findall(F, ( scope_fact(M, F) ; member(S, Stmts), statement_fact(M, S, F) ), Fs0),
    sort(Fs0, Fs),
    settled_atoms(Fs, Ctx, [], Atoms).

settled_atoms([], _, _, []).
settled_atoms([F|Fs], Ctx, Seen, Atoms) :-
    (   memberchk(F, Seen)
    ->  settled_atoms(Fs, Ctx, Seen, Atoms)
    ;   status(Ctx, F, V, S),
        Atoms = [[settled, F, V, S]|Atoms1],
        ( S = [ontology, C, _] -> Fs1 = [C|Fs] ; Fs1 = Fs ),
        settled_atoms(Fs1, Ctx, [F|Seen], Atoms1)
    ).

%   domain(+M, +Fact, -Values): yes/no, or a non-boolean fact's values.
domain(M, F, Vs) :-
    findall(V, M:fact_value(F, V, _), Vs0), sort(Vs0, Vs1),
    (   Vs1 == [] -> Vs = [yes, no] ; Vs = Vs1 ).

%%  Statements and the facts they depend on ------------------------------

%   applicable(+M, +Services, -Stmts): the statements that apply to one of
%   Services, sorted; each service's ancestors are found once, then their
%   statements by index (not each statement's service tested against Svc).
applicable(M, Svcs, Stmts) :-
    findall(G, ( member(Svc, Svcs), service_below(M, Svc, G) ), Gs0), sort(Gs0, Gs),
    findall(S, ( member(G, Gs), M:applies_to(S, G) ), Ss),
    sort(Ss, Stmts).

relevant_statements(M, Cands, Stmts) :- applicable(M, Cands, Stmts).

statement_fact(M, S, F) :- M:requires(S, F, _, _).
statement_fact(M, S, F) :- M:criterion(S, _, F, _).

scope_fact(M, F) :- M:scope(F, _, _).

%   unknown_vars(+Ctx, +Cands, +ServiceVar, +Stmts, -Vars): the unknowns a
%   case must fix, each Var-Domain-Rank: the service (rank 0), scope facts
%   (1), other patient facts (2), findings (3).
unknown_vars(Ctx, Cands, SVar, Stmts0, Vars) :-
    Ctx = ctx(M, _, _),
    % only statements whose requirements the request does not rule out can
    % decide a case, so only their facts become unknowns
    include(live_statement(Ctx), Stmts0, Stmts),
    ( Cands = [_, _|_] -> V1 = [var(SVar, Cands, 0)] ; V1 = [] ),
    % a scope fact matters when a statement may apply, and in a partly
    % known version (out of scope is known there; the rest is not)
    findall(F, scope_fact(M, F), Sc0), sort(Sc0, Scope),
    (   ( Stmts \== [] ; M:partial_version(_, _, _) )
    ->
        findall(var(F, D, 1), ( member(F, Scope), status(Ctx, F, unknown, _), domain(M, F, D) ), V2)
    ;   V2 = []
    ),
    findall(F, ( member(S, Stmts), statement_fact(M, S, F), \+ scope_fact(M, F) ), Fs0),
    sort(Fs0, Fs),
    findall(var(F, D, 2), ( member(F, Fs), \+ M:finding(F, _),
                            status(Ctx, F, unknown, _), domain(M, F, D) ), V3),
    findall(var(F, [yes, no], 3), ( member(F, Fs), M:finding(F, _),
                                    status(Ctx, F, unknown, _) ), V4),
    append([V1, V2, V3, V4], Vars).

%   live_statement(+Ctx, +S): no requirement of S is known to fail.
live_statement(Ctx, S) :-
    Ctx = ctx(M, _, _),
    forall(M:requires(S, F, Want, _),
           ( status(Ctx, F, V, _), memberchk(V, [Want, unknown]) )).

%%  Cases --------------------------------------------------------------------

%   case(+Ctx, +Cands, +ServiceTraces, +Vars, -Case): one completion of the
%   unknowns and what the policy decides in it.
case(Ctx, Cands, STraces, Vars, Case) :-
    assignment(Vars, Assign),
    consistent(Ctx, Assign),
    assigned_case(Ctx, Cands, STraces, Assign, Case).

assigned_cases([], _, _, _, []).
assigned_cases([A|As], Ctx, Cands, STraces, Cases) :-
    (   assigned_case(Ctx, Cands, STraces, A, Case) -> Cases = [Case|Cases1] ; Cases = Cases1 ),
    assigned_cases(As, Ctx, Cands, STraces, Cases1).

assigned_case(Ctx, Cands, STraces, Assign,
              _{assign: Assume, outcome: Outcome, statement: Stmt, criteria_met: Met,
                referral: Referral, trace: Trace}) :-
    ( Cands = [Only] -> Svc = Only ; Assign = [_-Svc-_|_] ),
    memberchk(Svc-STrace, STraces),
    decide(Ctx, Assign, Svc, Outcome, Stmt, Met, Referral, Trace0),
    append([[[service, Svc]], STrace, Trace0], Trace),
    maplist(assumption, Assign, Assume).

% (not a yall lambda: that copies itself at each call)
assumption(V-X-R, _{var: V, value: X, rank: R}).

assignment([], []).
assignment([var(V, Dom, R)|Vs], [V-X-R|As]) :- member(X, Dom), assignment(Vs, As).

%   An assumed specific finding needs its assumed general finding.
consistent(ctx(M, _, _), Assign) :-
    \+ ( member(F-yes-_, Assign), finding_above(M, F, A), memberchk(A-no-_, Assign) ).

%   decide(+Ctx, +Assign, +Svc, -Outcome, -Stmt, -Met, -Referral, -Trace):
%   what the policy decides in a case, and the trace of why: reason/1, and
%   the statements it explains, with what holds of them.
decide(Ctx, Assign, Svc, Outcome, Stmt, Met, Referral, Trace) :-
    Ctx = ctx(M, _, _),
    (   scope_fact(M, F), fact_value(Ctx, Assign, F, no)
    ->  Outcome = not_addressed, Stmt = null, Met = [], Referral = null,
        Trace = [[reason, out_of_scope]]
    ;   memberchk(Svc, [other, unlisted_code])
    ->  Stmt = null, Met = [], Referral = null,
        unaddressed(M, Outcome),
        Trace = [[reason, Svc]]
    ;   applicable(M, [Svc], Ss),
        partition(requirements_hold(Ctx, Assign), Ss, Applicable, NotApplicable),
        (   Applicable == []
        ->  Stmt = null, Met = [], Referral = null,
            unaddressed(M, Outcome),
            maplist(statement_trace(Ctx, Assign), NotApplicable, _, _, Traces),
            append([[[reason, no_statement]]|Traces], Trace)
        ;   maplist(statement_trace(Ctx, Assign), Applicable, Os0, Mets, Traces),
            sort(Os0, Os),
            (   Os = [Outcome]
            ->  Applicable = [Stmt|_],
                append(Mets, Met0), sort(Met0, Met),
                (   member(S, Applicable), M:referral(S, Referral) -> true ; Referral = null ),
                append([[[reason, statement]]|Traces], Trace)
            ;   throw(covkb_error(policy_conflict, policy_conflict, _{statements: Applicable}))
            )
        )
    ).

%   unaddressed(+M, -Outcome): what "no statement decides" means in this
%   version: not_addressed where the version is known whole, unknown where
%   only part of it is.
unaddressed(M, Outcome) :-
    (   M:partial_version(_, _, _) -> Outcome = unknown ; Outcome = not_addressed ).

%   fact_value(+Ctx, +Assign, +Fact, -Value): the fact's value in the case.
fact_value(Ctx, Assign, F, V) :-
    status(Ctx, F, V0, _),
    (   V0 == unknown, memberchk(F-V1-_, Assign)
    ->  V = V1
    ;   % an unknown that is no case variable cannot change the outcome (no
        % statement depends on it): it stays unknown
        V = V0
    ).

requirements_hold(Ctx, Assign, S) :-
    Ctx = ctx(M, _, _),
    forall(M:requires(S, F, Want, _), fact_value(Ctx, Assign, F, Want)).

%   statement_trace(+Ctx, +Assign, +S, -Outcome, -Met, -Trace): what S
%   decides in the case (null when its requirements do not hold), its
%   criteria and groups met at the top, and its trace: shown/3, and each
%   requirement, criterion and group that holds (why and why not).
statement_trace(Ctx, Assign, S, Outcome, Met, [[shown, S, Applies, Outcome]|Trace]) :-
    Ctx = ctx(M, _, _),
    once(M:statement(S, _, Decides)),
    findall([requirement_holds, S, F], ( M:requires(S, F, Want, _), fact_value(Ctx, Assign, F, Want) ), Reqs),
    (   requirements_hold(Ctx, Assign, S) -> Applies = true ; Applies = false ),
    (   M:criteria(S, Mode, _)
    ->  members_trace(Ctx, Assign, S, top, Pairs, Holds0),
        group_holds(Mode, Pairs, CHold),
        findall(C, member(C-true, Pairs), Met),
        (   CHold == true
        ->  Decided = Decides, Holds = [[criteria_hold, S]|Holds0]
        ;   Decided = criteria_not_met, Holds = Holds0
        )
    ;   Met = [], Decided = Decides, Holds = []
    ),
    (   Applies == true -> Outcome = Decided ; Outcome = null ),
    append(Reqs, Holds, Trace).

%   members_trace(+Ctx, +Assign, +S, +Group, -Pairs, -Trace): the criteria and
%   nested groups of Group (`top`: the statement's own), Member-Holds in
%   the order the policy lists them (by criterion_position/3, then id, as
%   evaluator.lp), and holds/2 for each that holds, nested ones too.
members_trace(Ctx, Assign, S, Group, Pairs, Trace) :-
    Ctx = ctx(M, _, _),
    findall(C-Member,
            (   M:criterion_group(S, C, _, _), parent(M, S, C, Group), Member = group(C)
            ;   M:criterion(S, C, _, _), parent(M, S, C, Group), Member = criterion(C)
            ),
            Keyed0),
    maplist(position_key(M, S), Keyed0, Keyed),
    msort(Keyed, Sorted),
    pairs_values(Sorted, Members),
    foldl(member_trace(Ctx, Assign, S), Members, Pairs, [], Trace).

position_key(M, S, C-Member, (Pos-C)-Member) :-
    ( M:criterion_position(S, C, Pos) -> true ; Pos = -1 ).

parent(M, S, C, P) :- ( M:member_of(S, C, P0) -> P = P0 ; P = top ).

member_trace(Ctx, Assign, S, criterion(C), C-H, T0, T) :-
    Ctx = ctx(M, _, _),
    once(M:criterion(S, C, F, _)),
    ( fact_value(Ctx, Assign, F, yes) -> H = true ; H = false ),
    holds_atom(H, S, C, T0, T).
member_trace(Ctx, Assign, S, group(G), G-H, T0, T) :-
    Ctx = ctx(M, _, _),
    once(M:criterion_group(S, G, Mode, _)),
    members_trace(Ctx, Assign, S, G, Pairs, Inner),
    group_holds(Mode, Pairs, H),
    append(Inner, T0, T1),
    holds_atom(H, S, G, T1, T).

holds_atom(true, S, C, T, [[holds, S, C]|T]).
holds_atom(false, _, _, T, T).

group_holds(any, Pairs, H) :- ( memberchk(_-true, Pairs) -> H = true ; H = false ).
group_holds(all, Pairs, H) :- ( memberchk(_-false, Pairs) -> H = false ; H = true ).
