%## Cigna Medical Coverage Policy 0284 — versions
%
% Which versions of the policy covkb knows, and from when each is in force.
% The loader picks the latest version whose effective date is not after
% the date of service.

%!  policy(Policy, Number, Title)
policy(cigna_0284, "cigna-0284", "Recurrent Pregnancy Loss: Diagnosis and Treatment").

%!  version(Version, EffectiveYYYYMMDD, NextReviewYYYYMMDD, Knowledge)
% Knowledge is `complete` when the whole text of the version is encoded.
version("2025-02-15", 20250215, 20260215, complete).

%!  version_source(Version, File)
% The source text every quote of the version must be found in
% (relative to this folder).
version_source("2025-02-15", "source/2025-02-15.txt").
