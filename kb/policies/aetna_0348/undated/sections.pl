%## Aetna 0348, undated copy — the document's sections
%
% The copy has one heading, "Policy", over two numbered lists.

%!  section(Section, Parent, Title)
section(policy, root, "Policy").
section(medically_necessary_tests, policy, "1. Medically necessary tests").
section(experimental_and_investigational_tests, policy, "2. Experimental and investigational tests").
