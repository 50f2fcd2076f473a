/*  bench/fast_paths.py's other side of kb/engine/json_codec.pl: the
    evaluator's cases_json/3 with SWI-Prolog's library(http/json) reading
    the request and writing the answer, in any mix with the codec's own
    reader and writer, so that one process measures each beside the others.

    Only for requests that are answered with cases (the bench chooses
    those): an error is thrown on, not written.  cases/3 and digest_case/4
    are the evaluator's own, so the work between reading and writing is the
    same on every side.
*/
:- module(covkb_bench_json,
          [ cases_json_cc/3,        % codec reader, codec writer (cases_json/3's own pair)
            cases_json_ll/3,        % library reader, library writer
            cases_json_lc/3,        % library reader, codec writer
            cases_json_cl/3         % codec reader, library writer
          ]).
:- use_module(library(apply)).
:- use_module(library(http/json)).

%   json_codec.pl loads the library's C helpers (foreign(json)) into its own
%   module first, and SWI-Prolog installs a foreign library once, into the
%   module that loaded it: library(http/json), loaded later, would find them
%   missing.  Imported (no wrapper, no cost per call) where they are.
:- initialization(share_foreign_json).

share_foreign_json :-
    forall(( member(N/A, [json_read_number/3, json_skip_ws/3, json_write_indent/3, json_write_string/2]),
             functor(H, N, A), \+ predicate_property(json:H, defined) ),
           @(import(covkb_json_codec:N/A), json)).

cases_json_cc(M, T, Out) :- cases_json_with(codec_read, codec_write, M, T, Out).
cases_json_ll(M, T, Out) :- cases_json_with(library_read, library_write, M, T, Out).
cases_json_lc(M, T, Out) :- cases_json_with(library_read, codec_write, M, T, Out).
cases_json_cl(M, T, Out) :- cases_json_with(codec_read, library_write, M, T, Out).

cases_json_with(Read, Write, M, Text, Out) :-
    call(Read, Text, Req),
    covkb_evaluator:cases(M, Req, Cases0),
    (   get_dict(explain, Req, false)
    ->  foldl(covkb_evaluator:digest_case, Cases0, Cases, [], _)
    ;   Cases = Cases0
    ),
    call(Write, _{cases: Cases}, Out).

codec_read(Text, Req) :- covkb_json_codec:json_request(Text, Req).
codec_write(Term, Out) :- covkb_json_codec:json_text(Term, Out).

% what json_codec.pl's header says its reader and writer equal
library_read(Text, Req) :- atom_json_dict(Text, Req, [value_string_as(string)]).
library_write(Term, Out) :- with_output_to(string(Out), json_write_dict(current_output, Term, [width(0)])).
