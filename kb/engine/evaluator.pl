/*  covkb — the generic Prolog evaluator.

    Policy content is not here: it lives once in kb/ as facts that SWI-Prolog
    and clingo both read.  This module loads those facts into one module per
    policy version and answers requests over them, three-valued: an outcome
    is reported only when it is the same in every completion of the facts the
    request leaves unknown.  Every answer carries the derivation that
    produced it (a proof tree of dicts), from which explanations and
    citations are rendered.

    Requests arrive as JSON text and are read as data (atom_json_dict/3);
    nothing a user sends is ever read as a Prolog term or called.
*/
:- module(covkb_evaluator,
          [ load_kb/2,            % +Module, +Files
            determine_json/3,     % +Module, +RequestJson, -DeterminationJson
            determine/3,          % +Module, +Request, -Determination
            relevant_findings_json/3 % +Module, +RequestJson, -FindingsJson
          ]).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(pairs)).
:- use_module(library(http/json)).

%!  kb_predicate(?Name, ?Arity) is nondet.
%
%   The fact predicates of the KB schema, read from kb/schema.pl when this
%   module loads.  Only these may appear in a fact file; each is declared
%   dynamic in a version module so that a version without, say, code notes
%   simply has none.
:- dynamic kb_predicate/2.

load_schema(File) :-
    retractall(kb_predicate(_, _)),
    setup_call_cleanup(open(File, read, In, [encoding(utf8)]), read_schema(In), close(In)).

read_schema(In) :-
    read_term(In, T, []),
    (   T == end_of_file -> true
    ;   ( T = schema(N, A) -> assertz(kb_predicate(N, A)) ; true ),
        read_schema(In)
    ).

:- prolog_load_context(directory, Dir),
   directory_file_path(Dir, '../schema.pl', Schema),
   load_schema(Schema).

%!  load_kb(+Module, +Files:list) is det.
%
%   Read the fact files into Module.  Files are read as terms and each
%   term must be a ground fact of a schema predicate: a fact file can
%   declare nothing and run nothing.  Raises covkb_error(kb_syntax, Msg).
load_kb(M, Files) :-
    forall(kb_predicate(N, A), ( functor(H, N, A), retractall(M:H), dynamic(M:N/A) )),
    maplist(load_fact_file(M), Files).

%!  load_kb_status(+Module, +Files:list, -Status:string) is det.
%
%   As load_kb/2, for callers across the FFI: Status is "ok" or the error
%   message, so no exception has to cross pyswip.  (The facts arrive in
%   files, read as UTF-8: pyswip would pass text as Latin-1.)
load_kb_status(M, Files, Status) :-
    catch(( load_kb(M, Files), Status = "ok" ),
          E,
          (   E = covkb_error(_, Status) -> true
          ;   term_string(E, Status)
          )).

load_fact_file(M, File) :-
    setup_call_cleanup(
        open(File, read, In, [encoding(utf8)]),
        read_facts(M, File, In),
        close(In)).

read_facts(M, File, In) :-
    read_term(In, T, [syntax_errors(error), term_position(Pos)]),
    (   T == end_of_file
    ->  true
    ;   check_fact(File, Pos, T),
        assertz(M:T),
        read_facts(M, File, In)
    ).

check_fact(File, Pos, T) :-
    (   ground(T), callable(T), functor(T, N, A), kb_predicate(N, A)
    ->  true
    ;   stream_position_data(line_count, Pos, Line),
        format(string(Msg), "~w:~w: not a fact of the KB schema: ~q", [File, Line, T]),
        throw(covkb_error(kb_syntax, Msg))
    ).

%!  determine_json(+Module, +RequestJson, -DeterminationJson:string) is det.
%
%   The boundary used from Python.  Errors become {"error": {...}}.
determine_json(M, RequestJson, Out) :-
    catch(( atom_json_dict(RequestJson, Req, [value_string_as(string)]),
            determine(M, Req, Det0),
            % "explain": false leaves the derivation out of the answer
            (   get_dict(explain, Req, false) -> del_dict(explanation, Det0, _, Det) ; Det = Det0 )
          ),
          covkb_error(Code, Msg),
          Det = _{error: _{code: Code, message: Msg}}),
    with_output_to(string(Out), json_write_dict(current_output, Det, [width(0)])).

