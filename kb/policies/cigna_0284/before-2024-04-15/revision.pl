%## Cigna 0284, the version before 2024-04-15 — partly known
%
% Its effective date and most of its statements are unknown.  The 2024-04-15
% revision note says what its transabdominal cerclage statement said:
%
%# > Revised the policy statements in the treatment section of the policy by
%# > adding the words '(during pregnancy)' to clarify the word 'antenatal'.
%# > Revised the policy statement for 'prior failed or contraindication to
%# > transvaginal cerclage' in the transabdominal cervical cerclage treatment
%# > section of the policy by adding specific examples instead.

revision_of("2024-04-15").

partial_version(revision_details, "Revised the policy statement for 'prior failed or contraindication to transvaginal cerclage' in the transabdominal cervical cerclage treatment section of the policy by adding specific examples instead.", "Of the version before 2024-04-15 only the transabdominal cerclage statement is known, from the 2024-04-15 revision note; its effective date and its other statements are not.").

%# > ... 'antenatal' ... 'prior failed or contraindication to transvaginal
%# > cerclage' in the transabdominal cervical cerclage treatment section
known_statement(antenatal_transabdominal_cerclage_before_2024).
% Its words are known only from the Revision Details table, so that is where
% its citations point.
statement(antenatal_transabdominal_cerclage_before_2024, revision_details, medically_necessary).
statement_quote(antenatal_transabdominal_cerclage_before_2024, 1, "Revised the policy statement for 'prior failed or contraindication to transvaginal cerclage' in the transabdominal cervical cerclage treatment section of the policy by adding specific examples instead.").
applies_to(antenatal_transabdominal_cerclage_before_2024, transabdominal_cerclage).
requires(antenatal_transabdominal_cerclage_before_2024, pregnant, yes, "to clarify the word 'antenatal'").
statement_reads(antenatal_transabdominal_cerclage_before_2024, "antenatal transabdominal or laparoscopic cervical cerclage").
interpretation(requires(antenatal_transabdominal_cerclage_before_2024, pregnant), "Before 2024-04-15 the statement said 'antenatal' without '(during pregnancy)'; the revision added those words to clarify it, so covkb reads it the same way.").
criteria(antenatal_transabdominal_cerclage_before_2024, any, "prior failed or contraindication to transvaginal cerclage").
criterion(antenatal_transabdominal_cerclage_before_2024, prior_failed_transvaginal_cerclage, prior_failed_transvaginal_cerclage, "prior failed or contraindication to transvaginal cerclage").
criterion(antenatal_transabdominal_cerclage_before_2024, contraindication_to_transvaginal_cerclage, contraindication_to_transvaginal_cerclage, "prior failed or contraindication to transvaginal cerclage").

%# > ... by adding specific examples instead.
% The 2024 conditions are "specific examples" of the old criterion: read
% prior cervical trauma and shortened cervical length as examples of a
% contraindication to transvaginal cerclage (a failed history-indicated
% transvaginal cerclage is already a failed transvaginal cerclage).
finding_example(prior_cervical_trauma, contraindication_to_transvaginal_cerclage, revision_details, "Revised the policy statement for 'prior failed or contraindication to transvaginal cerclage' in the transabdominal cervical cerclage treatment section of the policy by adding specific examples instead.").
finding_example(shortened_cervical_length, contraindication_to_transvaginal_cerclage, revision_details, "Revised the policy statement for 'prior failed or contraindication to transvaginal cerclage' in the transabdominal cervical cerclage treatment section of the policy by adding specific examples instead.").
interpretation(contraindication_to_transvaginal_cerclage, "The old wording named no examples. The 2024 revision replaced it 'by adding specific examples instead', so covkb counts prior cervical trauma (such as a cone biopsy) and shortened cervical length as contraindications to transvaginal cerclage under the old wording.").
