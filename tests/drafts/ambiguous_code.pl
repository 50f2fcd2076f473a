% Faulty draft: 86357 also reports IVIG, with a different outcome, and no
% qualifier says which.
revision_of("2025-02-15").
code_reports("86357", ivig).
