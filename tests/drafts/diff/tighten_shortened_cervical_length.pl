%## Draft: the antenatal transabdominal cerclage criterion "shortened cervical
% length" becomes a more specific, newly declared finding.  The non-pregnant
% statement is untouched: diff must report changes on the antenatal
% statement only, reading the new finding on the base side as the shortened
% cervical length it is a form of.
revision_of("2025-02-15").
finding(cervical_length_under_25_mm_before_24_weeks, "Cervical length under 25 mm before 24 weeks of gestation").
finding_is_a(cervical_length_under_25_mm_before_24_weeks, shortened_cervical_length).
drops_criterion(antenatal_transabdominal_cerclage, shortened_cervical_length).
criterion(antenatal_transabdominal_cerclage, cervical_length_under_25_mm_before_24_weeks, cervical_length_under_25_mm_before_24_weeks, "short cervical length (less than 25 mm) before 24 weeks gestation").
