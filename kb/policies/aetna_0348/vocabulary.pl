%## Aetna 0348 — its own vocabulary
%
% The services, findings and request fields it shares with other policies
% on recurrent pregnancy loss are in kb/vocabularies/recurrent_pregnancy_loss.pl.

%## Patient facts

%!  patient_fact(Fact, Label)
% Aetna's recurrent pregnancy loss counts consecutive spontaneous
% abortions; Cigna's (recurrent_pregnancy_loss) counts failed pregnancies.
% The two are different facts: a request that gives only the one leaves the
% other unknown.
patient_fact(rpl_consecutive_spontaneous_abortions, "The member has recurrent pregnancy loss as Aetna defines it (2 or more consecutive spontaneous abortions)").

%## How its own facts read in sentences (kb/schema.pl)

%!  fact_reads(Fact, Value, Clause)
fact_reads(rpl_consecutive_spontaneous_abortions, yes, "the member has had 2 or more consecutive spontaneous abortions").
fact_reads(rpl_consecutive_spontaneous_abortions, no, "the member has not had 2 or more consecutive spontaneous abortions").
fact_reads(rpl_consecutive_spontaneous_abortions, unknown, "whether the member has had 2 or more consecutive spontaneous abortions").
%!  fact_asks(Fact, Question)
fact_asks(rpl_consecutive_spontaneous_abortions, "How many consecutive spontaneous abortions has the member had (the longest run)?").
