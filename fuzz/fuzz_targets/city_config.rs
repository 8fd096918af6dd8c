//! Any text as a city configuration: an error naming the key or a checked configuration.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hazewarn_scheduler::Config::parse(text, std::path::Path::new("/tmp"));
    }
});
