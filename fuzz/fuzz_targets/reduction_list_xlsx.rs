//! Any bytes as a reduction-list workbook: located problems or a list, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hazewarn_response::ReductionList::from_xlsx(data, &hazewarn_response::GradeRuleTable::builtin());
});
