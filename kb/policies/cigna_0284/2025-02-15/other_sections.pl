%## Health Equity Considerations, Medicare, References, Revision Details

not_formalised(health_equity_considerations, "Health equity is the highest level of health for all people", "Explanatory text; it states no coverage rule.").
not_formalised(medicare_coverage_determinations, "No National Coverage Determination found", "No NCD or LCD exists; nothing to encode.").
not_formalised(references, "Cervical stitch (cerclage) for preventing preterm birth in singleton pregnancy.", "The evidence cited for the statements; it states no coverage rule.").
not_formalised(revision_details, "Removed multiple policy statements in both the diagnostic testing and treatment sections of the policy.", "History of the policy; earlier versions are not encoded yet.").