%!  determine(+Module, +Request:dict, -Determination:dict) is det.
%
%   Request is the validated request (pyapi/covkb/request.py): ids are
%   strings, absent fields are null.
determine(M, Req0, Det) :-
    normalise_request(Req0, Req),
    Ctx = ctx(M, Req),
    resolve_services(Ctx, Cands, ServiceProofs, ServiceVar),
    settled_pregnancy(Ctx, Pregnant),
    rpl_status(Ctx, Rpl),
    Ctx2 = ctx(M, Req, Pregnant, Rpl),
    relevant_statements(M, Cands, Stmts),
    unknown_vars(Ctx2, Cands, ServiceVar, Stmts, Vars),
    findall(Case, case(Ctx2, Cands, ServiceProofs, Vars, Case), Cases0),
    Cases0 \== [],
    !,
    aggregate_cases(Vars, Cases0, Det).

%!  relevant_findings_json(+Module, +RequestJson, -Out:string) is det.
%
%   The findings whose presence, absence or unknownness can change the
%   answer to requests for this service/code/qualifiers: the facts of every
%   statement that may apply, with their more general and more specific
%   forms.  Batch runs use it to recognise requests that must get the same
%   answer.  Out is {"findings": [...]} or {"error": {...}}.
relevant_findings_json(M, RequestJson, Out) :-
    catch(( atom_json_dict(RequestJson, Req0, [value_string_as(string)]),
            normalise_request(Req0, Req),
            resolve_services(ctx(M, Req), Cands, _, _),
            relevant_statements(M, Cands, Stmts),
            findall(G, ( member(S, Stmts), statement_fact(M, S, F), M:finding(F, _),
                         ( finding_below(M, F, G) ; finding_above(M, F, G) ) ), Gs),
            sort(Gs, Findings),
            R = _{findings: Findings}
          ),
          covkb_error(Code, Msg),
          R = _{error: _{code: Code, message: Msg}}),
    with_output_to(string(Out), json_write_dict(current_output, R, [width(0)])).

%%  Request --------------------------------------------------------------

normalise_request(R0, req{service: S, cpt: C, analyte: An, substance: Su,
                          pregnant: P, losses: L, diagnoses: Ds,
                          findings: Fs, unknown_findings: Us}) :-
    opt_atom(R0, service, S),
    opt_string(R0, cpt, C),
    opt_atom(R0, analyte, An),
    opt_atom(R0, substance, Su),
    (   get_dict(pregnant, R0, true) -> P = yes
    ;   get_dict(pregnant, R0, false) -> P = no
    ;   P = unknown
    ),
    (   get_dict(prior_pregnancy_losses, R0, L), integer(L) -> true ; L = unknown ),
    list_field(R0, diagnoses, Ds0), maplist(to_string, Ds0, Ds),
    list_field(R0, findings, Fs0), maplist(to_atom, Fs0, Fs),
    list_field(R0, unknown_findings, Us0), maplist(to_atom, Us0, Us).

opt_atom(D, K, V) :-
    (   get_dict(K, D, X), X \== null -> to_atom(X, V) ; V = none ).
opt_string(D, K, V) :-
    (   get_dict(K, D, X), X \== null -> to_string(X, V) ; V = none ).
list_field(D, K, L) :-
    (   get_dict(K, D, L0), is_list(L0) -> L = L0 ; L = [] ).
to_atom(X, A) :- atom_string(A, X).
to_string(X, S) :- atom_string(X, S0), S = S0.

invalid(Fmt, Args) :-
    format(string(Msg), Fmt, Args),
    throw(covkb_error(invalid_request, Msg)).

%%  Which service the request is about -----------------------------------

