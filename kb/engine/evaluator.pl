/*  covkb — the generic Prolog evaluator.

    Policy content is not here: it lives once in kb/ as facts that SWI-Prolog
    and clingo both read, and a policy declares there its own request
    language (request_field/3), scope (scope/3), derived facts
    (number_at_least/5, number_below/5, listed_code_implies/4, code_implies/4)
    and statements.  Each policy version is loaded into a module of its own
    (load.pl).  For a request, this module resolves the service, derives the
    facts the request settles, and decides every completion of the facts it
    leaves unknown: each case with the derivation that produced it (a proof
    tree of dicts).  Aggregating the cases into one three-valued outcome,
    collecting citations and wording errors is done once, in Python
    (pyapi/covkb/determination.py and errors.py), for both engines.

    Requests arrive as JSON text and are read as data (json_codec.pl);
    nothing a user sends is ever read as a Prolog term or called.
*/
:- module(covkb_evaluator,
          [ cases_json/3,           % +Module, +RequestJson, -CasesJson
            cases/3,                % +Module, +Request, -Cases
            relevant_findings_json/3 % +Module, +RequestJson, -FindingsJson
          ]).
% the loader's entry points are this module's too: Python calls them here
:- reexport(load, [load_kb/2, load_kb_status/3]).
:- use_module(load, [unique_statements/1]).
:- use_module(json_codec, [json_request/2, json_text/2]).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(pairs)).
:- use_module(library(ordsets)).

