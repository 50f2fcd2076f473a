%## Cigna 0284, version 2024-04-15 — partly known
%
% No text of this version is available.  What is known comes from the
% Revision Details table of the 2025-02-15 text:
%
%# > Annual Review | Removed multiple policy statements in both the
%# > diagnostic testing and treatment sections of the policy. | 2/15/2025
%# > Focused review | Revised the policy statements in the treatment section
%# > of the policy by adding the words '(during pregnancy)' to clarify the word
%# > 'antenatal'. Revised the policy statement for 'prior failed or
%# > contraindication to transvaginal cerclage' in the transabdominal cervical
%# > cerclage treatment section of the policy by adding specific examples
%# > instead. | 4/15/2024
%
% So this version is the 2025 one with the cerclage statements as they now
% stand, and an unknown set of other statements (removed in 2025).  It
% keeps from its base only what is known; everything else is `unknown`.

revision_of("2025-02-15").

partial_version(revision_details, "Removed multiple policy statements in both the diagnostic testing and treatment sections of the policy.", "The 2025-02-15 review removed statements of this version from both its diagnostic testing and treatment sections without saying which; only its cerclage statements are known.").

%# The cerclage statements, as revised on 2024-04-15.
known_statement(antenatal_transabdominal_cerclage).
known_statement(non_pregnant_cerclage).
evidence(known_statement(antenatal_transabdominal_cerclage), revision_details, "Revised the policy statement for 'prior failed or contraindication to transvaginal cerclage' in the transabdominal cervical cerclage treatment section of the policy by adding specific examples instead.").
evidence(known_statement(non_pregnant_cerclage), revision_details, "Revised the policy statements in the treatment section of the policy by adding the words '(during pregnancy)' to clarify the word 'antenatal'.").
interpretation(known_statement(antenatal_transabdominal_cerclage), "The 2024-04-15 focused review put the cerclage statements into the form the 2025 text shows, and the 2025 review records only removals; covkb takes them as in force from 2024-04-15 and quotes their 2025 wording (the 2024 wording is not available).").
interpretation(known_statement(non_pregnant_cerclage), "The 2024-04-15 focused review put the cerclage statements into the form the 2025 text shows, and the 2025 review records only removals; covkb takes them as in force from 2024-04-15 and quotes their 2025 wording (the 2024 wording is not available).").

% The coding table of this version is not known: no known_code/1 facts, so
% a request by CPT code has the outcome unknown.
