/*  covkb — loading a policy version's fact files into a module of its own.

    A fact file is read as terms, never consulted: each term must be a
    ground fact of a predicate of kb/schema.pl, so a fact file can declare
    nothing and run nothing.
*/
:- module(covkb_load,
          [ load_kb/2,              % +Module, +Files
            load_kb_status/3,       % +Module, +Files, -Status
            unload_kb/1,            % +Module
            unique_statements/1     % ?Module
          ]).
:- use_module(library(apply)).

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

% (atomic_list_concat, not directory_file_path/3: its library costs ~40 ms to load)
:- prolog_load_context(directory, Dir),
   atomic_list_concat([Dir, '/../schema.pl'], Schema),
   load_schema(Schema).

%!  load_kb(+Module, +Files:list) is det.
%
%   Read the fact files into Module.  Files are read as terms and each
%   term must be a ground fact of a schema predicate: a fact file can
%   declare nothing and run nothing.  Raises covkb_error(kb_syntax, Msg).
load_kb(M, Files) :-
    (   current_module(M) -> true
    ;   set_module(M:class(temporary))  % new, so empty: it may be destroyed (unload_kb/1)
    ),
    retractall(unique_statements(M)),
    forall(kb_predicate(N, A), ( functor(H, N, A), retractall(M:H), dynamic(M:N/A) )),
    maplist(load_fact_file(M), Files),
    findall(S, M:statement(S, _, _), Ss), msort(Ss, All), sort(Ss, Set),
    ( All == Set -> assertz(unique_statements(M)) ; true ).

%!  unique_statements(?Module) is nondet.
%
%   No statement of Module has two statement/3 facts, the one choice a
%   case's decision could leave (see cases/3 in evaluator.pl).
:- dynamic unique_statements/1.

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

%!  unload_kb(+Module) is det.
%
%   Forget a version module load_kb/2 filled: its facts, its predicates
%   and the module itself, so that a long-running process that loads a
%   module per draft revision does not keep every one (covkb's Prolog
%   engine calls it when a draft's last knowledge base closes).
unload_kb(M) :-
    retractall(unique_statements(M)),
    (   catch('$destroy_module'(M), _, fail)  % a temporary module: load_kb/2 made it one
    ->  true
    ;   forall(kb_predicate(N, A), abolish(M:N/A))
    ).

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
