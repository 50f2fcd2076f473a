%## Example Health Plan Medical Policy EX-101 — versions
%
% FICTIONAL.  A small policy written only for covkb's tests, to show that
% the evaluators and the Python package read any policy declared with the
% predicates of kb/schema.pl, not only Cigna 0284.  It describes no real
% health plan's coverage.

%!  policy(Policy, Number, Title)
policy(example_pap, "EX-101", "Positive Airway Pressure Devices (fictional test policy)").

%!  version(Version, EffectiveYYYYMMDD, NextReviewYYYYMMDD, Knowledge)
version("2026-01-01", 20260101, 20270101, complete).

%!  version_source(Version, File)
version_source("2026-01-01", "source/2026-01-01.txt").
