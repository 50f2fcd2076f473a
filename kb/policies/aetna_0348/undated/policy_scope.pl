%## Policy — whom it is about, and what is not known
%
%# > Aetna considers the following tests medically necessary for evaluation
%# > of members with recurrent pregnancy loss (defined as 2 or more
%# > consecutive spontaneous abortions):

%!  number_at_least(Fact, Field, Minimum, Section, Quote)
% "2 or more consecutive spontaneous abortions": consecutive_spontaneous_abortions >= 2.
% Failed pregnancies (Cigna's count) do not settle it: two losses need not
% be consecutive, nor spontaneous abortions.
number_at_least(rpl_consecutive_spontaneous_abortions, consecutive_spontaneous_abortions, 2, medically_necessary_tests, "recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions)").

%!  scope(Fact, Section, Quote)
scope(rpl_consecutive_spontaneous_abortions, medically_necessary_tests, "for evaluation of members with recurrent pregnancy loss (defined as 2 or more consecutive spontaneous abortions)").
interpretation(scope(rpl_consecutive_spontaneous_abortions), "The bulletin is titled 'Recurrent Pregnancy Loss'; its first list is for 'members with recurrent pregnancy loss' as it defines it, and its second list rules on tests 'in the evaluation of recurrent pregnancy loss'. covkb reads the whole bulletin, the part of it that is lost included, as addressing members with recurrent pregnancy loss so defined: where a request rules that out, the bulletin does not address the service, even one only its lost text might name.").

%## What the copy does not show
%# > 5. Inter-α trypsin inhibitor-heavy chain 4 (ITI-H4) (as a biomarker for r
% The copy breaks off here, and is cited by all it has of item 2.5, its name
% included.  Everything after this point — the rest of the
% experimental and investigational list, any treatment statements, the
% coding tables, definitions and policy history — is not known: where no
% statement below decides, the outcome is `unknown`, with this reason.
partial_version(experimental_and_investigational_tests, "Inter-α trypsin inhibitor-heavy chain 4 (ITI-H4) (as a biomarker for r", "The only available copy of this bulletin breaks off mid-sentence in item 2.5: the rest of its experimental and investigational tests, any treatment statements, its coding tables, definitions and policy history are not known.").
not_formalised(experimental_and_investigational_tests, "Inter-α trypsin inhibitor-heavy chain 4 (ITI-H4) (as a biomarker for r", "Item 2.5 breaks off mid-sentence: what ITI-H4 is said to be a biomarker for, and so whether the item rules on the test a request names, is not known. covkb does not guess it: ITI-H4 testing is unknown.").
