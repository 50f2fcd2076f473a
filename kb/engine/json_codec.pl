/*  covkb — the JSON text of the evaluator's boundary: the request read
    (json_request/2, library(http/json)'s reader) and the answer written
    (json_text/2, hand-tuned: writing was most of a call's time in Prolog,
    and the lean writer gains 35 % on requests per second with the
    explanation, bench/fast_paths.py).  Nothing a user sends is ever read
    as a Prolog term or called.
*/
:- module(covkb_json_codec,
          [ json_request/2,         % +Text, -Request
            json_text/2             % +Term, -Text
          ]).
:- use_module(library(lists)).
% library(http/json) loads SWI's JSON string writer, in C (foreign(json),
% which goes to one module only: it is not loaded here a second time).
:- use_module(library(http/json), [atom_json_dict/3, json_write_dict/3]).

%!  json_text(+Term, -Text:string) is det.
%
%   Term as JSON, as json_write_dict/3 writes it (dicts, lists, strings,
%   atoms with true/false/null as literals, integers; anything else through
%   json_write_dict itself).  Writing the answer was most of a
%   determination's time in Prolog, so it is built as a list of atomic
%   pieces joined once (no stream call per character or key), and the
%   quoted form of each atom, key and string is memoised: they are mostly
%   the KB's own and recur in every answer.  Python reads the text, so
%   spacing does not matter.
json_text(T, Text) :-
    json_pieces(T, Ps, []),
    atomics_to_string(Ps, Text).

json_pieces(T, P0, P) :-
    (   is_dict(T)
    ->  dict_pairs(T, _, Ps), P0 = ['{'|P1], json_pair_pieces(Ps, P1, ['}'|P])
    ;   string(T)
    ->  json_string_piece(T, E), P0 = [E|P]
    ;   atom(T)
    ->  json_atom_piece(T, E), P0 = [E|P]
    ;   is_list(T)
    ->  P0 = ['['|P1], json_item_pieces(T, P1, [']'|P])
    ;   integer(T)
    ->  P0 = [T|P]
    ;   with_output_to(string(E), json_write_dict(current_output, T, [width(0)])), P0 = [E|P]
    ).

json_pair_pieces([], P, P).
json_pair_pieces([K-V|T], [KE|P1], P) :-
    json_key_piece(K, KE), json_pieces(V, P1, P2), json_more_pairs(T, P2, P).
json_more_pairs([], P, P).
json_more_pairs([K-V|T], [',', KE|P1], P) :-
    json_key_piece(K, KE), json_pieces(V, P1, P2), json_more_pairs(T, P2, P).

json_item_pieces([], P, P).
json_item_pieces([H|T], P0, P) :- json_pieces(H, P0, P1), json_more_items(T, P1, P).
json_more_items([], P, P).
json_more_items([H|T], [','|P0], P) :- json_pieces(H, P0, P1), json_more_items(T, P1, P).

%   The memo tables: quoted text by atom, by key (with its colon) and by a
%   string's hash (the string itself checked); bounded, as requests bring
%   atoms and strings of their own.
:- dynamic json_atom_memo/2, json_key_memo/2, json_string_memo/3.

json_atom_piece(A, E) :-
    (   json_atom_memo(A, E0)
    ->  E = E0
    ;   (   json_literal(A) -> E = A ; json_quoted(A, E) ),
        json_memo(json_atom_memo(A, E))
    ).

json_key_piece(K, E) :-
    (   json_key_memo(K, E0)
    ->  E = E0
    ;   json_quoted(K, Q), atom_concat(Q, ':', E),
        json_memo(json_key_memo(K, E))
    ).

json_string_piece(S, E) :-
    term_hash(S, H),
    (   json_string_memo(H, S, E0)
    ->  E = E0
    ;   json_quoted(S, E),
        json_memo(json_string_memo(H, S, E))
    ).

json_quoted(T, Q) :- with_output_to(string(Q), json:json_write_string(current_output, T)).

json_memo(Fact) :-
    flag(covkb_json_memo, N, N+1),
    (   N >= 10000
    ->  retractall(json_atom_memo(_, _)), retractall(json_key_memo(_, _)),
        retractall(json_string_memo(_, _, _)), flag(covkb_json_memo, _, 1)
    ;   true
    ),
    assertz(Fact).

json_literal(true).
json_literal(false).
json_literal(null).

%!  json_request(+Text, -Request:dict) is det.
%
%   The request Python sends (json.dumps of the validated request) as
%   library(http/json) reads it: objects as dicts keyed by atoms, strings
%   as strings, true/false/null as atoms, numbers as numbers.  (A reader of
%   our own gained under 20 % on requests per second, measured in
%   bench/fast_paths.py, so the standard one is used.)
json_request(Text, Request) :-
    catch(atom_json_dict(Text, Request, [value_string_as(string)]), _,
          throw(error(syntax_error(json_request), _))).