%   resolve_services(+Ctx, -Candidates, -Proofs, -Var)
%   Candidates: the specific services (or `other`) the request may be
%   about; Proofs: Service-ProofNode; Var: the request field that would
%   settle a choice among them (service, analyte, substance).
resolve_services(ctx(M, Req), Cands, Proofs, Var) :-
    Code = Req.cpt, Svc = Req.service,
    (   Code \== none, \+ M:code(Code, _, _)
    ->  Cands = [unlisted_code], Var = service,
        unlisted_code_node(M, Code, Node), Proofs = [unlisted_code-Node]
    ;   Code \== none
    ->  code_candidates(M, Req, Code, Svc, Cands, Proofs, Var)
    ;   Svc \== none
    ->  leaf_services(M, Svc, Cands),
        maplist(requested_service_proof(Svc), Cands, Proofs),
        Var = service
    ;   invalid("a request needs a service or a cpt code", [])
    ).

code_candidates(M, Req, Code, Svc, Cands, Proofs, Var) :-
    (   code_takes_qualifier(M, Code, Q) -> true ; Q = none ),
    (   Q \== none -> QVal = Req.Q ; QVal = none ),
    findall(S-Node,
            ( code_service(M, Code, Q, QVal, S0, Node0),
              refine_service(M, Svc, S0, S1),
              leaf_services(M, S1, Leaves),
              member(S, Leaves),
              service_node(M, S, Code, Node0, Node)
            ), Pairs0),
    (   Svc == none,
        (   Q \== none, ( QVal == none ; \+ M:code_qualifier(Code, _, Q, QVal) )
        ;   M:code_open_ended(Code, _)
        )
    ->  other_node(M, Code, Q, QVal, ONode), append(Pairs0, [other-ONode], Pairs)
    ;   Pairs = Pairs0
    ),
    (   Pairs == []
    ->  (   QVal \== none
        ->  invalid("cpt ~w with ~w ~w does not report service ~w", [Code, Q, QVal, Svc])
        ;   invalid("cpt ~w does not report service ~w", [Code, Svc])
        )
    ;   true
    ),
    pairs_keys(Pairs, Cands), Proofs = Pairs,
    (   Q \== none, QVal == none -> Var = Q ; Var = service ).

code_takes_qualifier(M, Code, Q) :- M:code_qualifier(Code, _, Q, _), !.

