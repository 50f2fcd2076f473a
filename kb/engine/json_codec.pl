/*  covkb — the JSON text of the evaluator's boundary: the request read
    (json_request/2) and the answer written (json_text/2).

    Both were hand-tuned, being most of a call's time in Prolog; nothing a
    user sends is ever read as a Prolog term or called.
*/
:- module(covkb_json_codec,
          [ json_request/2,         % +Text, -Request
            json_text/2             % +Term, -Text
          ]).
:- use_module(library(lists)).
% SWI's JSON string writer, in C, without library(http/json) itself (about
% 45 ms to load: most of a one-shot command's Prolog start); the library is
% loaded only if an answer holds a term the lean writer below does not know.
:- use_foreign_library(foreign(json)).
:- autoload(library(http/json), [json_write_dict/3]).

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

json_quoted(T, Q) :- with_output_to(string(Q), json_write_string(current_output, T)).

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
%   The request Python sends (json.dumps of the validated request: ASCII,
%   every other character escaped) as atom_json_dict/3 with
%   value_string_as(string) reads it: objects as dicts keyed by atoms,
%   strings as strings, true/false/null as atoms, numbers as numbers.
%   A recursive descent over the codes that picks each clause by the next
%   code (first-argument indexing): reading was an eighth of a call's time.
%   A text without a backslash has its strings cut out whole, by
%   split_string/4 in C, each then one token s(String) among the codes.
json_request(Text, Request) :-
    (   sub_atom_icasechk(Text, _, '\\')   % (a backslash has no case; 4x sub_string/5's speed)
    ->  string_codes(Text, Codes)
    ;   split_string(Text, "\"", "", Parts), json_tokens(Parts, Codes)
    ),
    (   json_ws(Codes, Cs1), json_value(Cs1, Request, Cs2), json_ws(Cs2, [])
    ->  true
    ;   throw(error(syntax_error(json_request), _))
    ).

%   json_tokens(+Parts, -Tokens): the codes between strings, each string
%   (no escape in it) as s(String); an unterminated one left as codes.
json_tokens([Out|Parts], Tokens) :-
    string_codes(Out, Cs), append(Cs, Tokens1, Tokens),
    json_string_tokens(Parts, Tokens1).

json_string_tokens([], []).
json_string_tokens([S|Parts], Tokens) :-
    (   Parts == []
    ->  string_codes(S, Cs), Tokens = [0'"|Cs]
    ;   Tokens = [s(S)|Tokens1], json_tokens(Parts, Tokens1)
    ).

json_value([C|Cs0], V, Cs) :- json_value(C, Cs0, V, Cs).

json_value(0'{, Cs0, D, Cs) :- !,
    json_ws(Cs0, Cs1), json_members(Cs1, Ps, Cs2), json_ws(Cs2, [0'}|Cs]),
    dict_create(D, _, Ps).
json_value(0'[, Cs0, L, Cs) :- !,
    json_ws(Cs0, Cs1), json_elements(Cs1, L, Cs2), json_ws(Cs2, [0']|Cs]).
json_value(s(S), Cs, S, Cs) :- !.
json_value(0'", Cs0, S, Cs) :- !, json_chars(Cs0, Codes, Cs), string_codes(S, Codes).
json_value(0't, [0'r, 0'u, 0'e|Cs], true, Cs) :- !.
json_value(0'f, [0'a, 0'l, 0's, 0'e|Cs], false, Cs) :- !.
json_value(0'n, [0'u, 0'l, 0'l|Cs], null, Cs) :- !.
json_value(C, Cs0, N, Cs) :-
    json_number_code(C), json_number(Cs0, Ns, Cs), number_codes(N, [C|Ns]).

json_members([s(S)|Cs1], [K-V|Ps], Cs) :- !,
    atom_string(K, S),
    json_member_value(Cs1, V, Ps, Cs).
json_members([0'"|Cs0], [K-V|Ps], Cs) :- !,
    json_chars(Cs0, KCs, Cs1), atom_codes(K, KCs),
    json_member_value(Cs1, V, Ps, Cs).
json_members(Cs, [], Cs).

json_member_value(Cs1, V, Ps, Cs) :-
    json_ws(Cs1, [0':|Cs2]), json_ws(Cs2, Cs3),
    json_value(Cs3, V, Cs4), json_ws(Cs4, Cs5), json_more_members(Cs5, Ps, Cs).
json_more_members([0',|Cs0], Ps, Cs) :- !, json_ws(Cs0, Cs1), json_members(Cs1, Ps, Cs), Ps \== [].
json_more_members(Cs, [], Cs).

json_elements(Cs0, [V|Vs], Cs) :- json_value(Cs0, V, Cs1), !, json_ws(Cs1, Cs2), json_more_elements(Cs2, Vs, Cs).
json_elements(Cs, [], Cs).
json_more_elements([0',|Cs0], [V|Vs], Cs) :- !,
    json_ws(Cs0, Cs1), json_value(Cs1, V, Cs2), json_ws(Cs2, Cs3), json_more_elements(Cs3, Vs, Cs).
json_more_elements(Cs, [], Cs).

json_chars([C|Cs0], Codes, Cs) :- json_char(C, Cs0, Codes, Cs).

json_char(0'", Cs, [], Cs) :- !.
json_char(0'\\, Cs0, [C|Codes], Cs) :- !, json_escape(Cs0, C, Cs1), json_chars(Cs1, Codes, Cs).
json_char(C, Cs0, [C|Codes], Cs) :- json_chars(Cs0, Codes, Cs).

json_escape([E|Cs0], C, Cs) :- json_escape(E, Cs0, C, Cs).

json_escape(0'", Cs, 0'", Cs).
json_escape(0'\\, Cs, 0'\\, Cs).
json_escape(0'/, Cs, 0'/, Cs).
json_escape(0'b, Cs, 8, Cs).
json_escape(0'f, Cs, 12, Cs).
json_escape(0'n, Cs, 10, Cs).
json_escape(0'r, Cs, 13, Cs).
json_escape(0't, Cs, 9, Cs).
json_escape(0'u, Cs0, C, Cs) :-
    json_hex4(Cs0, H, Cs1),
    (   H >= 0xD800, H =< 0xDBFF,
        Cs1 = [0'\\, 0'u|Cs2], json_hex4(Cs2, L, Cs3), L >= 0xDC00, L =< 0xDFFF
    ->  C is 0x10000 + ((H - 0xD800) << 10) + (L - 0xDC00), Cs = Cs3
    ;   C = H, Cs = Cs1
    ).

json_hex4([A, B, C, D|Cs], V, Cs) :-
    code_type(A, xdigit(VA)), code_type(B, xdigit(VB)),
    code_type(C, xdigit(VC)), code_type(D, xdigit(VD)),
    V is VA<<12 + VB<<8 + VC<<4 + VD.

json_number([C|Cs0], [C|Ns], Cs) :- json_number_code(C), !, json_number(Cs0, Ns, Cs).
json_number(Cs, [], Cs).

json_number_code(0'-).
json_number_code(0'+).
json_number_code(0'0).
json_number_code(0'1).
json_number_code(0'2).
json_number_code(0'3).
json_number_code(0'4).
json_number_code(0'5).
json_number_code(0'6).
json_number_code(0'7).
json_number_code(0'8).
json_number_code(0'9).
json_number_code(0'.).
json_number_code(0'e).
json_number_code(0'E).

% white space as code_type(C, space) has it
json_ws(Cs0, Cs) :-
    (   Cs0 = [C|Cs1], json_space(C) -> json_ws(Cs1, Cs) ; Cs = Cs0 ).

json_space(0' ).
json_space(9).
json_space(10).
json_space(11).
json_space(12).
json_space(13).
json_space(C) :- integer(C), C > 255, code_type(C, space).
