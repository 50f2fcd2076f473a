%## Aetna Clinical Policy Bulletin 0348 — versions
%
% One version is known, and only in part: the opening of the bulletin as a
% stored copy of the public aetna.com page shows it.  The copy is undated
% and breaks off mid-sentence in item 2.5.  Its effective and review dates
% are not known, so no date of service can tell whether it was in force:
% every answer says so.  (Another public copy, an Aetna Better Health
% submission, shows "Last Review 05/28/2019" and items that read the same
% as 1.1–1.5 here; its text is not available, so it is not a version here.)

%!  policy(Policy, Number, Title)
policy(aetna_0348, "aetna-0348", "Recurrent Pregnancy Loss").

%!  version(Version, EffectiveYYYYMMDD, NextReviewYYYYMMDD, Knowledge)
version("undated", unknown, unknown, partial).

%!  first_effective(YYYYMMDD, Why)
% The copy is undated, but the bulletin is not older than this: no version
% of it is in force before.
first_effective(19990827, "The Aetna Better Health copy of the bulletin gives its original effective date as 08/27/1999.").

%!  version_source(Version, File)
version_source("undated", "source/undated-excerpt.txt").

%!  shared_vocabulary(Name)
shared_vocabulary("recurrent_pregnancy_loss").
