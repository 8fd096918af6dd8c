//! Any bytes as a reduction-list CSV: located problems or a list, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hazewarn_response::ReductionList::from_csv(data, &hazewarn_response::GradeRuleTable::builtin());
});
