%## Cigna Medical Coverage Policy 0284 — versions
%
% Which versions of the policy covkb knows, and from when each is in force.
% The loader picks the latest version whose effective date is not after
% the date of service.

%!  policy(Policy, Number, Title)
policy(cigna_0284, "cigna-0284", "Recurrent Pregnancy Loss: Diagnosis and Treatment").

%!  version(Version, EffectiveYYYYMMDD, NextReviewYYYYMMDD, Knowledge)
% Knowledge is `complete` when the whole text of the version is encoded,
% `partial` when only some of its statements are known (the rest give the
% outcome `unknown`).  A date that is not known is `unknown`.
version("2025-02-15", 20250215, 20260215, complete).
version("2024-04-15", 20240415, unknown, partial).
version("before-2024-04-15", unknown, unknown, partial).

%!  version_source(Version, File)
% The source text every quote of the version must be found in
% (relative to this folder).
version_source("2025-02-15", "source/2025-02-15.txt").
% No text of the earlier versions is available: what is known of them comes
% from the 2025 text's Revision Details table, which their facts quote.
version_source("2024-04-15", "source/2025-02-15.txt").
version_source("before-2024-04-15", "source/2025-02-15.txt").

%!  shared_vocabulary(Name)
% Its services, findings and request fields: kb/vocabularies/Name.pl.
shared_vocabulary("recurrent_pregnancy_loss").