%!  cases_json(+Module, +RequestJson, -CasesJson:string) is det.
%
%   The boundary used from Python: {"cases": [...]} or, for a request
%   that cannot be answered, {"errors": [{"code", "key", "args"}, ...]}:
%   every error that applies.  Which one is reported is chosen in Python by
%   the order kb/derivation.pl declares (error_precedence/2), as for clingo.
cases_json(M, RequestJson, Out) :-
    catch(( json_request(RequestJson, Req),
            cases(M, Req, Cases0),
            % "explain": false: each proof only as the nodes that cite the
            % policy (what Python reads citations and notices from)
            (   get_dict(explain, Req, false) -> foldl(digest_case, Cases0, Cases, [], _) ; Cases = Cases0 ),
            R = _{cases: Cases}
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

%!  cases(+Module, +Request:dict, -Cases:list) is det.
%
%   Request is the validated request (pyapi/covkb/request.py, engine form):
%   service, cpt (null or a string), qualifiers, values and codes (objects
%   keyed by field), findings and unknown_findings (lists).  Each case is
%   a dict: assign (the completion: var, value, rank), outcome, statement,
%   criteria_met, referral and proof (the derivation).
cases(M, Req0, Cases) :-
    normalise_request(Req0, Req),
    Checks = [ resolve_services(M, Req, Cands, ServiceProofs, ServiceVar),
               settle_facts(M, Req, Settled) ],
    (   catch(maplist(call, Checks), covkb_error(_, _, _), fail)
    ->  true
    ;   request_errors(Checks)  % throws every error the checks find
    ),
    Ctx = ctx(M, Req, Settled),
    relevant_statements(M, Cands, Stmts),
    unknown_vars(Ctx, Cands, ServiceVar, Stmts, Vars),
    (   catch(decided_cases(Ctx, Cands, ServiceProofs, Vars, Cases), covkb_error(policy_conflict, _, _), fail)
    ->  true
    ;   % a case whose statements conflict fails the request: every case's
        % conflict is reported to Python, which chooses one
        findall(covkb_error(policy_conflict, K, A),
                ( assignment(Vars, As), consistent(Ctx, As),
                  catch(( assigned_case(Ctx, Cands, ServiceProofs, As, _), fail ),
                        covkb_error(policy_conflict, K, A), true) ),
                Es0),
        Es0 \== [],
        sort(Es0, Es),
        throw(covkb_errors(Es))
    ).

%   decided_cases(+Ctx, +Cands, +ServiceProofs, +Vars, -Cases): every case;
%   throws at a case whose statements conflict.
decided_cases(Ctx, Cands, ServiceProofs, Vars, Cases) :-
    Ctx = ctx(M, _, _),
    (   unique_statements(M)
    ->  % a case per assignment at most: built outside findall/3, which
        % would copy every case's proof
        findall(A, ( assignment(Vars, A), consistent(Ctx, A) ), As),
        assigned_cases(As, Ctx, Cands, ServiceProofs, Cases)
    ;   findall(Case, case(Ctx, Cands, ServiceProofs, Vars, Case), Cases)
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

%   digest_case(+Case, -Digest, +Seen0, -Seen): the case with its proof
%   flattened to the nodes that carry a section (quotes, headings, notes) or
%   a notice, less those an earlier case listed (Python takes the union).
digest_case(Case, Digest, Seen0, Seen) :-
    foldl(cite_node, [Case.proof], [], Nodes0),
    sort(Nodes0, Nodes1),
    ord_subtract(Nodes1, Seen0, Nodes),
    ord_union(Seen0, Nodes1, Seen),
    Digest = Case.put(proof, _{kind: digest, children: Nodes}).

cite_node(Node, Acc0, Acc) :-
    (   ( get_dict(section, Node, S), S \== null ; get_dict(kind, Node, notice) )
    ->  dict_pairs(Node, _, Pairs0),
        cite_pairs(Pairs0, Pairs),
        dict_pairs(Leaf, cite, Pairs),  % a bound tag: equal leaves compare equal
        Acc1 = [Leaf|Acc0]
    ;   Acc1 = Acc0
    ),
    (   get_dict(children, Node, Cs) -> foldl(cite_node, Cs, Acc1, Acc) ; Acc = Acc1 ).

cite_pairs([], []).
cite_pairs([K-V|T0], T) :-
    (   cite_key(K) -> T = [K-V|T1] ; T = T1 ),
    cite_pairs(T0, T1).

cite_key(kind).
cite_key(id).
cite_key(code).
cite_key(section).
cite_key(quote).
cite_key(quotes).
cite_key(heading).
cite_key(note).

%%  Request --------------------------------------------------------------

normalise_request(R0, req{service: S, cpt: C, quals: Qs, values: Vs, codes: Cs,
                          findings: Fs, unknown_findings: Us}) :-
    opt_atom(R0, service, S),
    opt_string(R0, cpt, C),
    dict_field(R0, qualifiers, Q0), dict_pairs(Q0, _, QP), maplist(atom_value, QP, Qs),
    dict_field(R0, values, V0), dict_pairs(V0, _, VP), maplist(fact_field_value, VP, Vs),
    dict_field(R0, codes, C0), dict_pairs(C0, _, CP),
    findall(K-D, ( member(K-L, CP), is_list(L), member(D0, L), to_string(D0, D) ), Cs),
    list_field(R0, findings, Fs0), maplist(to_atom, Fs0, Fs),
    list_field(R0, unknown_findings, Us0), maplist(to_atom, Us0, Us).

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

%   resolve_services(+M, +Req, -Candidates, -Proofs, -Var)
%   Candidates: the specific services (or `other`, `unlisted_code`) the
%   request may be about; Proofs: Service-ProofNode; Var: the request field
%   that would settle a choice among them (service, or a qualifier).
resolve_services(M, Req, Cands, Proofs, Var) :-
    Code = Req.cpt, Svc = Req.service,
    (   Code \== none, \+ M:code(Code, _, _)
    ->  unlisted_code_node(M, Code, CodeNode),
        (   Svc == none
        ->  Cands = [unlisted_code], Proofs = [unlisted_code-CodeNode]
        ;   leaf_services(M, Svc, Cands),
            maplist(unlisted_code_service_proof(Svc, Code, CodeNode), Cands, Proofs)
        ),
        Var = service
    ;   Code \== none
    ->  code_candidates(M, Req, Code, Svc, Cands, Proofs, Var)
    ;   Svc \== none
    ->  leaf_services(M, Svc, Cands),
        maplist(requested_service_proof(Svc), Cands, Proofs),
        Var = service
    ;   fail_request(no_service, _{})
    ).

code_candidates(M, Req, Code, Svc, Cands, Proofs, Var) :-
    (   code_takes_qualifier(M, Code, Q) -> true ; Q = none ),
    (   Q \== none, memberchk(Q-QVal0, Req.quals) -> QVal = QVal0 ; QVal = '$no_value' ),
    findall((S-S0)-Node,
            ( code_service(M, Code, Q, QVal, S0, Node0),
              refine_service(M, Svc, S0, S1),
              leaf_services(M, S1, Leaves),
              member(S, Leaves),
              service_node(S, Code, Node0, Node)
            ), Keyed0),
    % a candidate several reported services reach is shown by the least (as evaluator.lp)
    keysort(Keyed0, Keyed),
    least_reports(Keyed, Pairs0),
    (   Svc == none,
        (   Q \== none, ( QVal == '$no_value' ; \+ M:code_qualifier(Code, _, Q, QVal) )
        ;   M:code_open_ended(Code, _)
        )
    ->  other_node(M, Code, Q, QVal, ONode), append(Pairs0, [other-ONode], Pairs)
    ;   Pairs = Pairs0
    ),
    (   Pairs == []
    ->  (   QVal \== '$no_value'
        ->  fail_request(code_service_qualifier, _{code: Code, qualifier: Q, value: QVal, service: Svc})
        ;   fail_request(code_service, _{code: Code, service: Svc})
        )
    ;   true
    ),
    pairs_keys(Pairs, Cands), Proofs = Pairs,
    (   Q \== none, QVal == '$no_value' -> Var = Q ; Var = service ).

least_reports([], []).
least_reports([(S-_)-Node|T0], [S-Node|T]) :-
    exclude(same_candidate(S), T0, T1),
    least_reports(T1, T).

same_candidate(S, (S-_)-_).

code_takes_qualifier(M, Code, Q) :- M:code_qualifier(Code, _, Q, _), !.

%   A service the code reports, given the qualifier's value (or '$no_value':
%   not given; not `none`, which a request may send as a value).
code_service(M, Code, Q, QVal, S, Node) :-
    M:code_reports(Code, S),
    (   Q == none
    ->  true
    ;   M:code_qualifier(Code, S, Q, V),
        ( QVal == '$no_value' -> true ; QVal == V )
    ),
    code_node(M, Code, S, Node).

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

requested_service_proof(Svc, S, S-_{kind: service, id: S, source: Src, requested: Svc, children: []}) :-
    ( S == Svc -> Src = request ; Src = assumed ).

unlisted_code_service_proof(Svc, Code, CodeNode, S,
                            S-_{kind: service, id: S, source: Src, requested: Svc, code: Code,
                                children: [CodeNode]}) :-
    ( S == Svc -> Src = request ; Src = assumed ).

service_node(S, Code, CodeNode, _{kind: service, id: S, source: code, code: Code, children: [CodeNode]}).

code_node(M, Code, S, Node) :-
    M:code(Code, Section, Desc),
    M:code_heading(Code, Heading),
    (   M:code_note(Code, Note) -> Extra = [note-Note] ; Extra = [] ),
    interp(M, code_reports(Code, S), I),
    dict_pairs(Node, _, [kind-code, id-Code, reports-S, section-Section, quote-Desc,
                         heading-Heading, interpretation-I, children-[]|Extra]).

other_node(M, Code, Q, QVal, _{kind: service, id: other, source: code, code: Code, qualifier: Q1,
                               value: V, section: Section, quote: Quote, children: []}) :-
    M:code(Code, Section, _),
    (   Q == none, M:code_open_ended(Code, Quote) -> Q1 = service
    ;   M:code_heading(Code, Quote), Q1 = Q
    ),
    ( QVal == '$no_value' -> V = null ; V = QVal ).

%   A code the coding table does not list, with the notices the policy
%   gives for it: that the table may not be complete, and how claims with a
%   code it does not cover are treated.
unlisted_code_node(M, Code, _{kind: code, id: Code, listed: false, children: Notices}) :-
    findall(_{kind: notice, id: Id, code: Code, section: S, quote: Q, children: []},
            (   M:codes_not_exhaustive(S, Q), Id = codes_not_exhaustive
            ;   M:uncovered_code_denial(S, Q), Id = uncovered_code_denial
            ), Notices).

%%  Facts the request settles -----------------------------------------------

%   settle_facts(+M, +Req, -Settled): Fact-(Value-Proof) for every patient
%   fact; a fact whose sources disagree makes the request invalid (each
%   such fact is an error, with every source).
settle_facts(M, Req, Settled) :-
    findall(F, M:patient_fact(F, _), Fs0), sort(Fs0, Fs),
    (   catch(maplist(settle_fact(M, Req), Fs, Settled), covkb_error(_, _, _), fail)
    ->  true
    ;   % a contradiction: settled again, every fact's error collected
        maplist(settle_goal(M, Req), Fs, Settled, Goals),
        request_errors(Goals)
    ).

settle_goal(M, Req, F, Settled, settle_fact(M, Req, F, Settled)).

settle_fact(M, Req, F, F-(V-P)) :-
    findall(src(Rank, Key, Val, Node), fact_source(M, Req, F, Rank, Key, Val, Node), Srcs0),
    sort(Srcs0, Srcs),
    (   Srcs == []
    ->  V = unknown, P = _{kind: fact, id: F, value: unknown, source: request, children: []}
    ;   Srcs = [src(_, _, V, P)|_],
        (   member(src(_, _, V2, _), Srcs), V2 \== V
        ->  findall(N, member(src(_, _, _, N), Srcs), Nodes),
            fail_request(contradiction, _{fact: F, sources: Nodes})
        ;   true
        )
    ).

%   fact_source(+M, +Req, +Fact, -Rank, -Key, -Value, -Proof): one thing in
%   the request that settles Fact.  Rank and Key order the sources (the
%   first is shown); the ASP evaluator orders them the same way.
fact_source(M, Req, F, 0, Field, V, _{kind: fact, id: F, value: V, source: request, field: Field,
                                      children: []}) :-
    M:field_fact(Field, F),
    memberchk(Field-V, Req.values).
fact_source(M, Req, F, 1, Field-at_least, V, Node) :-
    M:number_at_least(F, Field, Min, Section, Quote),
    memberchk(Field-N, Req.values), number(N),
    ( N >= Min -> V = yes ; V = no ),
    interp(M, number_at_least(F, Field), I),
    Node = _{kind: fact, id: F, value: V, source: number, field: Field, number: N, rule: at_least,
             threshold: Min, section: Section, quote: Quote, interpretation: I, children: []}.
fact_source(M, Req, F, 1, Field-below, V, Node) :-
    M:number_below(F, Field, T, Section, Quote),
    memberchk(Field-N, Req.values), number(N),
    ( N < T -> V = yes ; V = no ),
    interp(M, number_below(F, Field), I),
    Node = _{kind: fact, id: F, value: V, source: number, field: Field, number: N, rule: below,
             threshold: T, section: Section, quote: Quote, interpretation: I, children: []}.
fact_source(M, Req, F, 2, Code, V, Node) :-
    Code = Req.cpt, Code \== none,
    M:code_implies(Code, F, V, Quote),
    M:code(Code, Section, _),
    interp(M, code_implies(Code, F, V), I),
    Node = _{kind: fact, id: F, value: V, source: code, code: Code, section: Section, quote: Quote,
             interpretation: I, children: []}.
fact_source(M, Req, F, 3, Field-Code, V, Node) :-
    member(Field-Code, Req.codes),
    M:listed_code_implies(Field, Code, F, V),
    interp(M, listed_code_implies(Field, Code), I),
    Node = _{kind: fact, id: F, value: V, source: code_list, field: Field, code: Code,
             interpretation: I, children: []}.

%   finding_status(+M, +Req, +Finding, -Value, -Proof): three-valued status of
%   a finding under the request's closed world and the findings ontology.
finding_status(_, Req, F, yes, P) :-
    memberchk(F, Req.findings), !,
    P = _{kind: fact, id: F, value: yes, source: request, children: []}.
finding_status(M, Req, F, yes, P) :-
    % the witness: an example before an is-a link, then the least by id
    findall(K-C-Section-Quote, finding_child(M, F, C, K, Section, Quote), Children0),
    msort(Children0, Children),
    member(_-C-Section-Quote, Children),
    finding_status(M, Req, C, yes, CP), !,
    interp(M, F, I),
    P = _{kind: fact, id: F, value: yes, source: ontology, section: Section, quote: Quote,
          interpretation: I, children: [CP]}.
finding_status(M, Req, F, unknown, P) :-
    (   memberchk(F, Req.unknown_findings) -> Why = request
    ;   finding_above(M, F, A), ( memberchk(A, Req.findings) ; memberchk(A, Req.unknown_findings) )
    ->  Why = general_finding_listed
    ;   finding_below(M, F, D), D \== F, memberchk(D, Req.unknown_findings)
    ->  Why = specific_form_unknown
    ), !,
    P = _{kind: fact, id: F, value: unknown, source: Why, children: []}.
finding_status(M, _, F, no, P) :-
    % the finding itself, then its more specific forms by id (as evaluator.lp)
    findall(D, ( finding_below(M, F, D), D \== F ), Ds0), sort(Ds0, Ds), Suffice = [F|Ds],
    P = _{kind: fact, id: F, value: no, source: closed_world, would_suffice: Suffice, children: []}.

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

%   status(+Ctx, +Fact, -Value, -Proof): a patient fact as settled, or a finding.
status(ctx(M, Req, Settled), F, V, P) :-
    (   memberchk(F-(V0-P0), Settled)
    ->  V = V0, P = P0
    ;   M:finding(F, _)
    ->  % steadfast: with V bound, finding_status/5 would skip the clauses
        % that find the finding present through a more specific form
        once(finding_status(M, Req, F, V0, P0)), V = V0, P = P0
    ;   V = unknown, P = _{kind: fact, id: F, value: unknown, source: request, children: []}
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

%   case(+Ctx, +Cands, +ServiceProofs, +Vars, -Case): one completion of the
%   unknowns and what the policy decides in it.
case(Ctx, Cands, SProofs, Vars, Case) :-
    assignment(Vars, Assign),
    consistent(Ctx, Assign),
    assigned_case(Ctx, Cands, SProofs, Assign, Case).

assigned_cases([], _, _, _, []).
assigned_cases([A|As], Ctx, Cands, SProofs, Cases) :-
    (   assigned_case(Ctx, Cands, SProofs, A, Case) -> Cases = [Case|Cases1] ; Cases = Cases1 ),
    assigned_cases(As, Ctx, Cands, SProofs, Cases1).

assigned_case(Ctx, Cands, SProofs, Assign,
              _{assign: Assume, outcome: Outcome, statement: Stmt, criteria_met: Met,
                referral: Referral, proof: Proof}) :-
    ( Cands = [Only] -> Svc = Only ; Assign = [_-Svc-_|_] ),
    memberchk(Svc-SProof, SProofs),
    decide(Ctx, Assign, Svc, SProof, Outcome, Stmt, Met, Referral, Proof),
    maplist(assumption, Assign, Assume).

% (not a yall lambda: that copies itself at each call)
assumption(V-X-R, _{var: V, value: X, rank: R}).

assignment([], []).
assignment([var(V, Dom, R)|Vs], [V-X-R|As]) :- member(X, Dom), assignment(Vs, As).

%   An assumed specific finding needs its assumed general finding.
consistent(ctx(M, _, _), Assign) :-
    \+ ( member(F-yes-_, Assign), finding_above(M, F, A), memberchk(A-no-_, Assign) ).

decide(Ctx, Assign, Svc, SProof, Outcome, Stmt, Met, Referral, Proof) :-
    Ctx = ctx(M, _, _),
    findall(F, scope_fact(M, F), Sc0), sort(Sc0, Scope),
    maplist(scope_node(Ctx, Assign), Scope, ScopeNodes),
    (   member(F, Scope), fact_value(Ctx, Assign, F, no, _)
    ->  Outcome = not_addressed, Stmt = null, Met = [], Referral = null,
        append(ScopeNodes, [SProof], Children),
        Proof = _{kind: outcome, outcome: not_addressed, reason: out_of_scope, children: Children}
    ;   memberchk(Svc, [other, unlisted_code])
    ->  Stmt = null, Met = [], Referral = null,
        unaddressed(M, Outcome, Why),
        Proof = _{kind: outcome, outcome: Outcome, reason: Svc, children: [SProof|Why]}
    ;   applicable(M, [Svc], Ss),
        partition(requirements_hold(Ctx, Assign), Ss, Applicable, NotApplicable),
        (   Applicable == []
        ->  Stmt = null, Met = [], Referral = null,
            unaddressed(M, Outcome, Why),
            maplist(statement_node(Ctx, Assign, Svc), NotApplicable, WhyNot),
            append([ScopeNodes, [SProof], WhyNot, Why], Children),
            Proof = _{kind: outcome, outcome: Outcome, reason: no_statement, service: Svc,
                      children: Children}
        ;   maplist(statement_node(Ctx, Assign, Svc), Applicable, SNodes),
            findall(O, ( member(N, SNodes), O = N.outcome ), Os0), sort(Os0, Os),
            (   Os = [Outcome]
            ->  Applicable = [Stmt|_],
                findall(C, ( member(N, SNodes), member(C, N.criteria_met) ), Met0), sort(Met0, Met),
                (   member(S, Applicable), M:referral(S, Referral) -> true ; Referral = null ),
                append([ScopeNodes, [SProof], SNodes], Children),
                Proof = _{kind: outcome, outcome: Outcome, reason: statement, children: Children}
            ;   throw(covkb_error(policy_conflict, policy_conflict, _{statements: Applicable}))
            )
        )
    ).

%   unaddressed(+M, -Outcome, -Nodes): what "no statement decides" means in
%   this version: not_addressed where the version is known whole, unknown
%   (with the reason) where only part of it is.
unaddressed(M, unknown, [_{kind: partial_version, section: Section, quote: Quote, reason: Reason,
                          children: []}]) :-
    M:partial_version(Section, Quote, Reason), !.
unaddressed(_, not_addressed, []).

scope_node(Ctx, Assign, F, _{kind: scope, id: F, value: V, section: Section, quote: Quote,
                             interpretation: I, children: [P]}) :-
    Ctx = ctx(M, _, _),
    M:scope(F, Section, Quote), !,
    fact_value(Ctx, Assign, F, V, P),
    interp(M, scope(F), I).

%   fact_value(+Ctx, +Assign, +Fact, -Value, -Proof)
fact_value(Ctx, Assign, F, V, P) :-
    status(Ctx, F, V0, P0),
    (   V0 == unknown, memberchk(F-V1-_, Assign)
    ->  V = V1, P = _{kind: fact, id: F, value: V1, source: assumed, children: [P0]}
    ;   % an unknown that is no case variable cannot change the outcome (no
        % statement depends on it): it stays unknown
        V = V0, P = P0
    ).

requirements_hold(Ctx, Assign, S) :-
    Ctx = ctx(M, _, _),
    forall(M:requires(S, F, Want, _), fact_value(Ctx, Assign, F, Want, _)).

%   statement_node(+Ctx, +Assign, +Service, +S, -Node): the statement, each
%   requirement and each criterion with the facts that decided it (why and
%   why not).
statement_node(Ctx, Assign, Svc, S, Node) :-
    Ctx = ctx(M, _, _),
    M:statement(S, Section, Decides),
    findall(N-Q, M:statement_quote(S, N, Q), NQs), keysort(NQs, NQs1), pairs_values(NQs1, Quotes),
    % the nodes built outside findall/3, which would copy their proofs
    findall(req(F, Want, Q), M:requires(S, F, Want, Q), Rs),
    maplist(requirement_node(Ctx, Assign, S), Rs, Reqs),
    (   forall(member(R, Reqs), node_holds(R)) -> Holds = true ; Holds = false ),
    (   M:criteria(S, Mode, CQuote)
    ->  member_nodes(Ctx, Assign, S, top, Section, Crits),
        include(node_holds, Crits, MetNodes),
        maplist(node_id, MetNodes, Met),
        group_holds(Mode, Crits, CHold),
        CNode = _{kind: criteria, mode: Mode, holds: CHold, quote: CQuote, children: Crits},
        append(Reqs, [CNode], Children),
        ( CHold == true -> Outcome = Decides ; Outcome = criteria_not_met )
    ;   Met = [], Children = Reqs, Outcome = Decides
    ),
    (   Holds == false -> NodeOutcome = null ; NodeOutcome = Outcome ),
    statement_interpretation(M, Svc, S, I),
    ( M:referral(S, Ref) -> true ; Ref = null ),
    Node = _{kind: statement, id: S, section: Section, quotes: Quotes, decides: Decides,
             applies: Holds, outcome: NodeOutcome, criteria_met: Met, referral: Ref,
             interpretation: I, children: Children}.

%   The interpretation, if any, behind the statement covering this case's
%   service (of the least such service by id, as evaluator.lp).
statement_interpretation(M, Svc, S, I) :-
    (   setof(G-I0, ( M:applies_to(S, G), service_below(M, Svc, G),
                      interp(M, applies_to(S, G), I0), I0 \== null ), [_-I1|_])
    ->  I = I1
    ;   I = null
    ).

requirement_node(Ctx, Assign, S, req(F, Want, Q),
                 _{kind: requirement, id: F, expected: Want, holds: H,
                   quote: Q, interpretation: I, children: [P]}) :-
    Ctx = ctx(M, _, _),
    interp(M, requires(S, F), I),
    fact_value(Ctx, Assign, F, V, P),
    ( V == Want -> H = true ; H = false ).

%   member_nodes(+Ctx, +Assign, +S, +Group, +Section, -Nodes): the criteria
%   and nested groups of Group (`top`: the statement's own), in the order
%   the policy lists them: by criterion_position/3, then id, as evaluator.lp.
member_nodes(Ctx, Assign, S, Group, Section, Nodes) :-
    Ctx = ctx(M, _, _),
    findall(C-Member,
            (   M:criterion_group(S, C, _, _), parent(M, S, C, Group), Member = group(C)
            ;   M:criterion(S, C, _, _), parent(M, S, C, Group), Member = criterion(C)
            ),
            Keyed0),
    maplist(position_key(M, S), Keyed0, Keyed),
    msort(Keyed, Sorted),
    pairs_values(Sorted, Members),
    maplist(member_node(Ctx, Assign, S, Section), Members, Nodes).

position_key(M, S, C-Member, (Pos-C)-Member) :-
    ( M:criterion_position(S, C, Pos) -> true ; Pos = -1 ).

member_node(Ctx, Assign, S, Section, group(C), N) :- group_node(Ctx, Assign, S, C, Section, N).
member_node(Ctx, Assign, S, Section, criterion(C), N) :- criterion_node(Ctx, Assign, S, C, Section, N).

parent(M, S, C, P) :- ( M:member_of(S, C, P0) -> P = P0 ; P = top ).

criterion_node(Ctx, Assign, S, C, Section, _{kind: criterion, id: C, fact: F, holds: H, quote: Q,
                                            section: Section, interpretation: I, children: [P]}) :-
    Ctx = ctx(M, _, _),
    M:criterion(S, C, F, Q), !,
    fact_value(Ctx, Assign, F, V, P),
    ( V == yes -> H = true ; H = false ),
    interp(M, F, I).

group_node(Ctx, Assign, S, G, Section, _{kind: criterion_group, id: G, mode: Mode, holds: H, quote: Q,
                                         section: Section, children: Members}) :-
    Ctx = ctx(M, _, _),
    M:criterion_group(S, G, Mode, Q), !,
    member_nodes(Ctx, Assign, S, G, Section, Members),
    group_holds(Mode, Members, H).

group_holds(any, Crits, H) :- ( member(C, Crits), node_holds(C) -> H = true ; H = false ).
group_holds(all, Crits, H) :- ( forall(member(C, Crits), node_holds(C)) -> H = true ; H = false ).

node_holds(Node) :- get_dict(holds, Node, true).
node_id(Node, Id) :- get_dict(id, Node, Id).

interp(M, Subject, I) :- ( M:interpretation(Subject, I0) -> I = I0 ; I = null ).
