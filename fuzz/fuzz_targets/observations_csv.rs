//! Any bytes as an observations file: an error or a table, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hazewarn_ingest::ingest_bytes(vec![("fuzz.csv".into(), data.to_vec())], &Default::default());
});