%   A service the code reports, given the qualifier's value (or none).
code_service(M, Code, Q, QVal, S, Node) :-
    M:code_reports(Code, S),
    (   Q == none
    ->  true
    ;   M:code_qualifier(Code, S, Q, V),
        ( QVal == none -> true ; QVal == V )
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

service_node(M, S, Code, CodeNode, _{kind: service, id: S, source: code, code: Code, children: [CodeNode]}) :-
    M:service(S, _), !.
service_node(_, S, Code, CodeNode, _{kind: service, id: S, source: code, code: Code, children: [CodeNode]}).

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
    ( QVal == none -> V = null ; V = QVal ).

unlisted_code_node(M, Code, _{kind: code, id: Code, listed: false, section: coding_information,
                              quote: Q, children: []}) :-
    (   M:not_formalised(coding_information, Q, _), sub_string(Q, _, _, _, "all-inclusive")
    ->  true
    ;   Q = null
    ).

%%  Facts the request settles -----------------------------------------------

%   settled_pregnancy(+Ctx, -Value-Proof): yes/no/unknown, from the request
%   or from a code that implies it; a contradiction is an invalid request.
settled_pregnancy(ctx(M, Req), V-P) :-
    Req.pregnant = Given,
    Code = Req.cpt,
    (   Code \== none, M:code_implies(Code, pregnant, Implied, Quote)
    ->  (   Given \== unknown, Given \== Implied
        ->  invalid("cpt ~w implies pregnant = ~w, but the request says pregnant = ~w", [Code, Implied, Given])
        ;   true
        ),
        M:code(Code, Section, _),
        interp(M, code_implies(Code, pregnant, Implied), I),
        V = Implied,
        (   Given == unknown
        ->  P = _{kind: fact, id: pregnant, value: Implied, source: code, code: Code,
                  section: Section, quote: Quote, interpretation: I, children: []}
        ;   P = _{kind: fact, id: pregnant, value: Implied, source: request, children: []}
        )
    ;   V = Given,
        P = _{kind: fact, id: pregnant, value: Given, source: request, children: []}
    ).

%   rpl_status(+Ctx, -Value-Proof): recurrent pregnancy loss by the
%   policy's definition (failed pregnancies) or a diagnosis code.
rpl_status(ctx(M, Req), V-P) :-
    M:definition(recurrent_pregnancy_loss, DefSection, DefQuote),
    M:rpl_minimum_failed_pregnancies(Min),
    L = Req.losses,
    (   member(D, Req.diagnoses), M:rpl_diagnosis_code(D)
    ->  interp(M, rpl_diagnosis_code, I),
        V = yes,
        P = _{kind: fact, id: recurrent_pregnancy_loss, value: yes, source: diagnosis, code: D,
              section: DefSection, quote: DefQuote, interpretation: I, children: []}
    ;   integer(L), L >= Min
    ->  V = yes,
        P = _{kind: fact, id: recurrent_pregnancy_loss, value: yes, source: prior_pregnancy_losses,
              losses: L, minimum: Min, section: DefSection, quote: DefQuote, children: []}
    ;   integer(L)
    ->  V = no,
        P = _{kind: fact, id: recurrent_pregnancy_loss, value: no, source: prior_pregnancy_losses,
              losses: L, minimum: Min, section: DefSection, quote: DefQuote, children: []}
    ;   V = unknown,
        P = _{kind: fact, id: recurrent_pregnancy_loss, value: unknown, source: request,
              section: DefSection, quote: DefQuote, children: []}
    ).

%   finding_status(+Ctx, +Finding, -Value, -Proof): three-valued status of a
%   finding under the request's closed world and the findings ontology.
finding_status(_, Req, F, yes, P) :-
    memberchk(F, Req.findings), !,
    P = _{kind: fact, id: F, value: yes, source: request, children: []}.
finding_status(M, Req, F, yes, P) :-
    finding_child(M, F, C, Section, Quote),
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
    findall(D, finding_below(M, F, D), Suffice),
    P = _{kind: fact, id: F, value: no, source: closed_world, would_suffice: Suffice, children: []}.

%   finding_child(+M, ?General, ?Specific, -Section, -Quote)
finding_child(M, G, S, Section, Quote) :- M:finding_example(S, G, Section, Quote).
finding_child(M, G, S, null, null) :- M:finding_is_a(S, G).

finding_below(_, F, F).
finding_below(M, F, D) :- finding_child(M, F, C, _, _), finding_below(M, C, D).
finding_above(M, F, A) :- finding_child(M, A, F, _, _).
finding_above(M, F, A) :- finding_child(M, P, F, _, _), finding_above(M, P, A).

%%  Statements and the facts they depend on ------------------------------

applies(M, S, Svc) :- M:applies_to(S, G), service_below(M, Svc, G).

relevant_statements(M, Cands, Stmts) :-
    findall(S, ( member(Svc, Cands), applies(M, S, Svc) ), Ss),
    sort(Ss, Stmts).

statement_fact(M, S, F) :- M:requires(S, F, _, _).
statement_fact(M, S, F) :- M:criterion(S, _, F, _).

%   unknown_vars(+Ctx, +Cands, +ServiceVar, +Stmts, -Vars): the unknowns
%   a case must fix, each Var-Domain, in a fixed order.
unknown_vars(Ctx, Cands, SVar, Stmts0, Vars) :-
    Ctx = ctx(M, Req, Preg-_, Rpl-_),
    % only statements whose requirements the request does not rule out can
    % decide a case, so only their facts become unknowns
    include(live_statement(Ctx), Stmts0, Stmts),
    ( Cands = [_, _|_] -> V1 = [SVar-Cands] ; V1 = [] ),
    % recurrent pregnancy loss matters when a statement may apply, and in a
    % partly known version (out of scope is known there; the rest is not)
    (   Rpl == unknown, ( Stmts \== [] ; M:partial_version(_, _, _) )
    ->  V2 = [recurrent_pregnancy_loss-[yes, no]]
    ;   V2 = []
    ),
    findall(F, ( member(S, Stmts), statement_fact(M, S, F) ), Fs0),
    sort(Fs0, Fs),
    (   memberchk(pregnant, Fs), Preg == unknown -> V3 = [pregnant-[yes, no]] ; V3 = [] ),
    findall(F-[yes, no], ( member(F, Fs), F \== pregnant,
                           \+ finding_status(M, Req, F, yes, _),
                           finding_status(M, Req, F, unknown, _) ), V4),
    append([V1, V2, V3, V4], Vars).

%   live_statement(+Ctx, +S): no requirement of S is known to fail.
live_statement(ctx(M, Req, Preg-_, Rpl-_), S) :-
    forall(M:requires(S, F, Want, _),
           (   F == pregnant -> memberchk(Preg, [Want, unknown])
           ;   F == recurrent_pregnancy_loss -> memberchk(Rpl, [Want, unknown])
           ;   once(finding_status(M, Req, F, V, _)), memberchk(V, [Want, unknown])
           )).

%%  Cases --------------------------------------------------------------------

%   case(+Ctx, +Cands, +ServiceProofs, +Vars, -Case): one completion of the
%   unknowns and what the policy decides in it.
case(Ctx, Cands, SProofs, Vars, case(Assign, Outcome, Stmt, Met, Referral, Proof)) :-
    assignment(Vars, Assign),
    consistent(Ctx, Assign),
    ( Cands = [Only] -> Svc = Only ; Assign = [_-Svc|_] ),
    memberchk(Svc-SProof0, SProofs),
    copy_term(SProof0, SProof),
    decide(Ctx, Assign, Svc, SProof, Outcome, Stmt, Met, Referral, Proof).

assignment([], []).
assignment([V-Dom|Vs], [V-X|As]) :- member(X, Dom), assignment(Vs, As).

%   An assumed specific finding needs its assumed general finding.
consistent(ctx(M, _, _, _), Assign) :-
    \+ ( member(F-yes, Assign), finding_above(M, F, A), memberchk(A-no, Assign) ).

decide(Ctx, Assign, Svc, SProof, Outcome, Stmt, Met, Referral, Proof) :-
    Ctx = ctx(M, _, _, _),
    fact_value(Ctx, Assign, recurrent_pregnancy_loss, RplV, RplP),
    scope_node(M, RplV, RplP, ScopeNode),
    (   RplV == no
    ->  Outcome = not_addressed, Stmt = null, Met = [], Referral = null,
        Proof = _{kind: outcome, outcome: not_addressed, reason: out_of_scope,
                  children: [ScopeNode, SProof]}
    ;   memberchk(Svc, [other, unlisted_code])
    ->  Stmt = null, Met = [], Referral = null,
        unaddressed(M, Outcome, Why),
        Proof = _{kind: outcome, outcome: Outcome, reason: Svc, children: [SProof|Why]}
    ;   findall(S, applies(M, S, Svc), Ss0), sort(Ss0, Ss),
        partition(requirements_hold(Ctx, Assign), Ss, Applicable, NotApplicable),
        (   Applicable == []
        ->  Stmt = null, Met = [], Referral = null,
            unaddressed(M, Outcome, Why),
            maplist(statement_node(Ctx, Assign, Svc), NotApplicable, WhyNot),
            append(WhyNot, Why, Children),
            Proof = _{kind: outcome, outcome: Outcome, reason: no_statement, service: Svc,
                      children: [ScopeNode, SProof|Children]}
        ;   Applicable = [S]
        ->  Stmt = S,
            statement_node(Ctx, Assign, Svc, S, SNode),
            Outcome = SNode.outcome, Met = SNode.criteria_met,
            ( M:referral(S, Referral) -> true ; Referral = null ),
            Proof = _{kind: outcome, outcome: Outcome, reason: statement,
                      children: [ScopeNode, SProof, SNode]}
        ;   format(string(Msg), "statements ~w all apply to the same case", [Applicable]),
            throw(covkb_error(policy_conflict, Msg))
        )
    ).

%   unaddressed(+M, -Outcome, -Nodes): what "no statement decides" means in
%   this version: not_addressed where the version is known whole, unknown
%   (with the reason) where only part of it is.
unaddressed(M, unknown, [_{kind: partial_version, section: Section, quote: Quote, reason: Reason,
                          children: []}]) :-
    M:partial_version(Section, Quote, Reason), !.
unaddressed(_, not_addressed, []).

scope_node(M, V, FactProof, _{kind: scope, id: recurrent_pregnancy_loss, value: V,
                              section: Section, quote: Quote, interpretation: I,
                              children: [FactProof]}) :-
    M:scope(recurrent_pregnancy_loss, Section, Quote),
    interp(M, scope(recurrent_pregnancy_loss), I).

%   fact_value(+Ctx, +Assign, +Fact, -Value, -Proof)
fact_value(ctx(_, _, _, V0-P0), Assign, recurrent_pregnancy_loss, V, P) :- !,
    settled_or_assumed(recurrent_pregnancy_loss, V0, P0, Assign, V, P).
fact_value(ctx(_, _, V0-P0, _), Assign, pregnant, V, P) :- !,
    settled_or_assumed(pregnant, V0, P0, Assign, V, P).
fact_value(ctx(M, Req, _, _), Assign, F, V, P) :-
    finding_status(M, Req, F, V0, P0),
    settled_or_assumed(F, V0, P0, Assign, V, P).

settled_or_assumed(F, unknown, P0, Assign, V, P) :-
    memberchk(F-V, Assign), !,
    P = _{kind: fact, id: F, value: V, source: assumed, children: [P0]}.
%   An unknown that is no case variable cannot change the outcome (no
%   statement depends on it): it stays unknown.
settled_or_assumed(_, unknown, P, _, unknown, P) :- !.
settled_or_assumed(_, V, P, _, V, P).

requirements_hold(Ctx, Assign, S) :-
    Ctx = ctx(M, _, _, _),
    forall(M:requires(S, F, Want, _), fact_value(Ctx, Assign, F, Want, _)).

%   statement_node(+Ctx, +Assign, +Service, +S, -Node): the statement, each requirement
%   and each criterion with the facts that decided it (why and why not).
statement_node(Ctx, Assign, Svc, S, Node) :-
    Ctx = ctx(M, _, _, _),
    M:statement(S, Section, Decides),
    findall(N-Q, M:statement_quote(S, N, Q), NQs), keysort(NQs, NQs1), pairs_values(NQs1, Quotes),
    findall(R, requirement_node(Ctx, Assign, S, R), Reqs),
    (   forall(member(R, Reqs), node_holds(R)) -> Holds = true ; Holds = false ),
    (   M:criteria(S, Kind, CQuote)
    ->  findall(C, criterion_node(Ctx, Assign, S, C), Crits),
        include(node_holds, Crits, MetNodes),
        maplist(node_id, MetNodes, Met),
        criteria_hold(Kind, Crits, CHold),
        CNode = _{kind: criteria, mode: Kind, holds: CHold, quote: CQuote, children: Crits},
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

%   The interpretation, if any, behind the statement covering this case's service.
statement_interpretation(M, Svc, S, I) :-
    (   M:applies_to(S, G), service_below(M, Svc, G),
        interp(M, applies_to(S, G), I0), I0 \== null
    ->  I = I0
    ;   I = null
    ).

requirement_node(Ctx, Assign, S, _{kind: requirement, id: F, expected: Want, holds: H,
                                   quote: Q, interpretation: I, children: [P]}) :-
    Ctx = ctx(M, _, _, _),
    M:requires(S, F, Want, Q),
    interp(M, requires(S, F), I),
    fact_value(Ctx, Assign, F, V, P),
    ( V == Want -> H = true ; H = false ).

criterion_node(Ctx, Assign, S, _{kind: criterion, id: C, finding: F, holds: H, quote: Q,
                                 section: Section, interpretation: I, children: [P]}) :-
    Ctx = ctx(M, _, _, _),
    M:criterion(S, C, F, Q),
    M:statement(S, Section, _),
    fact_value(Ctx, Assign, F, V, P),
    ( V == yes -> H = true ; H = false ),
    interp(M, F, I).

criteria_hold(any, Crits, H) :- ( member(C, Crits), node_holds(C) -> H = true ; H = false ).
criteria_hold(all, Crits, H) :- ( forall(member(C, Crits), node_holds(C)) -> H = true ; H = false ).

node_holds(Node) :- get_dict(holds, Node, true).
node_id(Node, Id) :- get_dict(id, Node, Id).

interp(M, Subject, I) :- ( M:interpretation(Subject, I0) -> I = I0 ; I = null ).

%%  Three-valued aggregation ---------------------------------------------

%   aggregate_cases(+Vars, +Cases, -Determination): the outcome when every
%   case agrees, else insufficient_information with the unknowns on which
%   the outcome depends (an unknown is missing when changing it alone
%   changes the outcome in some case).
aggregate_cases(Vars, Cases, Det) :-
    findall(O, member(case(_, O, _, _, _, _), Cases), Os0), sort(Os0, Os),
    findall(S, member(case(_, _, S, _, _, _), Cases), Ss0), sort(Ss0, Ss),
    findall(R, member(case(_, _, _, _, R, _), Cases), Rs0), sort(Rs0, Rs),
    findall(Met, member(case(_, _, _, Met, _, _), Cases), Mets),
    intersection_all(Mets, Common),
    (   Ss = [Stmt0] -> Stmt = Stmt0 ; Stmt = null ),
    (   Rs = [Ref0] -> Ref = Ref0 ; Ref = null ),
    (   Os = [Outcome]
    ->  Missing = [], Possible = []
    ;   Outcome = insufficient_information,
        essential_vars(Vars, Cases, Missing),
        Possible = Os
    ),
    (   Cases = [case([], _, _, _, _, Proof)]
    ->  Children = [Proof]
    ;   maplist(case_node, Cases, Children)
    ),
    foldl(collect_citations, Children, [], Cits0), reverse(Cits0, Cits1),
    list_to_set(Cits1, Citations),
    Det = _{outcome: Outcome, statement: Stmt, criteria_met: Common,
            missing: Missing, possible_outcomes: Possible, referral: Ref,
            citations: Citations,
            explanation: _{kind: determination, outcome: Outcome, statement: Stmt,
                           children: Children}}.

intersection_all([], []).
intersection_all([L|Ls], I) :- foldl([A, B, C]>>intersection(B, A, C), Ls, L, I).

essential_vars(Vars, Cases, Missing) :-
    findall(V, ( member(V-_, Vars), essential(V, Cases) ), Missing).

essential(V, Cases) :-
    member(case(A1, O1, _, _, _, _), Cases),
    member(case(A2, O2, _, _, _, _), Cases),
    O1 \== O2,
    differ_only_in(V, A1, A2), !.

differ_only_in(V, A1, A2) :-
    maplist([K-X, K-Y]>>( K == V -> X \== Y ; X == Y ), A1, A2).

case_node(case(Assign, O, S, _, _, Proof),
          _{kind: case, assume: Assume, outcome: O, statement: S, children: [Proof]}) :-
    maplist([F-V, _{fact: F, value: V}]>>true, Assign, Assume).

collect_citations(Node, Acc0, Acc) :-
    (   get_dict(quote, Node, Q), Q \== null, get_dict(section, Node, Sec), Sec \== null
    ->  Acc1 = [_{section: Sec, quote: Q}|Acc0]
    ;   Acc1 = Acc0
    ),
    (   get_dict(quotes, Node, Qs), get_dict(section, Node, Sec1)
    ->  foldl([Q1, A0, [_{section: Sec1, quote: Q1}|A0]]>>true, Qs, Acc1, Acc1b)
    ;   Acc1b = Acc1
    ),
    (   get_dict(heading, Node, H), get_dict(section, Node, Sec2)
    ->  Acc2 = [_{section: Sec2, quote: H}|Acc1b]
    ;   Acc2 = Acc1b
    ),
    (   get_dict(children, Node, Cs) -> foldl(collect_citations, Cs, Acc2, Acc) ; Acc = Acc2 ).
