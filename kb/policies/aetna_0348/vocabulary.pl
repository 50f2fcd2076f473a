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
